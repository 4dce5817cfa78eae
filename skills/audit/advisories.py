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
import sys
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

import httpx
import yaml

from skills.audit.manifests import Ecosystem
from skills.audit.osv import OsvRecord, affected_entries, affects, package_name
from skills.errors import AdvisoryDatabaseError

OSV_API_URL = "https://api.osv.dev/v1"
OSV_ARCHIVE_URL = "https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip"
ECOSYSTEMS: tuple[Ecosystem, ...] = ("npm", "PyPI")
# Long enough for a reachable API to answer a first byte, short enough that an offline
# machine falls back to the local database without the user noticing the wait.
API_CONNECT_TIMEOUT_SECONDS = 3.0
_QUERY_BATCH_SIZE = 1000
_RECORD_SUFFIXES = (".json", ".yaml", ".yml")
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

    def _ecosystem_index(self, ecosystem: Ecosystem) -> dict[str, list[Path]]:
        if ecosystem not in self._index:
            self._index[ecosystem] = _index_folder(self.directory / ecosystem.lower(), ecosystem)
        return self._index[ecosystem]


def _index_folder(folder: Path, ecosystem: Ecosystem) -> dict[str, list[Path]]:
    """Record files by package name: from their folder's name, or (loose records) from their content."""
    index: dict[str, list[Path]] = defaultdict(list)
    for directory, subdirectories, names in os.walk(folder, followlinks=True):
        subdirectories.sort()
        here = Path(directory)
        for name in sorted(n for n in names if n.endswith(_RECORD_SUFFIXES)):
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


# --- `skillworks advisories update` -------------------------------------------------------


def update_advisory_database(
    destination: Path, ecosystems: Iterable[Ecosystem] = ECOSYSTEMS, client: httpx.Client | None = None
) -> dict[Ecosystem, int]:
    """Download OSV's archive of each ecosystem into ``destination/<ecosystem>/<package>/<id>.json``.

    Each ecosystem folder is replaced whole once its archive is in, so an interrupted update
    leaves the previous data usable. Returns the number of records per ecosystem. Raises
    ``AdvisoryDatabaseError`` when an archive cannot be downloaded or read.
    """
    counts: dict[Ecosystem, int] = {}
    with client or httpx.Client(timeout=httpx.Timeout(120.0, connect=10.0), follow_redirects=True) as http:
        for ecosystem in ecosystems:
            counts[ecosystem] = _update_ecosystem(destination, ecosystem, http)
    return counts


def _update_ecosystem(destination: Path, ecosystem: Ecosystem, client: httpx.Client) -> int:
    url = OSV_ARCHIVE_URL.format(ecosystem=ecosystem)
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination, prefix=".download-") as scratch:
        archive = Path(scratch) / "all.zip"
        try:
            with client.stream("GET", url) as response, archive.open("wb") as handle:
                response.raise_for_status()
                for chunk in response.iter_bytes():
                    handle.write(chunk)
        except httpx.HTTPError as exc:
            raise AdvisoryDatabaseError(
                f"Could not download the {ecosystem} advisories from {url}: {exc}",
                [
                    "Check that this machine can reach osv-vulnerabilities.storage.googleapis.com.",
                    "Or set SKILLWORKS_ADVISORY_DB to a folder of OSV records you copied here "
                    "(one sub-folder per ecosystem: npm/, pypi/).",
                ],
            ) from exc
        staged = Path(scratch) / ecosystem.lower()
        count = _unpack_records(archive, staged, ecosystem)
        final = destination / ecosystem.lower()
        previous = Path(scratch) / "previous"
        if final.exists():
            final.rename(previous)
        staged.rename(final)
    return count


def _unpack_records(archive: Path, target: Path, ecosystem: Ecosystem) -> int:
    try:
        with zipfile.ZipFile(archive) as bundle:
            count = 0
            for member in bundle.namelist():
                if not member.endswith(".json"):
                    continue
                record = json.loads(bundle.read(member))
                for name in {entry["package"]["name"] for entry in record.get("affected") or [] if "package" in entry}:
                    folder = _package_folder(target, ecosystem, name)
                    if folder is not None and affected_entries(record, ecosystem, name):
                        folder.mkdir(parents=True, exist_ok=True)
                        (folder / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")
                count += 1
    except (zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise AdvisoryDatabaseError(f"The {ecosystem} advisory archive is not a readable OSV archive: {exc}") from exc
    target.mkdir(parents=True, exist_ok=True)
    return count


def _package_folder(target: Path, ecosystem: Ecosystem, name: str) -> Path | None:
    """The folder for one package's records, or None for a name that would leave ``target``."""
    relative = PurePosixPath(package_name(ecosystem, name))
    if relative.is_absolute() or not relative.parts or any(part in ("", ".", "..") for part in relative.parts):
        return None
    return target.joinpath(*relative.parts)


def advisories_update_main(destination: Path) -> int:
    """``skillworks advisories update``: download, say what was stored, return the exit code."""
    print(f"Downloading OSV advisories for {', '.join(ECOSYSTEMS)} into {destination} ...")
    try:
        counts = update_advisory_database(destination)
    except AdvisoryDatabaseError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        for suggestion in exc.suggestions:
            print(f"  - {suggestion}", file=sys.stderr)
        return 1
    for ecosystem, count in counts.items():
        print(f"{ecosystem}: {count} advisories")
    return 0
