"""Serve the real site plus one bare JSON view under waitress, for benchmarks.

``python -m bench.serve --port N --db FILE`` migrates a fresh SQLite file,
builds the app with ``app.main`` and adds ``GET /bare`` (a plain Pyramid JSON
view on the root, no session read), then prints ``READY`` and serves.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pyramid.config import Configurator
from waitress import serve

from app import main
from app.resources import Root
from bench.common import bench_settings


def bare(request):
    return {"ok": True}


def build(db: str, **overrides: str):
    from tests.conftest import migrate

    migrate(f"sqlite:///{db}")
    wsgi = main({}, **bench_settings(db, **overrides))
    config = Configurator(registry=wsgi.registry)
    config.add_view(
        bare, context=Root, name="bare", renderer="json", request_method="GET"
    )
    config.commit()
    return wsgi


def run() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--set", action="append", default=[], help="key=value setting")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    overrides = dict(s.split("=", 1) for s in args.set)
    wsgi = build(args.db, **overrides)
    print("READY", flush=True)
    sys.stdout.close()
    serve(wsgi, host="127.0.0.1", port=args.port, threads=args.threads, _quiet=True)


if __name__ == "__main__":
    run()
