"""``hourbook serve``: the API under gunicorn (configuration, logger,
worker class, WSGI app)."""
