"""Signup, email verification and password reset, outside the auth core (in progress)."""


def includeme(config) -> None:
    pass
