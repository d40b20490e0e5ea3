"""``hourbook worker``: the RQ worker and the cron scheduler's child process."""
