"""The transactional mail queue in tests: a queue per test, delivered on demand.

``mail_queue`` sets ``mail.queue_path`` for the test's app and returns a
:class:`QueueDelivery`: ``deliver(app)`` runs that app's queue processor
once, composing its mail tasks and sending with its ``mail.*`` settings (so
into the ``smtp_server`` sink when a test uses it), the way ``authsite-mail
--once`` would. Import the fixture where needed
(``from tests.mail_support import mail_queue  # noqa: F401``).

``include_mail_view`` is a test add-on (``pyramid.includes``): ``POST
/test-mail`` queues one message to ``to`` and, with ``fail=1``, raises after
queueing, so the request's transaction rolls back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.mail import Message, queue_processor, send_mail
from tests.functional.registration.helpers import mount_post_view


class QueueDelivery:
    def __init__(self, path: Path) -> None:
        self.path = path

    def deliver(self, app) -> int:
        """Run ``app``'s queue processor once; return how many messages stay queued.

        ``app``: a webtest app, or anything with the app's ``registry`` (the
        ``live_app`` fixture's apps). Another app built with the same
        settings does the same work.
        """
        registry = getattr(app, "registry", None) or app.app.registry
        processor = queue_processor(registry)
        processor.send_messages()
        return processor.pending()

    def pending(self) -> int:
        """Messages and tasks waiting (in ``new`` and ``cur``, dot-files aside)."""
        return len([n for n in self.files("new") + self.files("cur") if n[0] != "."])

    def files(self, sub: str) -> list[str]:
        """Names in the queue's ``cur``, ``new`` or ``tmp``."""
        folder = self.path / sub
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def mail_queue(app_settings, tmp_path) -> QueueDelivery:
    path = tmp_path / "mail-queue"
    app_settings["mail.queue_path"] = str(path)
    return QueueDelivery(path)


# test add-on --------------------------------------------------------------------
def mail_view(context, request):
    send_mail(
        request,
        Message(
            subject="Queued by a test",
            sender="Authsite <no-reply@example.test>",
            recipients=[request.POST["to"]],
            body="This message was queued in the request's transaction.",
        ),
    )
    if request.POST.get("fail"):
        raise RuntimeError("the view failed after queueing mail")
    request.response.text = "queued"
    return request.response


def include_mail_view(config) -> None:
    mount_post_view(config, "/test-mail", mail_view)
