"""The root of the resource tree, and the directive packages use to hang on it.

The site's URL space is a tree of location-aware resources (each has
``__name__`` and ``__parent__``). Packages don't edit this module to add
their part of the tree; they call ``config.add_resource_child(path, factory)``
from their ``includeme``::

    config.add_resource_child("/api/auth", AuthRoot)    # the auth core
    config.add_resource_child("/signup", SignupResource)  # registration

Intermediate segments (``api`` above) become plain :class:`Folder` resources.
Two packages claiming the same path is a configuration conflict at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.authorization import Allow, Everyone
from pyramid.exceptions import ConfigurationError

MOUNTS_KEY = "app.resources.mounts"

ResourceFactory = Callable[[Any, str, Any], Any]
"""``factory(parent, name, request) -> resource``"""


class Folder:
    """A container resource whose children were mounted by packages."""

    def __init__(self, parent: Any, name: str, children: dict, request) -> None:
        self.__parent__ = parent
        self.__name__ = name
        self._children = children
        self.request = request

    def __getitem__(self, name: str) -> Any:
        child = self._children[name]  # KeyError -> view lookup / 404
        if isinstance(child, dict):
            return Folder(self, name, child, self.request)
        return child(self, name, self.request)


class Root(Folder):
    """The root resource; its ACL lets everybody view public pages."""

    __acl__ = [(Allow, Everyone, "view")]

    def __init__(self, request) -> None:
        super().__init__(None, "", request.registry.get(MOUNTS_KEY, {}), request)


def _split(path: str) -> list[str]:
    parts = [p for p in path.strip().split("/") if p]
    if not parts:
        raise ConfigurationError(f"resource path {path!r} must not be the root")
    return parts


def add_resource_child(config, path: str, factory: ResourceFactory) -> None:
    """Mount ``factory`` at ``path`` (like ``/api/auth``) in the resource tree."""
    parts = _split(path)
    factory = config.maybe_dotted(factory)

    def register() -> None:
        tree = config.registry.setdefault(MOUNTS_KEY, {})
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigurationError(f"{path}: {part!r} is already a resource")
        if parts[-1] in node:
            raise ConfigurationError(f"resource path {path} is mounted twice")
        node[parts[-1]] = factory

    intr = config.introspectable("resource mounts", path, path, "resource mount")
    intr["factory"] = factory
    config.action(
        ("app.resource_child", tuple(parts)), register, introspectables=(intr,)
    )


def includeme(config) -> None:
    config.add_directive("add_resource_child", add_resource_child)
    config.set_root_factory(Root)
