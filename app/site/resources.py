"""The site's resources: the members area, guarded by an ACL."""

from __future__ import annotations

from pyramid.authorization import DENY_ALL, Allow, Authenticated


class MembersArea:
    """``/members``: only signed-in people hold the ``members`` permission."""

    __acl__ = [(Allow, Authenticated, "members"), DENY_ALL]

    def __init__(self, parent, name: str, request) -> None:
        self.__parent__ = parent
        self.__name__ = name

    def __getitem__(self, name: str):
        raise KeyError(name)
