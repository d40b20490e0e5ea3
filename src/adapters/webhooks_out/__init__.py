"""Outgoing webhooks: events published in the change's transaction, delivered signed by the worker.

- ``events``: which domain change is which webhook event type, and the versioned envelope;
- ``publisher``: writes events and their deliveries in the unit of work's transaction;
- ``endpoints``: the admin's endpoints, their secrets and rotation;
- ``signing``: the ``Hourbook-Signature`` header;
- ``addresses``: which URLs may be called (SSRF guard), checked at creation and at delivery;
- ``transport``: one POST to the checked address, no redirects, a time limit;
- ``retries``: exponential backoff with jitter over a window, then dead;
- ``deliveries``: the worker's side: claim due deliveries, send, record every attempt;
- ``stats``: what the metrics gauges read.
"""
