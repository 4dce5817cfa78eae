"""``skillworks install | upgrade | uninstall | installed | dev | deployments``: third-party skills on this machine.

``install``, ``upgrade`` and ``uninstall`` are clients of the API (the facade checks, installs
and reloads its catalog; the serving process picks the change up by itself). ``dev`` registers
a folder a skill author works on in the skillworks home, which every skillworks process on
this machine watches, then reports whether its skills loaded. ``deployments`` writes the
catalog's deployments into a ``prefect.yaml``.

Examples:
    ```
    skillworks install clean-sample            # the newest active version
    skillworks install clean-sample@1.0.0
    skillworks upgrade clean-sample            # to the newest active version
    skillworks upgrade clean-sample --to 1.0.0 # back
    skillworks uninstall clean-sample
    skillworks dev ./my-skill                  # load it (sandboxed), reloaded as you edit
    skillworks dev ./my-skill --stop
    skillworks deployments --write prefect.yaml   # one deployment per skill of this machine's catalog
    ```
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from service import cli
from service.cli_marketplace import _client
from service.cli_output import CliOutput, CommandFailed, ExitCode, JsonOption, exit_on_errors
from service.facade_client import DEFAULT_API_URL, FacadeClient, FacadeError

# How long `dev` waits for the running skillworks to report the folder loaded (hot loading takes well under this).
DEV_REPORT_SECONDS = 10.0


def register(app: typer.Typer) -> None:
    for command in (install, upgrade, uninstall, installed, dev, deployments):
        app.command()(command)


def install(
    skill: Annotated[str, typer.Argument(help="ID or ID@VERSION (an active version; default: the newest active one).")],
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Install a marketplace skill: digest and signature checked, conflicts refused first, its own environments."""
    skill_id, _, version = skill.partition("@")
    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        report = client.install(skill_id, version or None)
    output.result(report, lambda shown: _render_install(shown, report, "Installed"))


