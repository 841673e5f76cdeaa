"""GET /api/auth/session with a valid session cookie vs a bare Pyramid JSON view.

Both are served the same way: the real site (``app.main``, as development.ini
configures it) under waitress in a subprocess, loaded over keep-alive HTTP
from two client processes on 127.0.0.1 (minimal raw-socket clients, so the
load generator takes as little of the machine as it can) that send back the
cookies each answer sets, as a browser does. The session cookie is a real
one, from a real signup and sign-in. Rounds alternate between the two paths,
each round starting with the other one; the figures are medians over rounds.
The cost ratio compares the server process's own CPU time per request
(every thread's, waitress included, from ``/proc/<pid>/task/*/schedstat``);
the throughput ratio is printed too.

Run: ``make bench`` or ``.venv/bin/python -m bench.session_read
[--rounds N] [--requests N] [--clients N] [--threads N]``"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from bench.common import Server, load

TARGET_RATIO = 1.3


def _cookies_from(response, jar: dict) -> None:
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            cookie = SimpleCookie()
            cookie.load(value.split(";", 1)[0])
            for name, morsel in cookie.items():
                if morsel.value:
                    jar[name] = morsel.value
                else:
                    jar.pop(name, None)


def _request(port: int, method: str, path: str, jar: dict, body: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    data = None
    if body is not None:
        data = urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    _cookies_from(response, jar)
    conn.close()
    return response.status, payload


def signed_in_cookies(port: int) -> dict:
    """Sign up and sign in like a browser; return its cookie jar."""
    jar: dict = {}
    email, password = "bench@example.com", "correct horse battery staple"
    status, body = _request(port, "GET", "/signup", jar)
    if status == 200:
        token = jar.get("csrf_token", "")
        _request(
            port,
            "POST",
            "/signup",
            jar,
            {
                "csrf_token": token,
                "email": email,
                "name": "Bench",
                "password": password,
                "password_confirm": password,
            },
        )
    _, csrf = _request(port, "GET", "/api/auth/csrf", jar)
    csrf_token = json.loads(csrf)["csrfToken"]
    _request(
        port,
        "POST",
        "/api/auth/callback/credentials",
        jar,
        {"csrfToken": csrf_token, "email": email, "password": password},
    )
    status, session = _request(port, "GET", "/api/auth/session", jar)
    if status != 200 or json.loads(session) is None:
        raise SystemExit(
            f"could not sign in for the benchmark: {status} {session[:200]!r}"
        )
    return jar


def server_cpu_seconds(pid: int) -> float:
    """Seconds of CPU the server process has used so far: the sum of its
    threads' time on a CPU, which ``/proc/<pid>/task/*/schedstat`` counts in
    nanoseconds (Linux; the clock-tick counters of ``/proc/<pid>/stat`` are
    too coarse for short rounds)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return total / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000, help="per path per round")
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=4, help="waitress worker threads"
    )
    args = parser.parse_args()

    server = Server(threads=args.threads)
    try:
        jar = signed_in_cookies(server.port)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
        paths = {"bare view": "/bare", "session read": "/api/auth/session"}
        for path in paths.values():  # warm up
            load(server.port, path, headers, requests=400, clients=args.clients)
        results: dict[str, list] = {name: [] for name in paths}
        cpu: dict[str, list[float]] = {name: [] for name in paths}
        for round_no in range(args.rounds):
            # Alternate which path goes first, so a drift in the machine's
            # speed during a round favours neither.
            order = list(paths.items())
            if round_no % 2:
                order.reverse()
            for name, path in order:
                before = server_cpu_seconds(server.proc.pid)
                result = load(
                    server.port,
                    path,
                    headers,
                    requests=args.requests,
                    clients=args.clients,
                )
                used = server_cpu_seconds(server.proc.pid) - before
                if result.errors:
                    raise SystemExit(f"{name}: {result.errors} non-200 answers")
                results[name].append(result)
                cpu[name].append(used / result.requests * 1e6)
    finally:
        server.close()

    print(
        f"{args.rounds} rounds x {args.requests} requests per path, "
        f"{args.clients} keep-alive clients, waitress {args.threads} threads, 127.0.0.1"
    )
    print(
        f"{'path':<14} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server CPU/request':>19}"
    )
    for name, runs in results.items():
        rps = statistics.median(r.rps for r in runs)
        p50 = statistics.median(r.p50_ms for r in runs)
        p99 = statistics.median(r.p99_ms for r in runs)
        cpu_us = statistics.median(cpu[name])
        print(f"{name:<14} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f} {cpu_us:>16.0f} us")
    # Each round times the two paths back to back, so a round's ratio compares
    # like with like on a machine whose speed drifts; the figure is the median
    # over rounds. The cost is the server's own CPU time per request (waitress
    # included), which the load generator's share of this machine's cores
    # does not move; the throughput ratio is printed beside it.
    cost = sorted(
        s / b for b, s in zip(cpu["bare view"], cpu["session read"], strict=True)
    )
    speed = sorted(
        b.rps / s.rps
        for b, s in zip(results["bare view"], results["session read"], strict=True)
    )
    ratio = statistics.median(cost)
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(
        f"cost ratio session/bare (server CPU per request): {ratio:.2f}x, median of "
        f"{len(cost)} rounds, range {cost[0]:.2f}-{cost[-1]:.2f} "
        f"({verdict} the {TARGET_RATIO}x target)"
    )
    print(
        f"throughput ratio bare/session (req/s): {statistics.median(speed):.2f}x, "
        f"range {speed[0]:.2f}-{speed[-1]:.2f}"
    )


if __name__ == "__main__":
    main()
