"""The HTTP API (SPEC section 7): routes that translate between HTTP and the application."""

from interfaces.api.app import create_app

__all__ = ["create_app"]
