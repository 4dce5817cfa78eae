"""Does scraping ``/metrics`` every second change how long runs take?

``python bench/metrics_scrape.py`` starts a fresh ``skillworks up`` and runs the benchmark's
load (``bench/figures.py``: 20 react-setup executions in flight at once) in rounds that
alternate between no scraping and a scraper reading ``GET /metrics`` every second, as a
Prometheus would (at 15 times its default rate). Each run's time from POST to ``complete``
is recorded; the effect of scraping is the difference between the medians with and without
it, and the noise is the difference between the rounds without it. It prints a Markdown
table and writes ``bench/metrics_scrape.json``.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import CONCURRENT, execute, react_request  # noqa: E402
from bench.stack import running_stack  # noqa: E402
from skills.estimates import percentile  # noqa: E402

ROUNDS = ("without", "with", "without", "with")
SCRAPE_EVERY_SECONDS = 1.0
SETTLE_SECONDS = 10.0  # between rounds: the Prefect server (SQLite) takes in the last round's events
RESULTS = Path(__file__).with_name("metrics_scrape.json")


class Scraper:
    """Reads ``/metrics`` every second on its own thread; keeps each scrape's latency."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.latencies: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._scrape, daemon=True)

    def __enter__(self) -> Scraper:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join()

    def _scrape(self) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                response = client.get("/metrics")
                assert response.status_code == 200, response.text
                self.latencies.append(time.perf_counter() - started)
                self.stop.wait(max(0.0, SCRAPE_EVERY_SECONDS - (time.perf_counter() - started)))


def load_round(base: str) -> list[float]:
    """``CONCURRENT`` executions at once: each one's seconds from POST to ``complete``."""

    def one(_: int) -> float:
        with httpx.Client(base_url=base, timeout=httpx.Timeout(30, read=300)) as client:
            marks = execute(client, react_request("scrape"))
            assert marks["outcome"] == "complete", marks
            return float(marks["end"])

    with ThreadPoolExecutor(CONCURRENT) as pool:
        return list(pool.map(one, range(CONCURRENT)))


def main() -> None:
    rounds: list[dict[str, object]] = []
    scrape_latencies: list[float] = []
    with running_stack() as (base, _workspace, _prefect_api):
        load_round(base)  # warm-up: first imports, first deployment runs
        for scraping in ROUNDS:
            time.sleep(SETTLE_SECONDS)
            if scraping == "with":
                with Scraper(base) as scraper:
                    seconds = load_round(base)
                scrape_latencies += scraper.latencies
            else:
                seconds = load_round(base)
            rounds.append({"scraping": scraping, "median": statistics.median(seconds), "p95": percentile(seconds, 0.95), "runs": seconds})
    medians = {kind: [r["median"] for r in rounds if r["scraping"] == kind] for kind in ("without", "with")}
    effect = statistics.mean(medians["with"]) - statistics.mean(medians["without"])  # type: ignore[arg-type]
    noise = abs(medians["without"][0] - medians["without"][1])  # type: ignore[operator]
    summary = {
        "concurrent_runs": CONCURRENT, "scrape_every_seconds": SCRAPE_EVERY_SECONDS, "rounds": rounds,
        "effect_seconds": effect, "noise_seconds": noise, "scrapes": len(scrape_latencies),
        "scrape_p99_ms": percentile(scrape_latencies, 0.99) * 1000,
    }
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print("| round | /metrics scraped every second | median run (POST → complete) | p95 run |\n| --- | --- | --- | --- |")
    for index, round_ in enumerate(rounds, start=1):
        print(f"| {index} | {round_['scraping']} | {round_['median']:.2f} s | {round_['p95']:.2f} s |")
    print(f"\nEffect of scraping on the median: {effect:+.2f} s; noise between the rounds without it: {noise:.2f} s. "
          f"{len(scrape_latencies)} scrapes, p99 {summary['scrape_p99_ms']:.1f} ms.")


if __name__ == "__main__":
    main()
