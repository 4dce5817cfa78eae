"""Unpacking an uploaded skill package without trusting anything it says about itself.

A package is a ``.tar.gz`` or ``.zip`` of a skill folder (``SKILL.md`` at its root, or in
its one top-level folder). Every member is checked before a byte is written: no absolute
paths, no ``..``, no links, no devices or FIFOs, no duplicate names. Sizes are measured
while decompressing, never read from headers (a zip bomb lies in them): the unpacked total
is capped outright and relative to the compressed size, and so is each file and the number
of files. What passes is written as plain files (mode 0644) into an empty folder; nothing
in the package is ever imported or run here.
"""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from skills.marketplace.errors import CheckFailure, PublishRefused

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """How big a package may be; a limit is checked as bytes come out of the decompressor."""

    max_package_bytes: int = 5 * 1024 * 1024
    max_unpacked_bytes: int = 25 * 1024 * 1024
    max_file_bytes: int = 5 * 1024 * 1024
    max_files: int = 1000
    # Source and templates compress 3-10x (minified JSON perhaps 20x); 50x or more is a bomb.
    # Tiny packages get a floor of room.
    max_ratio: int = 50
    ratio_floor_bytes: int = 1024 * 1024

    def unpacked_budget(self, compressed: int) -> int:
        return min(self.max_unpacked_bytes, max(self.ratio_floor_bytes, self.max_ratio * compressed))


DEFAULT_LIMITS = ArchiveLimits()


@dataclass
class UnpackedPackage:
    """A package written out: its skill folder, format, and the files in it."""

    folder: Path
    archive_format: str
    files: list[str] = field(default_factory=list)
    unpacked_bytes: int = 0


class _Budget:
    """Counts bytes as they are produced and refuses past the limits."""

    def __init__(self, limits: ArchiveLimits, compressed: int) -> None:
        self.limits = limits
        self.total = 0
        self.allowed = limits.unpacked_budget(compressed)

    def take(self, count: int, name: str) -> None:
        self.total += count
        if self.total > self.allowed:
            ratio_bound = self.allowed < self.limits.max_unpacked_bytes
            raise PublishRefused([
                CheckFailure(
                    "archive-compression-ratio" if ratio_bound else "archive-too-large",
                    f"unpacks to more than {self.allowed} bytes"
                    + (f" ({self.limits.max_ratio}x its compressed size)" if ratio_bound else ""),
                    name,
                    "A skill is source and templates: leave out build output, data sets and other archives.",
                )
            ], status=413)


def archive_format(data: bytes) -> str | None:
    if data.startswith(GZIP_MAGIC):
        return "tar.gz"
    if data.startswith(ZIP_MAGIC):
        return "zip"
    return None


