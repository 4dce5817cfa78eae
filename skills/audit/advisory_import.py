"""Filling the local OSV database: ``skillworks advisories update`` (download) and ``import`` (a file you bring).

Both store records as ``<database>/<ecosystem>/<package>/<id>.json`` (what ``LocalOsvDatabase``
reads) and write ``.skillworks-source.json`` beside them: where the data came from, how many
records, and the date of the newest one — the date the audit report gives for its data.
An ecosystem folder is replaced whole once its new records are in, so an interrupted update
or a bad import leaves the previous data usable.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import httpx
import yaml

from skills.audit.advisories import ECOSYSTEMS, SOURCE_FILE
from skills.audit.manifests import Ecosystem
from skills.audit.osv import OsvRecord, package_name
from skills.errors import AdvisoryDatabaseError

OSV_ARCHIVE_URL = "https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip"
_ECOSYSTEM_NAMES: dict[str, Ecosystem] = {"npm": "npm", "pypi": "PyPI"}


def update_advisory_database(
    destination: Path, ecosystems: Iterable[Ecosystem] = ECOSYSTEMS, client: httpx.Client | None = None
) -> dict[Ecosystem, int]:
    """Download OSV's archive of each ecosystem into ``destination``; the number of records per ecosystem.

    Raises ``AdvisoryDatabaseError`` when an archive cannot be downloaded or read.
    """
    counts: dict[Ecosystem, int] = {}
    with client or httpx.Client(timeout=httpx.Timeout(120.0, connect=10.0), follow_redirects=True) as http:
        for ecosystem in ecosystems:
            url = OSV_ARCHIVE_URL.format(ecosystem=ecosystem)
            destination.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=destination, prefix=".download-") as scratch:
                archive = Path(scratch) / "all.zip"
                _download(http, url, archive, ecosystem)
                counts[ecosystem] = _store(destination, ecosystem, _zip_records(archive), url)[ecosystem]
    return counts


def _download(client: httpx.Client, url: str, archive: Path, ecosystem: Ecosystem) -> None:
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
                "Or download the archive elsewhere and bring it here: `skillworks advisories import all.zip`.",
            ],
        ) from exc


def import_advisories(source: Path, destination: Path) -> dict[Ecosystem, int]:
    """Import an OSV export: a per-ecosystem ``all.zip`` as OSV publishes it, or a folder of OSV records.

    Records of npm and PyPI are kept (by their ``affected`` packages); the ecosystems found
    replace their folders in ``destination``. Returns the number of records per ecosystem.
    """
    if not source.exists():
        raise AdvisoryDatabaseError(f"{source} does not exist.", ["Give the path of an OSV all.zip or of a folder of OSV records."])
    if source.is_dir():
        records: Iterator[OsvRecord] = _folder_records(source)
    elif zipfile.is_zipfile(source):
        records = _zip_records(source)
    else:
        raise AdvisoryDatabaseError(
            f"{source} is neither a zip archive nor a folder.",
            ["Download an ecosystem's all.zip from https://osv-vulnerabilities.storage.googleapis.com/<ecosystem>/all.zip, or give a folder of OSV .json/.yaml records."],
        )
    counts = _store(destination, None, records, str(source.resolve()))
    if not counts:
        raise AdvisoryDatabaseError(
            f"{source} holds no OSV records for npm or PyPI.", ["Check that it is an OSV export (records with an `affected` list)."]
        )
    return counts


def _zip_records(archive: Path) -> Iterator[OsvRecord]:
    try:
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.namelist():
                if member.endswith(".json"):
                    yield json.loads(bundle.read(member))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise AdvisoryDatabaseError(f"{archive} is not a readable OSV archive: {exc}") from exc


def _folder_records(folder: Path) -> Iterator[OsvRecord]:
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".json", ".yaml", ".yml") and path.is_file() and path.name != SOURCE_FILE:
            text = path.read_text(encoding="utf-8")
            try:
                record = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
            except (ValueError, yaml.YAMLError) as exc:
                raise AdvisoryDatabaseError(f"{path} is not a readable OSV record: {exc}") from exc
            if isinstance(record, dict):
                yield record


def _store(destination: Path, only: Ecosystem | None, records: Iterable[OsvRecord], origin: str) -> dict[Ecosystem, int]:
    """Write each record under every npm/PyPI package it affects, then swap the ecosystem folders in."""
    destination.mkdir(parents=True, exist_ok=True)
    ids: dict[Ecosystem, set[str]] = {only: set()} if only is not None else {}
    newest: dict[Ecosystem, str] = {}
    with tempfile.TemporaryDirectory(dir=destination, prefix=".import-") as scratch:
        staged = Path(scratch)
        for record in records:
            for ecosystem, name in _affected_packages(record) if "id" in record else ():
                folder = _package_folder(staged / ecosystem.lower(), ecosystem, name)
                if (only is not None and ecosystem != only) or folder is None:
                    continue
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{record['id']}.json").write_text(json.dumps(record, default=str), encoding="utf-8")
                ids.setdefault(ecosystem, set()).add(record["id"])
                newest[ecosystem] = max(newest.get(ecosystem, ""), str(record.get("modified", ""))[:10])
        for ecosystem, found in ids.items():
            _swap_in(staged, destination, ecosystem, origin, len(found), newest.get(ecosystem) or None)
    return {ecosystem: len(found) for ecosystem, found in ids.items()}


def _affected_packages(record: OsvRecord) -> set[tuple[Ecosystem, str]]:
    found: set[tuple[Ecosystem, str]] = set()
    for entry in record.get("affected") or []:
        package = entry.get("package") or {}
        ecosystem = _ECOSYSTEM_NAMES.get(str(package.get("ecosystem", "")).lower())
        if ecosystem and package.get("name"):
            found.add((ecosystem, package["name"]))
    return found


def _package_folder(target: Path, ecosystem: Ecosystem, name: str) -> Path | None:
    """The folder for one package's records, or None for a name that would leave ``target``."""
    relative = PurePosixPath(package_name(ecosystem, name))
    if relative.is_absolute() or not relative.parts or any(part in ("", ".", "..") for part in relative.parts):
        return None
    return target.joinpath(*relative.parts)


def _swap_in(staged: Path, destination: Path, ecosystem: Ecosystem, origin: str, count: int, newest: str | None) -> None:
    folder = staged / ecosystem.lower()
    folder.mkdir(parents=True, exist_ok=True)
    source = {"source": origin, "records": count, "dataDate": newest, "importedAt": datetime.now(UTC).isoformat(timespec="seconds")}
    (folder / SOURCE_FILE).write_text(json.dumps(source, indent=2), encoding="utf-8")
    final = destination / ecosystem.lower()
    if final.is_symlink() or final.is_file():
        final.unlink()
    elif final.exists():
        shutil.rmtree(final)
    folder.rename(final)
