"""The marketplace's part of the API client the CLI uses (``skillworks publish`` and ``skillworks marketplace``)."""

from __future__ import annotations

from typing import Any

import httpx

from service.facade_client import FacadeClient, FacadeUnavailableError, _error


class MarketplaceClient(FacadeClient):
    def publish(self, archive: bytes, filename: str, signature: str, public_key: str) -> dict[str, Any]:
        files = {"package": (filename, archive, "application/gzip")}
        data = {"signature": signature, "publicKey": public_key}
        try:
            # Scanning takes a few seconds on a busy machine: wait for it.
            response = self._http.post("/api/marketplace/skills", files=files, data=data, timeout=300)
        except httpx.TransportError as exc:
            raise FacadeUnavailableError(self.base_url, str(exc) or type(exc).__name__) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response.json()

    def search(self, **query: Any) -> dict[str, Any]:
        return self._json("GET", "/api/marketplace/skills", params={k: v for k, v in query.items() if v not in (None, "")})

    def show(self, skill_id: str) -> dict[str, Any]:
        return self._json("GET", f"/api/marketplace/skills/{skill_id}")

    def rate(self, skill_id: str, stars: int, review: str) -> dict[str, Any]:
        return self._json("POST", f"/api/marketplace/skills/{skill_id}/ratings", json={"stars": stars, "review": review})

    def override(self, skill_id: str, version: str, status: str, reason: str) -> dict[str, Any]:
        return self._json("POST", f"/api/marketplace/skills/{skill_id}/versions/{version}/status",
                          json={"status": status, "reason": reason})

    def create_token(self, name: str, role: str) -> dict[str, Any]:
        return self._json("POST", "/api/marketplace/tokens", json={"name": name, "role": role})

    def rescan(self, everything: bool) -> dict[str, Any]:
        return self._json("POST", "/api/marketplace/rescan", json={"all": everything}, timeout=None)

    def sync(self, url: str, token: str | None) -> dict[str, Any]:
        return self._json("POST", "/api/marketplace/sync", json={"url": url, "token": token}, timeout=None)

    def install(self, skill_id: str, version: str | None) -> dict[str, Any]:
        # Building a skill's environments downloads its dependencies (cached after the first time).
        return self._json("POST", f"/api/marketplace/skills/{skill_id}/install", json={"version": version}, timeout=None)

    def upgrade(self, skill_id: str, version: str | None) -> dict[str, Any]:
        return self._json("POST", f"/api/marketplace/skills/{skill_id}/upgrade", json={"version": version}, timeout=None)

    def uninstall(self, skill_id: str) -> dict[str, Any]:
        return self._json("DELETE", f"/api/marketplace/skills/{skill_id}/install")

    def installed(self) -> dict[str, Any]:
        return self._json("GET", "/api/marketplace/installed")
