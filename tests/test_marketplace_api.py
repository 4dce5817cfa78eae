"""The marketplace through its API and CLI, on SQLite and PostgreSQL: a skill from ``skillworks new`` is
published, scanned active, found, rated and shown; roles, overrides, rescans and limits behave as documented."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from skills.marketplace.errors import ImmutableVersionError
from skills.marketplace.models import SkillVersion
from skills.marketplace.packing import pack_skill_folder
from skills.marketplace.signing import verify
from skills.marketplace.store import Marketplace
from tests.conftest import MarketFacade, marketplace_facade
from tests.marketplace_support import Publisher, create_account, skill_folder

SKILLWORKS = Path(sys.executable).parent / "skillworks"


@pytest.fixture(scope="module")
def market(store_backend: str, prefect_server: str) -> Iterator[MarketFacade]:
    with marketplace_facade(store_backend, f"api-{store_backend}") as facade:
        yield facade


@pytest.fixture(scope="module")
def publisher(market: MarketFacade) -> Publisher:
    return create_account(market.base, market.admin_token, "pat-publisher", "publisher")


@pytest.fixture(scope="module")
def user(market: MarketFacade) -> Publisher:
    return create_account(market.base, market.admin_token, "uma-user", "user")


def skillworks(*arguments: str, token: str, home: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "240", "SKILLWORKS_MARKETPLACE_TOKEN": token, "SKILLWORKS_HOME": str(home)}
    environment.pop("SKILLWORKS_API_TOKEN", None)
    return subprocess.run([str(SKILLWORKS), *arguments], capture_output=True, text=True, timeout=300, env=environment,
                          cwd=cwd, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def sample(market: MarketFacade, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """``skillworks new`` then ``skillworks publish``, as a publisher would (signing with the key the CLI makes)."""
    author = create_account(market.base, market.admin_token, "sam-author", "publisher")
    work, home = tmp_path_factory.mktemp("author"), tmp_path_factory.mktemp("author-home")
    created = skillworks("new", "greeting-sample", "--dir", str(work), "--category", "productivity", token=author.token, home=home)
    assert created.returncode == 0, created.stderr
    published = skillworks("publish", str(work / "greeting-sample"), "--api", market.base, token=author.token, home=home)
    assert published.returncode == 0, published.stdout + published.stderr
    return {"output": published.stdout, "home": str(home)}


def test_a_new_skill_is_published_and_scanned_active(sample: dict[str, str], market: MarketFacade) -> None:
    assert "greeting-sample@0.1.0" in sample["output"] and "active" in sample["output"]
    key = Path(sample["home"]) / "keys" / "publisher.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    detail = httpx.get(f"{market.base}/api/marketplace/skills/greeting-sample", headers=market.admin).json()
    version = detail["versions"][0]
    assert detail["status"] == "active" and detail["installableVersion"] == "0.1.0"
    assert version["scan"]["verdict"] == "clean" and set(version["scan"]["scanners"]) == {"bandit", "guarddog", "ast-rules", "dependencies", "secrets"}
    assert verify(detail["publisher"]["publicKey"], version["sha256"], version["signature"])


def test_the_sample_is_found_by_search_as_you_type(sample: dict[str, str], market: MarketFacade, user: Publisher) -> None:
    for query in ("gree", "greeting sam", "new project folder"):
        found = httpx.get(f"{market.base}/api/marketplace/skills", params={"q": query}, headers=user.headers).json()
        assert "greeting-sample" in [skill["id"] for skill in found["skills"]], query
    listed = skillworks("marketplace", "search", "greet", "--api", market.base, token=user.token, home=Path(sample["home"]))
    assert listed.returncode == 0 and "greeting-sample" in listed.stdout


def test_a_user_rates_once_and_rating_again_updates_it(sample: dict[str, str], market: MarketFacade, user: Publisher) -> None:
    home = Path(sample["home"])
    first = skillworks("marketplace", "rate", "greeting-sample", "3", "--review", "Works", "--api", market.base, token=user.token, home=home)
    second = skillworks("marketplace", "rate", "greeting-sample", "5", "--review", "Works well", "--api", market.base, token=user.token, home=home)
    assert first.returncode == 0 and second.returncode == 0, second.stderr

    detail = httpx.get(f"{market.base}/api/marketplace/skills/greeting-sample", headers=user.headers).json()
    assert detail["ratings"]["count"] == 1 and detail["ratings"]["average"] == 5
    assert detail["reviews"] == [{"user": "uma-user", "stars": 5, "review": "Works well", "updatedAt": detail["reviews"][0]["updatedAt"]}]
    shown = skillworks("marketplace", "show", "greeting-sample", "--api", market.base, token=user.token, home=home)
    assert "rating 5.0 from 1 review" in shown.stdout and "Works well" in shown.stdout


def test_search_filters_sorts_and_pages(market: MarketFacade, publisher: Publisher, user: Publisher, tmp_path: Path) -> None:
    for index, (category, tags) in enumerate([("devops", ["docker"]), ("devops", ["ci"]), ("frontend", ["docker", "react"])]):
        folder = skill_folder(tmp_path / str(index), f"filter-skill-{index}", front={"category": category, "tags": tags, "name": f"Filter {'cba'[index]}"})
        published = publisher.publish(folder).json()
        assert published["status"] == "active", published

    def ids(**params: object) -> list[str]:
        found = httpx.get(f"{market.base}/api/marketplace/skills", params={"q": "filter", **params}, headers=user.headers).json()
        return [skill["id"] for skill in found["skills"]]

    assert sorted(ids(category="devops")) == ["filter-skill-0", "filter-skill-1"]
    assert sorted(ids(tag="docker")) == ["filter-skill-0", "filter-skill-2"]
    assert ids(sort="name") == ["filter-skill-2", "filter-skill-1", "filter-skill-0"]
    assert ids(sort="newest") == ["filter-skill-2", "filter-skill-1", "filter-skill-0"]
    page = httpx.get(f"{market.base}/api/marketplace/skills", params={"q": "filter", "sort": "name", "page": 2, "pageSize": 2}, headers=user.headers).json()
    assert page["total"] == 3 and [s["id"] for s in page["skills"]] == ["filter-skill-0"]
    categories = httpx.get(f"{market.base}/api/marketplace/categories", headers=user.headers).json()["categories"]
    assert {"name": "devops", "count": 2} in categories


def test_roles_decide_who_may_publish_govern_and_create_tokens(market: MarketFacade, publisher: Publisher, user: Publisher, tmp_path: Path) -> None:
    folder = skill_folder(tmp_path, "role-check")
    assert user.publish(folder).status_code == 403
    assert httpx.post(f"{market.base}/api/marketplace/tokens", json={"name": "x", "role": "admin"}, headers=publisher.headers).status_code == 403
    assert httpx.post(f"{market.base}/api/marketplace/rescan", json={}, headers=publisher.headers).status_code == 403
    assert httpx.get(f"{market.base}/api/marketplace/skills").status_code == 401
    assert httpx.get(f"{market.base}/api/marketplace/skills", headers={"Authorization": "Bearer swk_forged"}).status_code == 401


def test_a_suspicious_version_stays_untrusted_until_an_admin_overrides_it(market: MarketFacade, publisher: Publisher, tmp_path: Path) -> None:
    steps = "def create_folder(ctx):\n    ctx.workspace.make_dirs(ctx.target)\n\ndef write_greeting(ctx):\n    import urllib.request\n    urllib.request.urlopen('https://example.org', timeout=5)\n"
    published = publisher.publish(skill_folder(tmp_path, "undeclared-network", steps=steps)).json()
    assert published["status"] == "untrusted" and "network-undeclared" in published["statusReason"]

    by_publisher = httpx.post(f"{market.base}/api/marketplace/skills/undeclared-network/versions/1.0.0/status",
                              json={"status": "active", "reason": "self-approval"}, headers=publisher.headers)
    override = httpx.post(f"{market.base}/api/marketplace/skills/undeclared-network/versions/1.0.0/status",
                          json={"status": "active", "reason": "reviewed: fetches example.org only"}, headers=market.admin)

    assert by_publisher.status_code == 403
    assert override.status_code == 200, override.text
    version = override.json()
    assert version["status"] == "active" and version["overriddenBy"] == "admin" and version["overriddenAt"]
    assert version["history"][-1]["reason"] == "override: reviewed: fetches example.org only"


def test_rescan_picks_up_versions_scanned_under_older_rules(market: MarketFacade, publisher: Publisher, tmp_path: Path) -> None:
    assert publisher.publish(skill_folder(tmp_path, "rescanned-skill")).status_code == 201
    store = Marketplace.open(market.database_url)
    try:
        with store.session() as session:
            version = session.scalar(select(SkillVersion).where(SkillVersion.skill_id == "rescanned-skill"))
            version.rules_version = 0  # as if scanned before the current rules
            session.commit()
    finally:
        store.close()

    report = httpx.post(f"{market.base}/api/marketplace/rescan", json={}, headers=market.admin, timeout=300).json()

    assert [(r["skillId"], r["status"]) for r in report["rescanned"]] == [("rescanned-skill", "active")]
    detail = httpx.get(f"{market.base}/api/marketplace/skills/rescanned-skill", headers=market.admin).json()
    assert detail["versions"][0]["rulesVersion"] == report["rulesVersion"]
    assert [change["actor"] for change in detail["versions"][0]["history"]] == ["pat-publisher", "scan", "scan"]


def test_a_stored_version_refuses_any_change_to_its_bytes_or_signature(market: MarketFacade, sample: dict[str, str]) -> None:
    store = Marketplace.open(market.database_url)
    try:
        with store.session() as session:
            version = session.scalar(select(SkillVersion).where(SkillVersion.skill_id == "greeting-sample"))
            version.sha256 = "0" * 64
            with pytest.raises(ImmutableVersionError):
                session.commit()
    finally:
        store.close()


def test_uploads_over_the_package_cap_or_malformed_are_refused_before_reading(market: MarketFacade, publisher: Publisher) -> None:
    huge = declared_upload(market.base, publisher, 50 * 1024 * 1024)
    as_json = httpx.post(f"{market.base}/api/marketplace/skills", headers=publisher.headers, json={"package": "x"})
    missing = httpx.post(f"{market.base}/api/marketplace/skills", headers=publisher.headers, files={"package": ("x.tar.gz", b"x")})
    not_archive = publisher.upload(b"just text, not an archive")

    assert huge.startswith("HTTP/1.1 413")
    assert as_json.status_code == 415
    assert missing.status_code == 422 and {"signature", "publicKey"} <= {e["field"] for e in missing.json()["details"]["errors"]}
    assert not_archive.status_code == 422 and not_archive.json()["details"]["failures"][0]["check"] == "archive-format"


def declared_upload(base: str, publisher: Publisher, length: int) -> str:
    """Send only the headers of an upload declaring ``length`` bytes; the status line the facade answers with."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            f"POST /api/marketplace/skills HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {publisher.token}\r\n"
            f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {length}\r\n\r\n".encode()
        )
        return connection.recv(4096).decode(errors="replace")


def test_the_package_download_matches_its_digest_and_signature(market: MarketFacade, sample: dict[str, str], user: Publisher) -> None:
    detail = httpx.get(f"{market.base}/api/marketplace/skills/greeting-sample", headers=user.headers).json()
    answer = httpx.get(f"{market.base}/api/marketplace/skills/greeting-sample/versions/0.1.0/package", headers=user.headers)
    import hashlib

    assert answer.status_code == 200
    assert hashlib.sha256(answer.content).hexdigest() == detail["versions"][0]["sha256"] == answer.headers["x-skillworks-sha256"]
    assert verify(detail["publisher"]["publicKey"], answer.headers["x-skillworks-sha256"], answer.headers["x-skillworks-signature"])


def test_packing_is_deterministic(tmp_path: Path) -> None:
    folder = skill_folder(tmp_path, "same-bytes")
    assert pack_skill_folder(folder) == pack_skill_folder(folder)