def upgrade(
    skill_id: Annotated[str, typer.Argument(help="An installed skill's id.")],
    to: Annotated[str | None, typer.Option("--to", help="This active version (an older one goes back).")] = None,
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Move an installed skill to the newest active version, or to --to VERSION."""
    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        report = client.upgrade(skill_id, to)
    output.result(report, lambda shown: _render_install(shown, report, "Upgraded" if to is None else "Moved"))


def uninstall(
    skill_id: Annotated[str, typer.Argument(help="An installed skill's id.")],
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Remove an installed skill, its environments and its deployment."""
    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        report = client.uninstall(skill_id)
    output.result(report, lambda shown: shown.print(
        f"Uninstalled {report['skillId']} {report['version']}; removed {', '.join(map(escape, report['removed']))}."))


def installed(api: cli.ApiOption = DEFAULT_API_URL, json_output: JsonOption = False) -> None:
    """The installed marketplace skills, and installed folders that failed to load."""
    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        found = client.installed()
        problems = [p for p in client.skills()["problems"] if p["source"] == "installed"]
    output.result({**found, "problems": problems}, lambda shown: _render_installed(shown, found, problems))


def dev(
    folder: Annotated[Path | None, typer.Argument(help="A skill folder (or a folder of them); none lists the registered ones.")] = None,
    stop: Annotated[bool, typer.Option("--stop", help="Stop serving the folder.")] = False,
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Serve a skill folder you are working on (sandboxed, reloaded as its files change), or stop serving it."""
    from blocks.settings import skillworks_home
    from skills.dev_folders import DevFolders

    output = CliOutput(json_output)
    folders = DevFolders(skillworks_home())
    with exit_on_errors(output):
        if folder is None:
            registered = [str(f) for f in folders.read()]
            output.result({"folders": registered}, lambda shown: [shown.print(escape(f)) for f in registered])
            return
        if stop:
            removed = folders.remove(folder)
            output.result({"folder": str(folder.resolve()), "stopped": removed}, lambda shown: shown.print(
                f"{'Stopped serving' if removed else 'Was not serving'} {escape(str(folder.resolve()))}."))
            return
        added = folders.add(folder)
        output.note(f"Serving {escape(str(added))}; edits are picked up as you save them.")
        with FacadeClient(api, cli._api_token()) as client:
            loaded = _wait_until_loaded(client, added)
    output.result({"folder": str(added), "skills": loaded}, lambda shown: [
        shown.print(f"  [green]loaded[/] {s['id']} {s['version']} (sandboxed, digest {s['digest'][:16]}…)") for s in loaded])


def deployments(
    write: Annotated[Path | None, typer.Option("--write", help="Replace the generated section of this prefect.yaml.")] = None,
    json_output: JsonOption = False,
) -> None:
    """The prefect.yaml deployments of every skill in this machine's catalog (for `prefect deploy --all`)."""
    from blocks.settings import catalog_sources
    from flows.deployment_spec import skill_deployments_yaml, write_prefect_yaml
    from skills.catalog import load_catalog

    output = CliOutput(json_output)
    catalog = load_catalog(catalog_sources())
    problems = [{"folder": p.folder, "error": p.error} for p in catalog.problems]
    with exit_on_errors(output):
        if write is not None:
            write_prefect_yaml(write, catalog)
    document = {"skills": catalog.ids(), "written": str(write) if write else None, "problems": problems}
    output.result(document, lambda shown: _render_deployments(shown, catalog.ids(), write, problems, skill_deployments_yaml(catalog)))


def _wait_until_loaded(client: FacadeClient, folder: Path) -> list[dict[str, Any]]:
    """The folder's skills once the running skillworks has loaded them; raises with its load problems."""
    deadline = time.monotonic() + DEV_REPORT_SECONDS
    while time.monotonic() < deadline:
        try:
            catalog = client.skills()
        except FacadeError as unavailable:
            raise CommandFailed(ExitCode.FAILED, f"Registered, but the API did not answer: {unavailable.message}", "facade_unavailable",
                                suggestions=["`skillworks up` loads the folder when it starts."]) from None
        problems = [p for p in catalog["problems"] if Path(p["folder"]).is_relative_to(folder)]
        if problems:
            raise CommandFailed(ExitCode.FAILED, "; ".join(f"{p['folder']}: {p['error']}" for p in problems), "load_failed",
                                {"problems": problems}, ["Fix the folder and save: it is loaded again at once."])
        loaded = [s for s in catalog["skills"] if s["source"] == "dev" and s.get("folder") and Path(s["folder"]).is_relative_to(folder)]
        if loaded:
            return loaded
        time.sleep(0.2)
    raise CommandFailed(ExitCode.FAILED, f"The API has not loaded {folder} yet.", "not_loaded",
                        suggestions=["Is `skillworks up` using the same skillworks home (SKILLWORKS_HOME)?"])


def _render_install(out: Console, report: dict[str, Any], verb: str) -> None:
    was = f" (was {report['previousVersion']})" if report.get("previousVersion") else ""
    out.print(f"{verb} {report['skillId']} {report['version']}{was} from {escape(report['publisher'])} "
              f"in {report['seconds']:.1f} s; sha256 {report['sha256'][:16]}…, signature verified.")
    for kind in ("python", "npm"):
        if report[kind]:
            out.print(f"  {kind}: {escape(' '.join(report[kind]))}")


def _render_installed(out: Console, found: dict[str, Any], problems: list[dict[str, Any]]) -> None:
    table = Table("id", "version", "publisher", "sha256", "python", "npm", title=f"{found['count']} installed skill(s)")
    for skill in found["skills"]:
        table.add_row(skill["skillId"], skill["version"], escape(skill["publisher"]), skill["sha256"][:16] + "…",
                      escape(" ".join(skill["python"])), escape(" ".join(skill["npm"])))
    out.print(table)
    for problem in problems:
        serving = f" (still serving the last good version of {problem['skillId']})" if problem.get("servingPrevious") else ""
        out.print(f"[bold red]Failed to load[/] {escape(problem['folder'])}{serving}: {escape(problem['error'])}")


def _render_deployments(out: Console, ids: list[str], write: Path | None, problems: list[dict[str, str]], section: str) -> None:
    if write is None:
        out.print(section, end="", markup=False, soft_wrap=True)
    else:
        out.print(f"Wrote {len(ids)} skill deployment(s) into {escape(str(write))}.")
    for problem in problems:
        out.print(f"[yellow]Left out[/] {escape(problem['folder'])}: {escape(problem['error'])}")
