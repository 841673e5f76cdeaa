"""What every HTML page's head names: an icon, so that a browser does not ask
for ``/favicon.ico`` on each page view (a 404 and a console error each time;
the black-box review of ``make run`` saw them)."""

from __future__ import annotations

import pytest

from tests.functional.support import CREDENTIALS

pytestmark = pytest.mark.no_database


@pytest.mark.parametrize(
    "path, status",
    [
        ("/", 200),  # the site's layout
        ("/signup", 200),  # registration's pages use it too
        ("/nowhere", 404),  # and the error pages
        ("/api/auth/signin", 200),  # the core's own layout
        ("/api/auth/error", 200),
    ],
)
def test_every_page_names_an_icon(make_app, path, status):
    page = make_app(**CREDENTIALS).get(path, status=status)

    assert len(page.html.select('head link[rel="icon"]')) == 1
