"""A reset request for a known address takes as long as one for an unknown address.

The answer is the same page either way; its time told them apart. Sending the
mail inside the request cost a known address about 7 ms against 2 ms; with
the finished mail queued instead, the token write and the rendering still
made it about twice as slow (1.6 to 3 times, measured with the test below).
The form now queues a mail task and nothing else, whatever the address.

Against a live server, with the queue and a real SMTP sink: 30 requests for
a known and 30 for unknown addresses, in pairs, the order alternating within
each pair. Each known request is compared with the unknown one timed beside
it, so that both see the same load on a shared machine, and the median of
the 30 ratios must be within 10% of 1. The machine this runs on is shared,
so a trial may be disturbed; up to five trials are made and one must pass.
(Work done only for known addresses shifts every trial: the old form gave
1.7 to 2.3 in every one.)
"""

# ruff: noqa: F811 - pytest fixtures imported from mail_support

from __future__ import annotations

import gc
import re
import statistics
import time

import pytest
import requests

from tests.functional.registration.helpers import signup, unique_email
from tests.mail_support import mail_queue  # noqa: F401 - fixture

pytestmark = pytest.mark.live

PAIRS = 30
TRIALS = 5
WARM_UP = 5
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_reset_answers_known_and_unknown_addresses_in_the_same_time(
    live_server, make_app, mail_queue, smtp_server
):
    server = live_server()
    browser = make_app()  # the same app's settings: signs up, and runs the queue
    known = unique_email("known")
    signup(browser, known, status=302)
    client = requests.Session()
    token = _CSRF.search(client.get(f"{server.url}/account/reset", timeout=30).text)[1]
    known_requests = 0

    def reset(address: str) -> float:
        nonlocal known_requests
        start = time.perf_counter()
        answer = client.post(
            f"{server.url}/account/reset",
            data={"csrf_token": token, "email": address},
            timeout=30,
        )
        elapsed = time.perf_counter() - start
        assert answer.status_code == 200
        assert "If an account exists for" in answer.text
        if address == known:
            known_requests += 1
        return elapsed

    def trial() -> float:
        ratios = []
        for i in range(PAIRS):
            nobody = unique_email("nobody")
            if i % 2:
                ratios.append(reset(known) / reset(nobody))
            else:
                unknown_time = reset(nobody)
                ratios.append(reset(known) / unknown_time)
        return statistics.median(ratios)

    for _ in range(WARM_UP):
        reset(known)
        reset(unique_email("nobody"))
    found = []
    gc.collect()
    gc.disable()  # server and client share this process: no collector pauses
    try:
        for _ in range(TRIALS):
            found.append(trial())
            if 0.9 <= found[-1] <= 1.1:
                break
    finally:
        gc.enable()

    assert 0.9 <= found[-1] <= 1.1, f"median known/unknown ratio per trial: {found}"
    # and every known request did mail a link, from the queue
    assert mail_queue.deliver(browser) == 0
    resets = [m for m in smtp_server.to(known) if m["Subject"].startswith("Reset")]
    assert len(resets) == known_requests
