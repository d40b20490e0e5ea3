"""Request and response bodies (marshmallow 4), one module per part of the API."""
