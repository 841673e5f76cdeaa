"""Fixtures of the advisory suite."""

from __future__ import annotations

import types

import pytest


@pytest.fixture
def envelopes(smtp_server) -> list[list[str]]:
    """The SMTP envelope recipients (``RCPT TO``) of each message the real
    SMTP server accepts, in order.

    A mail header can name one address while the envelope names two: the
    envelope is where a message really goes, so the mail tests read it.
    """
    seen: list[list[str]] = []
    handle_data = smtp_server.handle_DATA

    async def recording(self, server, session, envelope):
        seen.append(list(envelope.rcpt_tos))
        return await handle_data(server, session, envelope)

    # aiosmtpd looks the hook up on the handler for each new connection.
    smtp_server.handle_DATA = types.MethodType(recording, smtp_server)
    return seen
