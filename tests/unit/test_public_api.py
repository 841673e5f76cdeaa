"""The core's public API: ``app.auth.__all__`` is what an application needs.

import-linter cannot see names re-exported by a package, so these checks
read the sources with ``ast``: what the registration package and the site
import from ``app.auth`` must be public, nothing internal may be, and no
package reaches into another's underscore names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import app.auth

APP = Path(app.auth.__file__).resolve().parents[1]
#: the core's machinery: an application configures the core, never builds it
INTERNAL = {
    "get_core",
    "AuthCore",
    "IAuthCore",
    "Callbacks",
    "SQLAlchemyAdapter",
    "parse_settings",
    "JWTCodec",
    "SessionService",
    "AuthFlow",
}


def modules() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(APP.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, ast.parse(path.read_text(), str(path))))
    return found


def imports_from(module: ast.Module) -> list[ast.ImportFrom]:
    return [n for n in ast.walk(module) if isinstance(n, ast.ImportFrom) and n.module]


def package_of(name: str) -> str:
    """``app.auth.sessions`` -> ``app.auth``; ``app.csrf`` -> ``app.csrf``."""
    return ".".join(name.split(".")[:2])


def test_all_holds_no_internal_machinery():
    assert not INTERNAL & set(app.auth.__all__)
    assert all(hasattr(app.auth, name) for name in app.auth.__all__)


def test_every_name_the_rest_of_the_app_imports_from_the_core_is_public():
    used = {
        (name, alias.name)
        for name, module in modules()
        if package_of(name) != "app.auth"
        for node in imports_from(module)
        if node.module == "app.auth"
        for alias in node.names
    }

    assert used  # the registration package and the site do use the core
    assert {n for _, n in used} <= set(app.auth.__all__), sorted(used)


def test_no_package_imports_another_packages_underscore_names():
    crossing = [
        (name, node.module, alias.name)
        for name, module in modules()
        for node in imports_from(module)
        if node.module.startswith("app.")
        and package_of(node.module) != package_of(name)
        for alias in node.names
        if alias.name.startswith("_")
        or any(p.startswith("_") for p in node.module.split("."))
    ]

    assert crossing == []
