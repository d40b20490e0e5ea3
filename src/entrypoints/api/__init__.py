"""The REST API: a Flask app factory with flask-smorest blueprints (``create_app``)."""
