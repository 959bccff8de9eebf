"""Development tools: local services, demo data, benchmark support. Not used by the service."""
