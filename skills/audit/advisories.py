"""Where advisories come from: the OSV API when it answers, else a local OSV database.

A local database is a folder with one sub-folder per ecosystem (``npm/``, ``pypi/``) of OSV
records (``.json`` or ``.yaml``), one folder per package: ``pypi/vulns/requests/PYSEC-….yaml``
(the layout of PyPA's advisory-database repository) or ``npm/lodash/GHSA-….json`` (what
``skillworks advisories update`` writes). Records lying directly in the ecosystem folder
(an unzipped OSV archive) are read too.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
import yaml

from skills.audit.manifests import Ecosystem
from skills.audit.osv import OsvRecord, affects, package_name

OSV_API_URL = "https://api.osv.dev/v1"
ECOSYSTEMS: tuple[Ecosystem, ...] = ("npm", "PyPI")
# Long enough for a reachable API to answer a first byte, short enough that an offline
# machine falls back to the local database without the user noticing the wait.
API_CONNECT_TIMEOUT_SECONDS = 3.0
_QUERY_BATCH_SIZE = 1000
_RECORD_SUFFIXES = (".json", ".yaml", ".yml")
# Written by `skillworks advisories update/import` into each ecosystem folder: where the data came from and when.
SOURCE_FILE = ".skillworks-source.json"
_MODIFIED = re.compile(r"""["']?modified["']?\s*:\s*["']?(\d{4}-\d{2}-\d{2})""")
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class PackageVersion:
    ecosystem: Ecosystem
    name: str
    version: str


class AdvisorySourceUnavailable(Exception):
    """A source could not be asked (the API is unreachable); the next source is tried."""


class AdvisorySource(Protocol):
    description: str

    def ecosystems(self) -> set[Ecosystem]:
        """The ecosystems this source has advisories for."""
        ...

    def records_for(self, packages: list[PackageVersion]) -> dict[PackageVersion, list[OsvRecord]]:
        """The records affecting each package at its version (packages with none left out)."""
        ...

    def record(self, advisory_id: str) -> OsvRecord | None:
        """One record by id (an alias of a finding's advisory), if this source has it."""
        ...

    def data_date(self) -> str | None:
        """The date of the newest record this source holds (ISO ``YYYY-MM-DD``), or None for a live service."""
        ...


class OsvApi:
    """https://api.osv.dev: ``querybatch`` for the ids, then each record in full."""

    description = "OSV API (api.osv.dev)"

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def ecosystems(self) -> set[Ecosystem]:
        return set(ECOSYSTEMS)

    def records_for(self, packages: list[PackageVersion]) -> dict[PackageVersion, list[OsvRecord]]:
        try:
            ids = self._vulnerability_ids(packages)
            records = {vuln_id: self._get(f"/vulns/{vuln_id}") for vuln_id in {i for found in ids.values() for i in found}}
        except httpx.TransportError as exc:
            raise AdvisorySourceUnavailable(f"the OSV API is unreachable ({type(exc).__name__}: {exc})") from exc
        except httpx.HTTPStatusError as exc:
            raise AdvisorySourceUnavailable(f"the OSV API answered {exc.response.status_code}") from exc
        return {package: [records[i] for i in found] for package, found in ids.items() if found}

    def _vulnerability_ids(self, packages: list[PackageVersion]) -> dict[PackageVersion, list[str]]:
        found: dict[PackageVersion, list[str]] = defaultdict(list)
        pending = [(package, None) for package in packages]
        while pending:
            batch, pending = pending[:_QUERY_BATCH_SIZE], pending[_QUERY_BATCH_SIZE:]
            queries = [_api_query(package, token) for package, token in batch]
            answer = self.client.post(f"{OSV_API_URL}/querybatch", json={"queries": queries})
            answer.raise_for_status()
            for (package, _), result in zip(batch, answer.json().get("results") or []):
                found[package].extend(vuln["id"] for vuln in result.get("vulns") or [])
                if result.get("next_page_token"):  # more than one page of advisories for this package
                    pending.append((package, result["next_page_token"]))
        return found

    def _get(self, path: str) -> OsvRecord:
        answer = self.client.get(f"{OSV_API_URL}{path}")
        answer.raise_for_status()
        return answer.json()

    def record(self, advisory_id: str) -> OsvRecord | None:
        try:
            return self._get(f"/vulns/{advisory_id}")
        except httpx.HTTPError:
            return None

    def data_date(self) -> str | None:
        return None  # the live service: as current as OSV itself


def _api_query(package: PackageVersion, page_token: str | None) -> dict[str, object]:
    query: dict[str, object] = {"package": {"ecosystem": package.ecosystem, "name": package.name}, "version": package.version}
    if page_token:
        query["page_token"] = page_token
    return query


@dataclass
class LocalOsvDatabase:
    """OSV records in a folder, indexed by package on first use."""

    directory: Path
    _index: dict[Ecosystem, dict[str, list[Path]]] = field(default_factory=dict)
    _by_id: dict[str, Path] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return f"local OSV database at {self.directory}"

    def ecosystems(self) -> set[Ecosystem]:
        return {ecosystem for ecosystem in ECOSYSTEMS if self._ecosystem_index(ecosystem)}

    def records_for(self, packages: list[PackageVersion]) -> dict[PackageVersion, list[OsvRecord]]:
        found: dict[PackageVersion, list[OsvRecord]] = {}
        for package in packages:
            candidates = self._ecosystem_index(package.ecosystem).get(package_name(package.ecosystem, package.name), [])
            records = [record for record in map(read_record, candidates) if affects(record, package.ecosystem, package.name, package.version)]
            if records:
                found[package] = sorted(records, key=lambda record: record["id"])
        return found

    def record(self, advisory_id: str) -> OsvRecord | None:
        for ecosystem in ECOSYSTEMS:
            self._ecosystem_index(ecosystem)
        path = self._by_id.get(advisory_id)
        return read_record(path) if path else None

    def data_date(self) -> str | None:
        """From what ``advisories update``/``import`` recorded, else the newest ``modified`` date of the records."""
        dates = [date for ecosystem in ECOSYSTEMS if (date := self._ecosystem_date(ecosystem))]
        return max(dates) if dates else None

    def _ecosystem_date(self, ecosystem: Ecosystem) -> str | None:
        folder = self.directory / ecosystem.lower()
        try:
            return json.loads((folder / SOURCE_FILE).read_text(encoding="utf-8"))["dataDate"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        dates = [
            match.group(1)
            for paths in self._ecosystem_index(ecosystem).values()
            for path in paths
            if (match := _MODIFIED.search(path.read_text(encoding="utf-8", errors="replace")))
        ]
        return max(dates) if dates else None

    def _ecosystem_index(self, ecosystem: Ecosystem) -> dict[str, list[Path]]:
        if ecosystem not in self._index:
            self._index[ecosystem] = _index_folder(self.directory / ecosystem.lower(), ecosystem)
            for paths in self._index[ecosystem].values():
                self._by_id.update({path.stem: path for path in paths})
        return self._index[ecosystem]


def _index_folder(folder: Path, ecosystem: Ecosystem) -> dict[str, list[Path]]:
    """Record files by package name: from their folder's name, or (loose records) from their content."""
    index: dict[str, list[Path]] = defaultdict(list)
    for directory, subdirectories, names in os.walk(folder, followlinks=True):
        subdirectories.sort()
        here = Path(directory)
        for name in sorted(n for n in names if n.endswith(_RECORD_SUFFIXES) and not n.startswith(".")):
            path = here / name
            if here == folder:
                for entry in read_record(path).get("affected") or []:
                    index[package_name(ecosystem, (entry.get("package") or {}).get("name", ""))].append(path)
                continue
            package = f"{here.parent.name}/{here.name}" if here.parent.name.startswith("@") else here.name
            index[package_name(ecosystem, package)].append(path)
    return index


def read_record(path: Path) -> OsvRecord:
    text = path.read_text(encoding="utf-8")
    record = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_YamlLoader)
    return record if isinstance(record, dict) else {}


def advisory_sources(advisory_db: Path | None, client: httpx.Client) -> list[AdvisorySource]:
    """The sources to ask, in order: the OSV API, then the local database (when configured)."""
    sources: list[AdvisorySource] = [OsvApi(client)]
    if advisory_db is not None:
        sources.append(LocalOsvDatabase(advisory_db))
    return sources


def api_client(timeout: float = API_CONNECT_TIMEOUT_SECONDS) -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(30.0, connect=timeout), follow_redirects=True)
