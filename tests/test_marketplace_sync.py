"""Sync between two running marketplaces (one on each database), through a proxy that alters bytes in transit.

The source marketplace holds active skills, an untrusted one and one whose id the
destination already owns. The destination pulls through a proxy that flips a byte in one
package (and, in the second test, also rewrites the index's digest to match): the altered
package is refused either way, the rest are copied and rescanned, the local id stays local.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from skills.marketplace.signing import verify
from tests.conftest import MarketFacade, marketplace_facade
from tests.marketplace_support import create_account, skill_folder

SKILLWORKS = Path(sys.executable).parent / "skillworks"
TAMPERED = "tampered-skill"


class TamperingProxy:
    """An HTTP proxy to ``upstream`` that flips the last byte of ``tampered-skill``'s package in transit.

    With ``rewrite_index_digest`` it also rewrites the index's sha256 of that package to match
    the altered bytes, as an attacker in the middle who understands the protocol would.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.rewrite_index_digest = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @staticmethod
    def altered(package: bytes) -> bytes:
        return package[:-1] + bytes([package[-1] ^ 0xFF])

    def relay(self, path: str, authorization: str) -> bytes:
        headers = {"Authorization": authorization}
        body = httpx.get(self.upstream + path, headers=headers).content
        if f"/skills/{TAMPERED}/" in path:
            return self.altered(body)
        if path.startswith("/api/marketplace/index") and self.rewrite_index_digest:
            index = json.loads(body)
            for entry in index["entries"]:
                if entry["skillId"] == TAMPERED:
                    package = httpx.get(f"{self.upstream}/api/marketplace/skills/{TAMPERED}/versions/{entry['version']}/package", headers=headers)
                    entry["sha256"] = hashlib.sha256(self.altered(package.content)).hexdigest()
            return json.dumps(index).encode()
        return body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = proxy.relay(self.path, self.headers.get("Authorization", ""))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def source(store_backend: str, prefect_server: str) -> Iterator[MarketFacade]:
    with marketplace_facade(store_backend, f"sync-source-{store_backend}") as facade:
        yield facade


@pytest.fixture(scope="module")
def destination(store_backend: str, prefect_server: str) -> Iterator[MarketFacade]:
    other = "postgresql" if store_backend == "sqlite" else "sqlite"
    with marketplace_facade(other, f"sync-destination-{other}") as facade:
        yield facade


@pytest.fixture(scope="module")
def source_skills(source: MarketFacade, destination: MarketFacade, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    alice = create_account(source.base, source.admin_token, "alice", "publisher")
    tmp = tmp_path_factory.mktemp("source-skills")
    statuses = {}
    for skill_id, version in (("synced-one", "1.0.0"), ("synced-one", "1.1.0"), ("synced-two", "2.0.0"), (TAMPERED, "1.0.0"), ("local-id", "1.0.0")):
        statuses[f"{skill_id}@{version}"] = alice.publish(skill_folder(tmp / f"{skill_id}-{version}", skill_id, version=version)).json()["status"]
    network = "def create_folder(ctx):\n    pass\n\ndef write_greeting(ctx):\n    import socket\n    socket.create_connection(('example.org', 80))\n"
    statuses["not-active@1.0.0"] = alice.publish(skill_folder(tmp / "not-active", "not-active", steps=network)).json()["status"]
    bob = create_account(destination.base, destination.admin_token, "bob", "publisher")
    assert bob.publish(skill_folder(tmp / "bobs", "local-id", front={"description": "Bob's own skill with this id"})).status_code == 201
    return statuses


@pytest.fixture(scope="module")
def proxy(source: MarketFacade) -> Iterator[TamperingProxy]:
    proxy = TamperingProxy(source.base)
    yield proxy
    proxy.close()


def sync(destination: MarketFacade, url: str, remote_token: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "240", "SKILLWORKS_API_TOKEN": destination.admin_token}
    return subprocess.run(
        [str(SKILLWORKS), "marketplace", "sync", url, "--remote-token", remote_token, "--api", destination.base],
        capture_output=True, text=True, timeout=600, env=environment, stdin=subprocess.DEVNULL,
    )


def test_sync_copies_active_skills_and_refuses_bytes_altered_in_transit(
    source: MarketFacade, destination: MarketFacade, source_skills: dict[str, str], proxy: TamperingProxy
) -> None:
    assert source_skills["not-active@1.0.0"] == "untrusted"
    assert all(status == "active" for key, status in source_skills.items() if key != "not-active@1.0.0")

    result = sync(destination, proxy.url, source.admin_token)

    assert result.returncode == 1, result.stdout + result.stderr  # something was refused
    lines = result.stdout
    assert "synced-one@1.0.0: copied -> active" in lines and "synced-one@1.1.0: copied -> active" in lines
    assert "synced-two@2.0.0: copied -> active" in lines
    assert f"{TAMPERED}@1.0.0: refused" in lines and "sha256 mismatch" in lines
    assert "local-id@1.0.0: skipped" in lines and "not-active" not in lines

    def destination_skill(skill_id: str) -> httpx.Response:
        return httpx.get(f"{destination.base}/api/marketplace/skills/{skill_id}", headers=destination.admin)

    copied = destination_skill("synced-one").json()
    assert [v["version"] for v in copied["versions"]] == ["1.1.0", "1.0.0"]
    assert copied["publisher"]["name"] == "alice" and copied["publisher"]["origin"] == proxy.url
    original = httpx.get(f"{source.base}/api/marketplace/skills/synced-one", headers=source.admin).json()
    assert copied["versions"][0]["sha256"] == original["versions"][0]["sha256"]
    assert verify(copied["publisher"]["publicKey"], copied["versions"][0]["sha256"], copied["versions"][0]["signature"])
    assert copied["versions"][0]["scan"]["verdict"] == "clean"  # scanned here, with this marketplace's rules
    assert destination_skill(TAMPERED).status_code == 404
    assert destination_skill("local-id").json()["publisher"]["name"] == "bob"


def test_a_rewritten_index_digest_does_not_let_altered_bytes_through(
    source: MarketFacade, destination: MarketFacade, source_skills: dict[str, str], proxy: TamperingProxy
) -> None:
    proxy.rewrite_index_digest = True

    result = sync(destination, proxy.url, source.admin_token)

    assert f"{TAMPERED}@1.0.0: refused" in result.stdout and "signature does not verify" in result.stdout
    assert "synced-one@1.1.0: already-present" in result.stdout
    assert httpx.get(f"{destination.base}/api/marketplace/skills/{TAMPERED}", headers=destination.admin).status_code == 404


def test_sync_from_an_address_that_is_no_marketplace_fails_clearly(destination: MarketFacade) -> None:
    answer = httpx.post(f"{destination.base}/api/marketplace/sync", json={"url": "http://127.0.0.1:9"}, headers=destination.admin)

    assert answer.status_code == 502 and answer.json()["code"] == "sync_failed"
