"""Marketplace benchmarks: ``python bench/marketplace.py`` prints a Markdown table for the README.

1. Search p50/p95 over 10,000 published skills, on SQLite (FTS5) and on PostgreSQL
   (tsvector + GIN), for a mix of queries: one-word and two-word prefix searches (as typed),
   a category filter, a tag filter, and sorts by rating and by newest, each with the total
   count and the first page of 20. Measured at the store (``Marketplace.search``: the
   query, the count and the read models the API returns), one query at a time.
2. Publish plus scan of a typical skill (the ``skillworks new`` sample): unpack and check,
   store, and all five scanners, end to end through ``Marketplace.publish``; and each
   scanner's share.

The 10,000 skills are written straight into the tables with the store's own models and
search indexing: publishing each through the scanners would take hours and measure the
scanners, not search. PostgreSQL's database is made and dropped (``bench.postgres``).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.postgres import temporary_database  # noqa: E402
from skills.definition import load_skill_definition  # noqa: E402
from skills.estimates import percentile  # noqa: E402
from skills.marketplace import search  # noqa: E402
from skills.marketplace.identity import ADMIN  # noqa: E402
from skills.marketplace.models import Publisher, Skill, SkillVersion  # noqa: E402
from skills.marketplace.packing import pack_skill_folder  # noqa: E402
from skills.marketplace.publish import PackageUpload  # noqa: E402
from skills.marketplace.scaffold import scaffold_skill  # noqa: E402
from skills.marketplace.scan import SCANNERS  # noqa: E402
from skills.marketplace.signing import PublisherKey, package_digest  # noqa: E402
from skills.marketplace.store import Marketplace  # noqa: E402

SKILLS = 10_000
QUERIES_PER_KIND = 60
PUBLISH_RUNS = 5
CATEGORIES = ["frontend", "backend", "devops", "security", "cicd", "data", "automation", "testing"]
WORDS = ("react docker compose kubernetes helm terraform ansible python django flask fastapi node express nest vue svelte "
         "angular postgres mysql redis mongo kafka rabbit grafana prometheus lint format test coverage audit secrets sbom "
         "release deploy preview storybook tailwind webpack vite rollup jest pytest playwright cypress graphql grpc rest "
         "openapi swagger auth oauth jwt cache queue worker cron backup migrate schema seed scaffold template starter").split()
TAGS = WORDS[:40]
# Descriptions draw on a few thousand words (PyPI's popular names, as stand-ins for the
# vocabulary of real descriptions), so a word matches a realistic share of the skills.
VOCABULARY = (Path(__file__).resolve().parents[1] / "skills/marketplace/scan/data/popular-pypi.txt").read_text().split()[:3000]
QUERY_KINDS: dict[str, dict] = {
    "one word, typed prefix ('dock')": {"q": "dock"},
    "two words ('react test')": {"q": "react test"},
    "word + category": {"q": "deploy", "category": "devops"},
    "tag filter, sorted by rating": {"tag": "docker", "sort": "rating"},
    "no query, newest first": {"sort": "newest"},
    "no query, by installs": {"sort": "installs"},
}


@contextmanager
def databases() -> Iterator[list[tuple[str, str]]]:
    folder = Path(tempfile.mkdtemp(prefix="skillworks-bench-market-"))
    with temporary_database("bench_market") as postgresql:
        yield [("SQLite", f"sqlite:///{folder / 'market.db'}"), ("PostgreSQL", postgresql)]


def populate(market: Marketplace, count: int) -> None:
    rng = random.Random(7)
    key = PublisherKey.generate()
    with market.session() as session:
        publisher = Publisher(name="bench", origin="", public_key=key.public_key_b64, key_fingerprint="0" * 64)
        session.add(publisher)
        session.flush()
        for index in range(count):
            words = rng.sample(WORDS, 3)
            skill = Skill(
                id=f"{words[0]}-{words[1]}-{index}", publisher_id=publisher.id, origin="", name=f"{words[0].title()} {words[1].title()} {index}",
                category=rng.choice(CATEGORIES),
                description=f"Set up {words[0]} with {' '.join(rng.sample(VOCABULARY, 10))} for {words[2]} projects",
                tags=rng.sample(TAGS, 2), latest_version="1.0.0", status=rng.choices(["active", "untrusted", "banned"], [90, 8, 2])[0],
                installs=rng.randint(0, 50_000), rating_average=round(rng.uniform(1, 5), 2), rating_count=rng.randint(0, 300),
            )
            session.add(skill)
            session.add(SkillVersion(skill_id=skill.id, version="1.0.0", manifest={"id": skill.id}, readme="", sha256="0" * 64, size=1,
                                     archive_format="tar.gz", signature="", key_fingerprint="0" * 64, published_by="bench",
                                     origin="", status=skill.status, status_reason="bench"))
            search.index_skill(session, skill)
            if index % 1000 == 999:
                session.commit()
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.connection().exec_driver_sql("ANALYZE")
            session.commit()


def search_latency(market: Marketplace) -> dict[str, tuple[float, float, int]]:
    results = {}
    for kind, params in QUERY_KINDS.items():
        market.search(**params)  # warm the caches once
        samples = []
        total = 0
        for _ in range(QUERIES_PER_KIND):
            started = time.perf_counter()
            page = market.search(**params)
            samples.append((time.perf_counter() - started) * 1000)
            total = page.total
        results[kind] = (statistics.median(samples), percentile(samples, 0.95), total)
    return results


def publish_timings(url: str) -> tuple[list[float], dict[str, float]]:
    market = Marketplace.open(url)
    market.migrate()
    author = market.caller_for_token(market.create_token(ADMIN, "bench-author", "publisher"))
    key = PublisherKey.generate()
    durations = []
    folder = Path(tempfile.mkdtemp(prefix="skillworks-bench-publish-"))
    for run in range(PUBLISH_RUNS + 1):
        skill = scaffold_skill(f"typical-skill-{run}", folder)
        archive = pack_skill_folder(skill)
        started = time.perf_counter()
        result = market.publish(author, PackageUpload(archive, key.sign(package_digest(archive)), key.public_key_b64))
        if run:  # the first run imports the scanners
            durations.append(time.perf_counter() - started)
        assert result.status == "active", result
    definition = load_skill_definition(skill)
    shares = {}
    for name, scanner in SCANNERS.items():
        started = time.perf_counter()
        for _ in range(PUBLISH_RUNS):
            scanner(skill, definition)
        shares[name] = (time.perf_counter() - started) / PUBLISH_RUNS
    market.close()
    return durations, shares


def main() -> None:
    rows = []
    with databases() as urls:
        for label, url in urls:
            market = Marketplace.open(url)
            market.migrate()
            started = time.perf_counter()
            populate(market, SKILLS)
            print(f"{label}: {SKILLS} skills written in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            for kind, (median, p95, total) in search_latency(market).items():
                rows.append(f"| {label} | {kind} | {total} | {median:.2f} ms | {p95:.2f} ms |")
            market.close()
        durations, shares = publish_timings(urls[0][1])
    print(f"Search over {SKILLS:,} skills ({QUERIES_PER_KIND} queries of each kind, one at a time; goal p95 < 10 ms):\n")
    print("| database | query | matches | p50 | p95 |\n| --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print(f"\nPublish + scan of the `skillworks new` sample (SQLite, {PUBLISH_RUNS} runs): "
          f"median {statistics.median(durations):.2f} s, max {max(durations):.2f} s")
    print("Scanner share: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in shares.items()))


if __name__ == "__main__":
    main()
