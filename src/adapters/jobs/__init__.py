"""Background work: the jobs, the runners (RQ and in-process), the outbox relay, the cron
scheduler."""
