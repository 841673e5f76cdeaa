"""Registration's functional fixtures.

``make_app`` here returns a new browser (its own cookie jar) on a shared app:
browsers with the same overrides talk to one app, as browsers talk to one
server. Building an app reads the common-password list and hashes the dummy
password, so sharing keeps the suite fast. Tests that need several processes
call ``make_wsgi`` themselves.
"""

from __future__ import annotations

import pytest
from webtest import TestApp


@pytest.fixture
def make_app(make_wsgi):
    apps = {}

    def factory(**overrides) -> TestApp:
        key = tuple(sorted(overrides.items()))
        if key not in apps:
            apps[key] = make_wsgi(**overrides)
        return TestApp(apps[key])

    return factory
