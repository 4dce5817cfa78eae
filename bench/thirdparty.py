"""Third-party skill benchmarks: ``python bench/thirdparty.py`` prints a Markdown table for the README.

1. Install: the clean sample skill (a Python and an npm dependency) installed with empty
   download caches, then uninstalled and installed again from the caches (goal: 10x faster);
   and the same for the sample with sizeable dependencies (``HEAVY_DEPENDENCIES``), where
   downloads, not the tools' start-up, make most of a first install.
2. Hot loading: from a change to a watched skill folder (a new version written to SKILL.md,
   a new skill folder appearing) to the live catalog holding it (goal: under 500 ms).
3. Sandbox overhead: one step of a skill run in-process (a trusted local folder) and the
   same step run sandboxed (the same folder as a dev skill), each timed N times.

Nothing is asserted: a shared machine is noisy; the README quotes these numbers.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skills.catalog import CatalogSources, load_catalog, step_functions  # noqa: E402
from skills.context import StepContext  # noqa: E402
from skills.installer.install import SkillInstaller  # noqa: E402
from skills.live_catalog import LiveCatalog  # noqa: E402
from skills.marketplace.packing import pack_skill_folder  # noqa: E402
from skills.marketplace.signing import PublisherKey, key_fingerprint, package_digest  # noqa: E402
from skills.marketplace.views import InstallablePackage  # noqa: E402
from skills.workspace import Workspace  # noqa: E402

CLEAN_SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "thirdparty" / "clean-sample"
HEAVY_DEPENDENCIES = {"python": ["inflection==0.5.1", "pandas==2.2.3"], "npm": ["is-number@7.0.0", "typescript@5.6.3"]}
HOT_LOAD_SAMPLES = 10
STEP_SAMPLES = 10


def signed_package(folder: Path) -> InstallablePackage:
    data = pack_skill_folder(folder)
    key = PublisherKey.generate()
    digest = package_digest(data)
    return InstallablePackage(
        skill_id="clean-sample", version="1.0.0", sha256=digest, signature=key.sign(digest), publisher="bench",
        public_key=key.public_key_b64, key_fingerprint=key_fingerprint(key.public_key_b64), active_versions=["1.0.0"],
        data=data,
    )


def bench_install(scratch: Path, folder: Path) -> tuple[float, float]:
    installer = SkillInstaller(scratch / "installed", scratch / f"cache-{folder.name}")
    package = signed_package(folder)
    first = installer.install(package, reserved_ids=set()).seconds
    installer.uninstall("clean-sample")
    repeat = installer.install(package, reserved_ids=set()).seconds
    installer.uninstall("clean-sample")
    return first, repeat


def rewrite_front_matter(folder: Path, **changes: object) -> None:
    _, front, body = (folder / "SKILL.md").read_text().split("---", 2)
    (folder / "SKILL.md").write_text(f"---\n{yaml.safe_dump({**yaml.safe_load(front), **changes})}---{body}")


def heavy_sample(scratch: Path) -> Path:
    folder = scratch / "heavy-sample"
    shutil.copytree(CLEAN_SAMPLE, folder)
    rewrite_front_matter(folder, dependencies=HEAVY_DEPENDENCIES)
    return folder


async def bench_hot_load(scratch: Path) -> tuple[list[float], list[float]]:
    root = scratch / "dev"
    shutil.copytree(CLEAN_SAMPLE, root / "clean-sample")
    catalog = LiveCatalog(lambda: CatalogSources(dev_folders=(root,)))
    stop = asyncio.Event()
    watcher = asyncio.create_task(catalog.watch(stop=stop))
    await asyncio.sleep(0.5)  # the watch is set up
    edits, arrivals = [], []
    for index in range(HOT_LOAD_SAMPLES):
        version = f"1.0.{index + 1}"
        started = time.monotonic()
        rewrite_front_matter(root / "clean-sample", version=version)
        while catalog.current.get("clean-sample").version != version:
            await asyncio.sleep(0.002)
        edits.append(time.monotonic() - started)
        new_id = f"copy-{index}"
        staged = scratch / new_id
        shutil.copytree(CLEAN_SAMPLE, staged)
        (staged / "SKILL.md").write_text((staged / "SKILL.md").read_text().replace("id: clean-sample", f"id: {new_id}"))
        started = time.monotonic()
        staged.rename(root / new_id)  # a skill folder appearing whole
        while catalog.current.find(new_id) is None:
            await asyncio.sleep(0.002)
        arrivals.append(time.monotonic() - started)
        await asyncio.sleep(0.2)
    stop.set()
    await watcher
    return edits, arrivals


def bench_step(scratch: Path) -> tuple[list[float], list[float]]:
    folder = scratch / "step-skill"
    shutil.copytree(CLEAN_SAMPLE, folder)
    in_process = load_catalog(CatalogSources(local_folders=(folder,))).get("clean-sample")
    sandboxed = load_catalog(CatalogSources(dev_folders=(folder,))).get("clean-sample")

    def timings(skill_source: str) -> list[float]:
        skill = in_process if skill_source == "local" else sandboxed
        step = step_functions(skill)["create-folder"]
        samples = []
        for index in range(STEP_SAMPLES):
            root = scratch / f"workspace-{skill_source}-{index}"
            root.mkdir()
            context = StepContext(skill=skill, params={"projectName": "p", "title": "t"}, level="expert",
                                  persona="full-stack", workspace=Workspace(root))
            context.begin_step(skill.steps[0])
            started = time.monotonic()
            step(context)
            samples.append(time.monotonic() - started)
        return samples

    return timings("local"), timings("dev")


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="skillworks-bench-") as scratch_name:
        scratch = Path(scratch_name)
        first, repeat = bench_install(scratch, CLEAN_SAMPLE)
        heavy_first, heavy_repeat = bench_install(scratch, heavy_sample(scratch))
        edits, arrivals = asyncio.run(bench_hot_load(scratch))
        local, sandboxed = bench_step(scratch)
    overhead = statistics.median(sandboxed) - statistics.median(local)
    print("| measure | result |")
    print("| --- | --- |")
    print(f"| install clean-sample, empty caches | {first:.2f} s |")
    print(f"| install again from the caches | {repeat:.2f} s ({first / repeat:.1f}x faster) |")
    heavy = " + ".join(HEAVY_DEPENDENCIES["python"] + HEAVY_DEPENDENCIES["npm"])
    print(f"| install the sample with {heavy}, empty caches | {heavy_first:.2f} s |")
    print(f"| install it again from the caches | {heavy_repeat:.2f} s ({heavy_first / heavy_repeat:.1f}x faster) |")
    print(f"| hot load: SKILL.md edited -> catalog (median / max of {HOT_LOAD_SAMPLES}) | "
          f"{milliseconds(statistics.median(edits))} / {milliseconds(max(edits))} |")
    print(f"| hot load: skill folder added -> catalog (median / max) | "
          f"{milliseconds(statistics.median(arrivals))} / {milliseconds(max(arrivals))} |")
    print(f"| one step in-process (median of {STEP_SAMPLES}) | {milliseconds(statistics.median(local))} |")
    print(f"| the same step sandboxed (median) | {milliseconds(statistics.median(sandboxed))} "
          f"(overhead {milliseconds(overhead)}) |")


if __name__ == "__main__":
    main()
