"""E-mail copies of inbox messages, when the deployment configures SMTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import smtplib
from email.message import EmailMessage
from email.utils import format_datetime

import msgspec


class Mailer(msgspec.Struct, frozen=True):
    """A plain SMTP relay (``CLINTECH_SMTP_HOST=host[:port]``, sender ``CLINTECH_SMTP_FROM``)."""

    host: str
    port: int = 25
    sender: str = "clintech@localhost"

    def _send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        from core.timefmt import SHANGHAI

        # Sent at, in Beijing time (+0800), as every time the portal shows (issue 11 point 5).
        message["Date"] = format_datetime(dt.datetime.now(SHANGHAI).replace(microsecond=0))
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(message)

    async def send(self, to: str, subject: str, body: str) -> None:
        await asyncio.to_thread(self._send, to, subject, body)


def configured() -> Mailer | None:
    """The deployment's mailer, or ``None`` when SMTP is not configured."""
    from core.settings import get_settings

    settings = get_settings()
    value = settings.smtp_host
    if not value:
        return None
    host, _, port = value.partition(":")
    return Mailer(host=host, port=int(port or 25),
                  sender=settings.smtp_from)
