"""Adapters to the event store's machinery that the domain does not need to know about."""
