"""The security gate against a corpus of hostile packages and a set of benign ones, on SQLite and PostgreSQL.

Every package goes through the real facade (``POST /api/marketplace/skills``). Hostile ones
must be refused at publish or banned with the finding that names their attack; benign
ones must come out ``active`` (a false positive is a failure too); and nothing any package
contains may run: no marker file, no connection to the trap's listener.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from skills.marketplace.packing import pack_skill_folder
from skills.marketplace.signing import PublisherKey
from tests.conftest import MarketFacade, marketplace_facade
from tests.marketplace_corpus import BENIGN, HOSTILE, Case, Trap
from tests.marketplace_support import Publisher, create_account, skill_folder


class Listener:
    """A TCP listener on 127.0.0.1 counting connections: a payload that ran would call it."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.connections = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.socket.getsockname()[1]

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.socket.close()


@pytest.fixture(scope="module")
def market(store_backend: str, prefect_server: str) -> Iterator[MarketFacade]:
    with marketplace_facade(store_backend, f"corpus-{store_backend}") as facade:
        yield facade


@pytest.fixture(scope="module")
def trap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Trap, Listener]]:
    listener = Listener()
    markers = tmp_path_factory.mktemp("markers")
    yield Trap(markers, listener.port), listener
    listener.close()


@pytest.fixture(scope="module")
def publisher(market: MarketFacade) -> Publisher:
    base, admin_token = market.base, market.admin_token
    return create_account(base, admin_token, "corpus-author", "publisher")


@pytest.fixture(scope="module")
def outcomes(publisher: Publisher, trap: tuple[Trap, Listener], tmp_path_factory: pytest.TempPathFactory) -> dict[str, httpx.Response]:
    """Every corpus package published once (the scans are the slow part: shared by the tests below)."""
    answers = {}
    for case in HOSTILE + BENIGN:
        archive = case.build(tmp_path_factory.mktemp(case.name), trap[0])
        answers[case.name] = publisher.upload(archive)
    return answers


def blocking_rules(body: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in body["scan"]["findings"] if f["severity"] == "critical"}


def test_the_corpus_is_large_enough() -> None:
    assert len(HOSTILE) >= 25 and len(BENIGN) >= 10


@pytest.mark.parametrize("case", HOSTILE, ids=lambda case: case.name)
def test_hostile_package_is_refused_or_banned_with_the_finding_of_its_attack(case: Case, outcomes: dict[str, httpx.Response]) -> None:
    answer = outcomes[case.name]
    body = answer.json()
    if case.outcome == "refused":
        assert answer.status_code in (413, 422), body
        assert case.rule in {failure["check"] for failure in body["details"]["failures"]}, body
    else:
        assert answer.status_code == 201, body
        assert body["status"] == "banned", body
        assert case.rule in blocking_rules(body), body
        finding = next(f for f in body["scan"]["findings"] if f["rule"] == case.rule)
        assert finding["file"] and finding["excerpt"], finding  # where, and what it looks like


@pytest.mark.parametrize("case", BENIGN, ids=lambda case: case.name)
def test_benign_package_is_published_active_with_no_blocking_finding(case: Case, outcomes: dict[str, httpx.Response]) -> None:
    answer = outcomes[case.name]
    body = answer.json()
    assert answer.status_code == 201, body
    assert body["status"] == "active", body
    assert all(f["severity"] in ("low", "info") for f in body["scan"]["findings"]), body["scan"]["findings"]
    assert all(run["ran"] for run in body["scan"]["scanners"].values())


def test_no_package_code_ran_while_publishing_and_scanning(outcomes: dict[str, httpx.Response], trap: tuple[Trap, Listener]) -> None:
    markers, listener = trap
    assert list(markers.markers.iterdir()) == []
    assert listener.connections == 0


def test_banned_versions_are_kept_for_audit_but_never_served_or_listed(market: MarketFacade, outcomes: dict[str, httpx.Response]) -> None:
    base, admin_token = market.base, market.admin_token
    banned = outcomes["base64-exec"].json()
    user = create_account(base, admin_token, "auditing-user", "user")
    package = f"{base}/api/marketplace/skills/{banned['skillId']}/versions/{banned['version']}/package"

    assert httpx.get(package, headers=user.headers).status_code == 403
    assert httpx.get(package, headers={"Authorization": f"Bearer {admin_token}"}).status_code == 200
    listed = httpx.get(f"{base}/api/marketplace/skills", params={"q": banned["skillId"]}, headers=user.headers).json()
    assert listed["total"] == 0
    audit = httpx.get(f"{base}/api/marketplace/skills", params={"status": "banned", "pageSize": 100}, headers=user.headers).json()
    assert banned["skillId"] in {skill["id"] for skill in audit["skills"]}


