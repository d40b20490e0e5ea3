"""Email out (SMTP or a folder) and the sent log that keeps a retried job from sending twice."""
