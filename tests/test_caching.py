"""Probes of the machine are shared: one in flight per question, refreshed before they expire."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from skills.caching import cached_for
from tests.conftest import running_facade


class CountingProbe:
    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, tool: str) -> str:
        with self.lock:
            self.calls += 1
        time.sleep(0.2)  # a process starting and answering
        return f"{tool} 1.{self.calls}"


def ask_at_once(function, count: int = 20) -> list[str]:  # type: ignore[no-untyped-def]
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(function("npm"))) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_twenty_callers_after_expiry_share_one_probe() -> None:
    probe = CountingProbe()
    version = cached_for(0.3, refresh_after=10)(probe)
    ask_at_once(version)
    time.sleep(0.4)  # expired

    answers = ask_at_once(version)

    assert probe.calls == 2 and set(answers) == {"npm 1.2"}


def test_an_answer_about_to_expire_is_refreshed_in_the_background_while_callers_get_it_at_once() -> None:
    probe = CountingProbe()
    version = cached_for(1.0, refresh_after=0.1)(probe)
    version("npm")
    time.sleep(0.15)  # old enough to refresh, not expired

    started = time.monotonic()
    answers = ask_at_once(version)

    assert time.monotonic() - started < 0.15, "nobody waited for the refresh"
    assert set(answers) == {"npm 1.1"}
    time.sleep(0.3)
    assert probe.calls == 2 and version("npm") == "npm 1.2"


def test_known_answers_without_waiting_or_says_it_cannot() -> None:
    """What the event loop asks (``GET /api/skill-metadata``): never a blocking probe."""
    probe = CountingProbe()
    version = cached_for(1.0, refresh_after=0.1)(probe)

    started = time.monotonic()
    assert version.known("npm") == (False, None)  # type: ignore[attr-defined]
    assert time.monotonic() - started < 0.1 and probe.calls == 0

    version("npm")
    time.sleep(0.15)  # old enough to refresh, not expired
    assert version.known("npm") == (True, "npm 1.1")  # type: ignore[attr-defined]
    time.sleep(0.3)
    assert probe.calls == 2 and version.known("npm") == (True, "npm 1.2")  # type: ignore[attr-defined]
    time.sleep(1.5)  # expired, whatever refresh the last call started: a caller must wait
    assert version.known("npm") == (False, None)  # type: ignore[attr-defined]


def test_a_failing_probe_fails_every_waiter_and_is_tried_again_next_time() -> None:
    calls = []

    def broken(tool: str) -> str:
        calls.append(tool)
        time.sleep(0.1)
        raise OSError("cannot start")

    version = cached_for(60)(broken)
    errors = []

    def ask() -> None:
        try:
            version("npm")
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 10 and len(calls) == 1
    threading.Thread(target=ask).run()
    assert len(calls) == 2


def test_twenty_concurrent_validations_on_a_cold_facade_start_one_probe_per_question(
    prefect_server: str, tmp_path: Path
) -> None:
    """Every tool the skills need is wrapped to log its invocations; the facade starts cold."""
    log = tmp_path / "probes.log"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    for tool in ("node", "npm", "git"):
        real = shutil.which(tool)
        assert real, f"{tool} is needed by react-setup"
        wrapper = wrappers / tool
        wrapper.write_text(f'#!/bin/sh\necho "{tool} $*" >> {log}\nexec {real} "$@"\n')
        wrapper.chmod(0o755)
    request = {"skillId": "react-setup", "parameters": {"projectName": "probed"}, "level": "expert"}

    with running_facade("probed-facade", env={"PATH": f"{wrappers}{os.pathsep}{os.environ['PATH']}"}) as base:
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda _: httpx.post(f"{base}/api/validate-skill", json=request, timeout=60), range(20)))

    assert {answer.status_code for answer in answers} == {200}
    probes = Counter(log.read_text().splitlines())
    assert probes and max(probes.values()) == 1, probes
