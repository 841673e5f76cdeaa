"""Serve one benchmarked app under waitress: ``python -m bench.serve APP``.

``product`` is the site built by ``app.main`` with :func:`bench.common.product_settings`
on an already migrated database; ``plain`` is the yardstick of
:mod:`bench.plain`. Both get the same waitress settings from the command line.
The process prints ``READY`` once its socket listens, then serves until
terminated.
"""

from __future__ import annotations

import argparse
import logging
import sys

from waitress.server import create_server

from bench.common import BENCH_SECRET, product_settings


def build(args: argparse.Namespace):
    if args.app == "plain":
        from bench.plain import make_app

        return make_app(BENCH_SECRET)
    from app import main

    overrides = dict(s.split("=", 1) for s in args.set)
    origin = f"http://127.0.0.1:{args.port}"
    return main(
        {}, **product_settings(args.database_url, origin, args.workdir, **overrides)
    )


def run() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("app", choices=("product", "plain"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--set", action="append", default=[], help="key=value setting")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # "Task queue depth is N": every thread was busy for a moment, which is
    # what a load test does; said for every app alike, it is only noise here
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(
        build(args), host="127.0.0.1", port=args.port, threads=args.threads
    )
    print("READY", flush=True)  # create_server has bound the socket
    sys.stdout.close()
    server.run()


if __name__ == "__main__":
    run()
