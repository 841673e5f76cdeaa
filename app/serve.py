"""``make run``: pserve, with one clear line instead of a traceback when the
port is taken.

``python -m app.serve [--check] CONFIG [pserve options]``

The port comes from ``listen`` in the ini file's ``[server:main]`` section.
Before anything is loaded, each address waitress would listen on is bound
once, the way waitress binds it (``SO_REUSEADDR``, IPv6 sockets IPv6 only),
and let go: if one is taken, the command prints which, where to change it,
and exits with status 1. ``--check`` stops there (the Makefile checks before
it migrates the database). The check cannot reserve the port for the
server, so a server that starts in the moment between them is caught where
waitress binds, with the same line.
"""

from __future__ import annotations

import errno
import socket
import sys

import plaster
from pyramid.scripts import pserve
from waitress.adjustments import Adjustments

SERVER_SECTION = "server:main"
# The [server:main] keys that decide where waitress listens.
ADDRESS_KEYS = ("listen", "host", "port", "ipv4", "ipv6")


def server_settings(config_uri: str) -> dict[str, str]:
    return dict(plaster.get_settings(config_uri, SERVER_SECTION))


def listen_addresses(settings: dict[str, str]) -> list[tuple]:
    """``(family, socktype, proto, sockaddr)`` of each socket waitress would bind."""
    return Adjustments(**{k: settings[k] for k in ADDRESS_KEYS if k in settings}).listen


def taken_address(settings: dict[str, str]) -> tuple[str, int] | None:
    """The first (host, port) waitress would listen on that is in use, if any."""
    for family, socktype, proto, sockaddr in listen_addresses(settings):
        with socket.socket(family, socktype, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return sockaddr[0], sockaddr[1]
                # Anything else (no such address ...) is waitress's to report.
    return None


def port_taken_message(config_uri: str, settings: dict[str, str], port: int) -> str:
    path = config_uri.split("#", 1)[0]
    key = "listen" if "listen" in settings else "port"
    current = settings.get(key, str(port))
    example = current.rsplit(":", 1)[0] + f":{port + 1}" if ":" in current else port + 1
    return (
        f"Port {port} is already in use (another server is running there). "
        f"Stop it, or change `{key} = {current}` in the [{SERVER_SECTION}] section "
        f"of {path}, for example to `{key} = {example}`."
    )


def serve(args: list[str]) -> int:
    """pserve ``args``; a port taken when waitress binds it is the one line too."""
    try:
        return pserve.main(["pserve", *args]) or 0
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        settings = server_settings(args[0])
        # Whoever won the race holds the port now; else name the first one.
        taken = taken_address(settings) or listen_addresses(settings)[0][3]
        print(port_taken_message(args[0], settings, taken[1]), file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check_only = args[:1] == ["--check"]
    if check_only:
        args = args[1:]
    if not args:
        print(
            "usage: python -m app.serve [--check] CONFIG [pserve options]",
            file=sys.stderr,
        )
        return 2
    settings = server_settings(args[0])
    taken = taken_address(settings)
    if taken is not None:
        print(port_taken_message(args[0], settings, taken[1]), file=sys.stderr)
        return 1
    return 0 if check_only else serve(args)


if __name__ == "__main__":
    sys.exit(main())
