"""Configuration read from the environment (settings) and the store URL rules (storage):
what the composition root needs to build the application, outside the domain."""
