"""A test add-on: records pyramid_retry's retries and lets a test act between
attempts (``registry["test.before_retry"]``, a callable), e.g. bring the
database back exactly after the first attempt failed."""

from __future__ import annotations

from pyramid_retry import IBeforeRetry

RETRIES = "test.retries"
BEFORE_RETRY = "test.before_retry"


def before_retry(event) -> None:
    registry = event.request.registry
    registry[RETRIES].append(type(event.exception).__name__)
    hook = registry.get(BEFORE_RETRY)
    if hook is not None:
        hook()


def includeme(config) -> None:
    config.registry[RETRIES] = []
    config.add_subscriber(before_retry, IBeforeRetry)
