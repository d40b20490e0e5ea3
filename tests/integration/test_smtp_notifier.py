"""The SMTP adapter against a real SMTP server (aiosmtpd) started by the test on a free port."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from adapters.notifications.mail import SmtpNotifier
from booking.ports import Email
from tests.integration.payments.conftest import free_port

INVITE = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n"
CONFIRMATION = Email(
    to="cleo@example.com",
    subject="Booking confirmed: Zoë Plumber, Monday 10:00",
    body="Your booking is confirmed.\n",
    attachments=[("booking.ics", "text/calendar", INVITE)],
)


class Mailbox:
    """An aiosmtpd handler that keeps what it receives, and who logged in to send it."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"mailer", b"s3cret pass"
        )
        if ok:
            self.logins.append("mailer")
        return AuthResult(success=ok, handled=False)  # the server answers 535 on a failure

    def received(self) -> EmailMessage:
        [envelope] = self.envelopes
        content = envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message


def serve(mailbox: Mailbox, port: int) -> Controller:
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port,
        authenticator=mailbox.authenticate, auth_require_tls=False,  # a local test server
    )
    controller.start()
    return controller


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = serve(box, port)
    yield box, port
    controller.stop()


def test_a_message_arrives_with_its_recipient_subject_and_calendar_invite(
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox

    SmtpNotifier(f"smtp://127.0.0.1:{port}", timeout=5).send(CONFIRMATION)

    [envelope] = box.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("no-reply@hourbook.invalid",
                                                       ["cleo@example.com"])
    message = box.received()
    assert message["To"] == "cleo@example.com"
    assert message["Subject"] == "Booking confirmed: Zoë Plumber, Monday 10:00"
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == "Your booking is confirmed.\n"
    [invite] = message.iter_attachments()
    assert invite.get_content_type() == "text/calendar"
    assert invite.get_param("method") == "PUBLISH"
    assert invite.get_filename() == "booking.ics"
    assert invite.get_content().replace("\r\n", "\n") == INVITE.replace("\r\n", "\n")


def test_the_url_credentials_log_in_before_sending(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox

    SmtpNotifier(f"smtp://mailer:s3cret%20pass@127.0.0.1:{port}", timeout=5).send(CONFIRMATION)

    assert box.logins == ["mailer"]
    assert len(box.envelopes) == 1


def test_wrong_credentials_raise_and_send_nothing(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox

    with pytest.raises(smtplib.SMTPAuthenticationError):
        SmtpNotifier(f"smtp://mailer:guess@127.0.0.1:{port}", timeout=5).send(CONFIRMATION)
    assert box.envelopes == []


def test_a_refused_connection_raises_so_the_job_is_retried_and_the_retry_delivers() -> None:
    port = free_port()  # nothing listens there yet
    notifier = SmtpNotifier(f"smtp://127.0.0.1:{port}", timeout=5)
    with pytest.raises(ConnectionRefusedError):
        notifier.send(CONFIRMATION)

    box = Mailbox()
    controller = serve(box, port)  # the mail server is back
    try:
        notifier.send(CONFIRMATION)
    finally:
        controller.stop()

    assert box.received()["Subject"] == CONFIRMATION.subject
