"""Auth.js's default redirect rule (spec §10) and how callbacks chain."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from app.auth.callbacks import Callbacks, default_redirect, default_session

BASE = "http://localhost:3000"


# the default redirect callback --------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/", BASE + "/"),
        ("/dashboard?tab=1#x", BASE + "/dashboard?tab=1#x"),
        # Starts with "/", so it is joined to the origin: a same-origin path.
        ("//evil.com", BASE + "//evil.com"),
        ("//evil.com/steal", BASE + "//evil.com/steal"),
    ],
)
def test_relative_path_is_joined_to_the_origin(url, expected):
    assert default_redirect(url, BASE) == expected


@pytest.mark.parametrize(
    "url",
    [BASE, BASE + "/", BASE + "/a/b?c=d", BASE + "/a#frag"],
)
def test_absolute_url_on_the_same_origin_is_kept(url):
    assert default_redirect(url, BASE) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com/",
        "http://evil.com",
        "https://localhost:3000/",  # other scheme
        "http://localhost:3001/",  # other port
        "http://localhost/",  # default port is another origin than :3000
        "http://localhost:3000.evil.com/",
        "http://evil.com/http://localhost:3000",
        "javascript:alert(1)",
        "data:text/html,hi",
        "mailto:a@b.c",
    ],
)
def test_foreign_origin_becomes_the_origin(url):
    assert default_redirect(url, BASE) == BASE


@pytest.mark.parametrize("url", ["dashboard", "evil.com", "", "http://[::1"])
def test_relative_url_without_leading_slash_or_unparsable_url_is_not_followed(url):
    # Auth.js's `new URL(url)` throws here; the result is never the given URL.
    assert default_redirect(url, BASE) == BASE


# default session body -----------------------------------------------------------------
def test_default_session_maps_picture_to_image_and_omits_missing_claims():
    assert default_session({"name": "A", "picture": "p", "sub": "1"}) == {
        "user": {"name": "A", "image": "p"}
    }
    assert default_session({"sub": "1", "email": None}) == {"user": {}}


# chaining -----------------------------------------------------------------------------
def test_no_signin_callback_allows():
    assert Callbacks().run_signin(None, user=None) is True


def test_signin_callbacks_stop_at_the_first_refusal():
    calls = []

    def allow(request, **kw):
        calls.append("allow")
        return True

    def deny(request, **kw):
        calls.append("deny")
        return False

    def never(request, **kw):
        calls.append("never")
        return True

    assert Callbacks(signin=(allow, deny, never)).run_signin(None, user=None) is False
    assert calls == ["allow", "deny"]


@pytest.mark.parametrize("result", [None, 0, ""])
def test_falsy_signin_result_refuses(result):
    assert Callbacks(signin=(lambda request, **kw: result,)).run_signin(None) is False


def test_signin_string_result_is_a_redirect():
    callbacks = Callbacks(signin=(lambda request, **kw: "/welcome",))

    assert callbacks.run_signin(None) == "/welcome"


def test_redirect_callbacks_chain_and_replace_the_default():
    first = lambda request, *, url, base_url, **kw: url + "?a=1"  # noqa: E731
    second = lambda request, *, url, base_url, **kw: url + "&b=2"  # noqa: E731

    result = Callbacks(redirect=(first, second)).run_redirect(
        None, "https://x.test/", BASE
    )

    assert result == "https://x.test/?a=1&b=2"


def test_without_redirect_callback_the_default_applies():
    assert Callbacks().run_redirect(None, "https://evil.com", BASE) == BASE


def test_jwt_callbacks_chain_and_none_ends_the_chain():
    calls = []

    def add(request, *, token, **kw):
        calls.append("add")
        return {**token, "role": "admin"}

    def end(request, *, token, **kw):
        calls.append("end")
        return None

    def never(request, *, token, **kw):
        calls.append("never")
        return token

    assert Callbacks(jwt=(add,)).run_jwt(None, {"sub": "1"}) == {
        "sub": "1",
        "role": "admin",
    }
    assert Callbacks(jwt=(add, end, never)).run_jwt(None, {"sub": "1"}) is None
    assert calls == ["add", "add", "end"]


def test_jwt_callback_receives_the_trigger_and_extra_arguments():
    seen = {}

    def capture(request, *, token, **kw):
        seen.update(kw)
        return token

    Callbacks(jwt=(capture,)).run_jwt(
        None, {"sub": "1"}, trigger="update", session={"x": 1}
    )

    assert seen == {"trigger": "update", "session": {"x": 1}}


def test_session_callbacks_chain():
    one = lambda request, *, session, **kw: {**session, "one": 1}  # noqa: E731
    two = lambda request, *, session, **kw: {**session, "two": 2}  # noqa: E731

    assert Callbacks(session=(one, two)).run_session(None, {"user": {}}) == {
        "user": {},
        "one": 1,
        "two": 2,
    }


def test_signin_callback_that_raises_refuses_the_sign_in(caplog):
    def broken(request, **kw):
        raise RuntimeError("boom")

    assert Callbacks(signin=(broken,)).run_signin(None) is False
    assert "boom" in caplog.text


def test_signin_callback_meeting_an_unreachable_database_lets_it_through():
    # Not a refusal (AccessDenied) but "try again": the site's 503 answers.
    def database_down(request, **kw):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with pytest.raises(OperationalError):
        Callbacks(signin=(database_down,)).run_signin(None)
