"""The page cache's circuit breaker (hub/cache.py): after a failure the cache is skipped for
a while, then one caller tries it again; and the short Redis timeouts that bound the failure.
(With a real hanging Redis: test_cache_outage.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

from django.conf import settings

from hub.cache import CircuitBreaker

from .test_settings import PRODUCTION


def redis_options(**env: str) -> dict:
    """CACHES["default"]["OPTIONS"] of production settings with this environment."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, hub.settings as s; print(json.dumps(s.CACHES['default']['OPTIONS']))",
        ],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", **PRODUCTION, "REDIS_URL": "redis://cache:6379/0", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_redis_gets_a_quarter_second_to_connect_or_answer_by_default():
    assert redis_options() == {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}


def test_the_redis_timeout_is_configurable():
    assert redis_options(HUB_CACHE_TIMEOUT_MS="100") == {
        "socket_connect_timeout": 0.1,
        "socket_timeout": 0.1,
    }


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(seconds: float = 10) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    return CircuitBreaker(lambda: seconds, clock), clock


def test_closed_it_lets_every_call_through():
    circuit, _clock = breaker()
    assert all(circuit.allows() for _ in range(5))
    assert not circuit.is_open


def test_after_a_failure_nobody_tries_until_the_period_is_over():
    circuit, clock = breaker(10)
    circuit.failed()
    assert circuit.is_open
    assert not circuit.allows()
    clock.now += 9.9
    assert not circuit.allows()


def test_after_the_period_one_caller_tries_and_the_others_still_skip():
    circuit, clock = breaker(10)
    circuit.failed()
    clock.now += 10
    assert circuit.allows()  # the trial
    assert not circuit.allows()
    assert not circuit.allows()


def test_a_successful_trial_closes_it():
    circuit, clock = breaker(10)
    circuit.failed()
    clock.now += 10
    assert circuit.allows()
    circuit.succeeded()
    assert not circuit.is_open
    assert circuit.allows() and circuit.allows()


def test_a_failed_trial_opens_it_for_another_period():
    circuit, clock = breaker(10)
    circuit.failed()
    clock.now += 10
    assert circuit.allows()
    circuit.failed()
    clock.now += 9
    assert not circuit.allows()
    clock.now += 1
    assert circuit.allows()


def test_a_trial_that_never_reports_lets_another_caller_try_a_period_later():
    circuit, clock = breaker(10)
    circuit.failed()
    clock.now += 10
    assert circuit.allows()  # and this caller vanishes
    clock.now += 10
    assert circuit.allows()


def test_the_period_is_read_at_each_failure():
    seconds = [10.0]
    clock = Clock()
    circuit = CircuitBreaker(lambda: seconds[0], clock)
    circuit.failed()
    seconds[0] = 1.0
    clock.now += 1
    assert not circuit.allows()  # the period of that failure: 10 s
    clock.now += 9
    assert circuit.allows()
    circuit.failed()
    clock.now += 1
    assert circuit.allows()  # the new period: 1 s


def test_zero_seconds_means_every_call_tries_again():
    circuit, _clock = breaker(0)
    circuit.failed()
    assert circuit.allows()
    circuit.failed()
    assert circuit.allows()


def test_only_one_of_many_threads_gets_the_trial():
    circuit, clock = breaker(10)
    circuit.failed()
    clock.now += 10
    start = threading.Barrier(8)
    answers: list[bool] = []

    def ask() -> None:
        start.wait()
        answers.append(circuit.allows())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [False] * 7 + [True]
