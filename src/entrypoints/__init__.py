"""Driving entrypoints: the Flask app, the RQ worker, the CLI and the composition root."""
