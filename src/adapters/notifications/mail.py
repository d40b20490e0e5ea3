"""Email out: SMTP for deployments, a folder of .eml files for the embedded default."""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from booking.notifications import SUBJECT_LIMIT, one_line
from booking.ports import Email

DEFAULT_SENDER = "hourbook <no-reply@hourbook.invalid>"


def to_message(email: Email, sender: str) -> EmailMessage:
    """A MIME message: the plain-text body, then each attachment (calendars as text/calendar).

    The header fields are made one line again here (the email package refuses a line break in
    a header), so an Email built by any caller cannot fail to become a message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = one_line(email.to, SUBJECT_LIMIT)
    message["Subject"] = one_line(email.subject, SUBJECT_LIMIT)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="hourbook")
    message.set_content(email.body)
    for filename, mime_type, text in email.attachments:
        maintype, _, subtype = mime_type.partition("/")
        if maintype == "text":
            params = {"method": "PUBLISH"} if subtype == "calendar" else {}
            message.add_attachment(text, subtype=subtype, filename=filename, params=params)
        else:
            message.add_attachment(
                text.encode(), maintype=maintype, subtype=subtype, filename=filename
            )
    return message


class SmtpNotifier:
    """Sends through ``smtp://user:pass@host:port`` (STARTTLS with ``?starttls=1``) or
    ``smtps://…`` (TLS from the start). A failure raises, so the job is retried."""

    def __init__(self, smtp_url: str, *, sender: str = DEFAULT_SENDER, timeout: float = 30) -> None:
        parts = urlsplit(smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:port")
        self.tls = parts.scheme == "smtps"
        self.starttls = "starttls=1" in parts.query or "starttls=true" in parts.query
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout

    def send(self, email: Email) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP = (
            smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            if self.tls
            else smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        )
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username is not None:
                smtp.login(self.username, self.password or "")
            smtp.send_message(to_message(email, self.sender))


class FolderNotifier:
    """Writes each email as an .eml file (open it with any mail reader), newest last by name."""

    def __init__(self, directory: str | Path, *, sender: str = DEFAULT_SENDER) -> None:
        self.directory = Path(directory)
        self.sender = sender

    def send(self, email: Email) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        message = to_message(email, self.sender)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        token = str(message["Message-ID"]).strip("<>").split("@")[0][-12:]
        final = self.directory / f"{stamp}-{token}.eml"
        partial = final.with_suffix(".eml.partial")
        partial.write_bytes(bytes(message))
        partial.replace(final)  # readers never see half a file
