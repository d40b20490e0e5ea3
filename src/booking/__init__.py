"""hourbook's booking domain: professionals, their calendars, bookings and the rules between them.

Plain typed Python with no I/O: storage, payments, queues and the web reach it only through the
ports in :mod:`booking.ports`. Use cases live in :mod:`booking.services` (bookings and payments)
and :mod:`booking.catalogue` (professionals, clients, free slots, search).
"""

__version__ = "0.1.0"