def unpack_package(data: bytes, destination: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> UnpackedPackage:
    """Check and write ``data`` into the empty folder ``destination``; raises ``PublishRefused``."""
    if len(data) > limits.max_package_bytes:
        raise PublishRefused(
            [CheckFailure("archive-too-large", f"the package is {len(data)} bytes; the limit is {limits.max_package_bytes}")],
            status=413,
        )
    kind = archive_format(data)
    if kind is None:
        raise PublishRefused([
            CheckFailure("archive-format", "not a .tar.gz or .zip archive", hint="Pack the skill folder with `skillworks publish`.")
        ])
    budget = _Budget(limits, len(data))
    members = _tar_members(data, budget) if kind == "tar.gz" else _zip_members(data, budget)
    failures = [failure for _, _, failure in members if failure is not None]
    names = [name for name, _, failure in members if failure is None]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    failures += [CheckFailure("archive-duplicate-entry", "the archive holds this path twice", name) for name in duplicates]
    if len(names) > limits.max_files:
        failures.append(CheckFailure("archive-too-many-files", f"{len(names)} files; the limit is {limits.max_files}"))
    if failures:
        raise PublishRefused(failures)
    files = {name: content for name, content, _ in members if content is not None}
    root = _skill_root(list(files))
    package = UnpackedPackage(destination, kind, unpacked_bytes=budget.total)
    for name, content in sorted(files.items()):
        relative = PurePosixPath(name).relative_to(root)
        target = destination.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as handle:  # exclusive: never onto something already there
            handle.write(content)
        target.chmod(0o644)
        package.files.append(relative.as_posix())
    return package


def _skill_root(names: list[str]) -> PurePosixPath:
    """``SKILL.md`` at the root, or in the archive's single top-level folder."""
    if "SKILL.md" in names:
        return PurePosixPath(".")
    tops = {PurePosixPath(name).parts[0] for name in names}
    if len(tops) == 1:
        top = next(iter(tops))
        if f"{top}/SKILL.md" in names:
            return PurePosixPath(top)
    raise PublishRefused([
        CheckFailure("skill-md", "no SKILL.md at the archive's root or in its one top-level folder", hint="Run `skillworks new NAME` for a valid layout.")
    ])


def member_name_problem(name: str) -> str | None:
    """Why a member name is unsafe to write, or None.

    >>> member_name_problem("../etc/passwd"), member_name_problem("/etc/passwd"), member_name_problem("a/b.py")
    ("'..' leaves the package folder", 'absolute path', None)
    """
    if not name or "\x00" in name:
        return "empty name or NUL byte"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or name.startswith("\\"):
        return "absolute path"
    if "\\" in name:
        return "backslash in path (a Windows path separator)"
    parts = PurePosixPath(name).parts
    if ".." in parts:
        return "'..' leaves the package folder"
    if len(name) > 1024 or any(len(part) > 255 for part in parts):
        return "path too long"
    return None


Member = tuple[str, bytes | None, CheckFailure | None]


def _unsafe(check: str, reason: str, name: str) -> Member:
    return name, None, CheckFailure(check, reason, name, "Publish a plain folder of regular files.")


def _unsafe_name(raw_name: str) -> Member | None:
    """The refusal of a member whose name leaves the package folder (tar and zip alike), or None."""
    problem = member_name_problem(raw_name)
    if problem is None:
        return None
    check = "archive-absolute-path" if problem == "absolute path" else "archive-path-traversal"
    return _unsafe(check, problem, raw_name)


def _tar_members(data: bytes, budget: _Budget) -> list[Member]:
    raw = _gunzip(data, budget)
    members: list[Member] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as archive:
            for info in archive:
                members.append(_tar_member(archive, info, budget))
    except tarfile.TarError as exc:
        raise PublishRefused([CheckFailure("archive-corrupt", f"not a readable tar archive: {exc}")]) from exc
    return [member for member in members if member[0]]


def _tar_member(archive: tarfile.TarFile, info: tarfile.TarInfo, budget: _Budget) -> Member:
    if refused := _unsafe_name(info.name):
        return refused
    name = info.name.removeprefix("./")
    if info.issym() or info.islnk():
        return _unsafe("archive-link", f"a {'symbolic' if info.issym() else 'hard'} link to {info.linkname!r}", name)
    if info.ischr() or info.isblk() or info.isfifo():
        return _unsafe("archive-device", "a device file or FIFO", name)
    if info.isdir():
        return "", None, None
    if not info.isreg():
        return _unsafe("archive-device", "not a regular file", name)
    handle = archive.extractfile(info)
    content = handle.read() if handle else b""
    if len(content) > budget.limits.max_file_bytes:
        return _unsafe("archive-file-too-large", f"{len(content)} bytes; the limit is {budget.limits.max_file_bytes}", name)
    return name, content, None


def _gunzip(data: bytes, budget: _Budget) -> bytes:
    """The decompressed tar stream, bounded by the budget as it is produced (gzip members concatenated)."""
    out = bytearray()
    remaining = data
    try:
        while remaining:
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pending = remaining
            while pending and not decompressor.eof:
                chunk = decompressor.decompress(pending, _CHUNK)
                budget.take(len(chunk), "(gzip stream)")
                out += chunk
                pending = decompressor.unconsumed_tail
            remaining = decompressor.unused_data if decompressor.eof else b""
            if not decompressor.eof:
                raise PublishRefused([CheckFailure("archive-corrupt", "the gzip stream ends early")])
    except zlib.error as exc:
        raise PublishRefused([CheckFailure("archive-corrupt", f"not a valid gzip stream: {exc}")]) from exc
    return bytes(out)


def _zip_members(data: bytes, budget: _Budget) -> list[Member]:
    members: list[Member] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                members.append(_zip_member(archive, info, budget))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise PublishRefused([CheckFailure("archive-corrupt", f"not a readable zip archive: {exc}")]) from exc
    return [member for member in members if member[0]]


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> Member:
    if refused := _unsafe_name(info.filename):
        return refused
    name = info.filename.removeprefix("./")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return _unsafe("archive-link", "a symbolic link", name)
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return _unsafe("archive-device", "a device file, FIFO or socket", name)
    if info.is_dir():
        return "", None, None
    content = bytearray()
    with archive.open(info) as handle:
        while chunk := handle.read(_CHUNK):
            budget.take(len(chunk), name)
            content += chunk
            if len(content) > budget.limits.max_file_bytes:
                return _unsafe("archive-file-too-large", f"more than {budget.limits.max_file_bytes} bytes", name)
    return name, bytes(content), None
