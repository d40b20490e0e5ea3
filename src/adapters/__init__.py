"""Driven adapters: storage, cache, payments, mail and queues behind the booking ports."""