def test_another_publisher_cannot_take_over_a_skill_id(market: MarketFacade, publisher: Publisher, tmp_path: Path) -> None:
    base, admin_token = market.base, market.admin_token
    assert publisher.publish(skill_folder(tmp_path / "a", "owned-skill")).status_code == 201
    intruder = create_account(base, admin_token, "intruder", "publisher")

    answer = intruder.publish(skill_folder(tmp_path / "b", "owned-skill", version="9.0.0"))

    assert answer.status_code == 403
    assert "id-taken" in {f["check"] for f in answer.json()["details"]["failures"]}
    detail = httpx.get(f"{base}/api/marketplace/skills/owned-skill", headers=intruder.headers).json()
    assert [v["version"] for v in detail["versions"]] == ["1.0.0"]
    assert detail["publisher"]["name"] == "corpus-author"


def test_a_published_version_cannot_be_overwritten_or_undercut(market: MarketFacade, publisher: Publisher, tmp_path: Path) -> None:
    base = market.base
    first = publisher.publish(skill_folder(tmp_path / "a", "immutable-skill", version="1.2.0")).json()
    changed = skill_folder(tmp_path / "b", "immutable-skill", version="1.2.0", files={"extra.py": "X = 1\n"})
    older = skill_folder(tmp_path / "c", "immutable-skill", version="1.1.9")

    overwrite, undercut = publisher.publish(changed), publisher.publish(older)

    assert overwrite.status_code == 409 and overwrite.json()["details"]["failures"][0]["check"] == "version-exists"
    assert undercut.status_code == 409 and undercut.json()["details"]["failures"][0]["check"] == "version-not-newer"
    detail = httpx.get(f"{base}/api/marketplace/skills/immutable-skill", headers=publisher.headers).json()
    assert detail["versions"][0]["sha256"] == first["sha256"]


def test_a_bad_signature_is_refused(market: MarketFacade, publisher: Publisher, tmp_path: Path) -> None:
    archive = pack_skill_folder(skill_folder(tmp_path, "badly-signed"))
    forged = PublisherKey.generate().sign("0" * 64)

    answer = publisher.upload(archive, signature=forged)

    assert answer.status_code == 403
    assert {f["check"] for f in answer.json()["details"]["failures"]} == {"bad-signature"}


def test_a_package_altered_after_signing_is_refused(market: MarketFacade, publisher: Publisher, tmp_path: Path) -> None:
    from skills.marketplace.signing import package_digest

    archive = pack_skill_folder(skill_folder(tmp_path, "altered-after-signing"))
    signature = publisher.key.sign(package_digest(archive))
    altered = pack_skill_folder(skill_folder(tmp_path / "x", "altered-after-signing", files={"extra.py": "X = 2\n"}))

    answer = publisher.upload(altered, signature=signature)

    assert answer.status_code == 403 and "bad-signature" in answer.text


def test_a_publisher_keeps_the_key_it_first_signed_with(market: MarketFacade, publisher: Publisher, tmp_path: Path) -> None:
    assert publisher.publish(skill_folder(tmp_path / "a", "keyed-skill")).status_code == 201

    answer = publisher.upload(pack_skill_folder(skill_folder(tmp_path / "b", "keyed-skill", version="1.0.1")), key=PublisherKey.generate())

    assert answer.status_code == 403
    assert {f["check"] for f in answer.json()["details"]["failures"]} == {"publisher-key-mismatch"}


def test_every_failed_check_is_reported_at_once(market: MarketFacade, publisher: Publisher, tmp_path: Path) -> None:
    folder = skill_folder(tmp_path, "immature-skill", version="one", front={
        "description": "",
        "dependencies": {"python": ["requests"], "npm": ["lodash@^4"]},
        "steps": [{"id": "create-folder", "name": "Create"}, {"id": "missing-step", "name": "Missing"}],
    })
    (folder / "tests" / "test_steps.py").unlink()

    answer = publisher.publish(folder)

    assert answer.status_code == 422
    checks = [f["check"] for f in answer.json()["details"]["failures"]]
    assert sorted(checks) == sorted([
        "version-semver", "step-function-missing", "maturity-description", "maturity-tests",
        "maturity-unpinned-dependency", "maturity-unpinned-dependency",
    ])
