"""``skillworks new``, ``skillworks publish`` and ``skillworks marketplace ...``: clients of the marketplace API.

Tokens: ``SKILLWORKS_MARKETPLACE_TOKEN`` (a publisher's or user's), else ``SKILLWORKS_API_TOKEN``
(the admin). ``publish`` signs with the Ed25519 key in the skillworks home, made on first use.

Examples:
    ```
    skillworks new my-skill && skillworks publish my-skill
    skillworks marketplace search docker --sort rating
    skillworks marketplace show my-skill
    skillworks marketplace rate my-skill 5 --review "Saved me an hour"
    skillworks marketplace token create alice --role publisher
    skillworks marketplace sync http://other-host:5173
    ```
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from service import cli
from service.cli_output import CliOutput, ExitCode, JsonOption, exit_on_errors
from service.facade_client import DEFAULT_API_URL, FacadeError
from service.marketplace_client import MarketplaceClient

KeyOption = Annotated[Path | None, typer.Option("--key", help="Ed25519 private key (PEM); default: keys/publisher.pem in the skillworks home.")]
marketplace = typer.Typer(help="Search, show, rate and govern marketplace skills.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens of marketplace accounts.", no_args_is_help=True)
marketplace.add_typer(tokens, name="token")


def register(app: typer.Typer) -> None:
    app.command()(new)
    app.command()(publish)
    app.add_typer(marketplace, name="marketplace")


def new(
    name: Annotated[str, typer.Argument(help="Skill id: lowercase letters, digits and hyphens.")],
    directory: Annotated[Path, typer.Option("--dir", help="Folder to create it in.")] = Path("."),
    category: Annotated[str, typer.Option(help="Category shown in the marketplace.")] = "productivity",
    json_output: JsonOption = False,
) -> None:
    """Create a skill folder that passes every publish check: SKILL.md, steps.py and a test."""
    from skills.marketplace.scaffold import scaffold_skill

    output = CliOutput(json_output)
    with exit_on_errors(output):
        folder = scaffold_skill(name, directory, category)
    output.result({"skillId": name, "folder": str(folder)}, lambda shown: shown.print(
        f"Created [bold]{escape(str(folder))}[/]: edit SKILL.md and steps.py, then `skillworks publish {escape(str(folder))}`."))


def publish(
    folder: Annotated[Path, typer.Argument(help="The skill folder (with SKILL.md).")],
    key: KeyOption = None,
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Pack, sign and publish a skill folder; shows every failed check, or the scan's verdict (exit 1 unless active)."""
    from skills.marketplace.packing import pack_skill_folder
    from skills.marketplace.signing import PublisherKey, package_digest

    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        archive = pack_skill_folder(folder)
        signer = PublisherKey.load_or_create(key or _default_key())
        try:
            result = client.publish(archive, f"{folder.name}.tar.gz", signer.sign(package_digest(archive)), signer.public_key_b64)
        except FacadeError as refused:
            if output.as_json or not _failures(refused):
                raise
            raise typer.Exit(_render_refusal(refused, _failures(refused))) from None
    output.result(result, lambda shown: _render_publish(shown, result))
    raise typer.Exit(ExitCode.OK if result["status"] == "active" else ExitCode.FAILED)


@marketplace.command("search")
def search(
    query: Annotated[str, typer.Argument(help="Words to search for (each a prefix).")] = "",
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only skills with this tag.")] = None,
    status: Annotated[str, typer.Option(help="active, untrusted, banned or any.")] = "active",
    sort: Annotated[str, typer.Option(help="relevance, rating, installs, newest or name.")] = "relevance",
    page: Annotated[int, typer.Option(help="Page number, from 1.")] = 1,
    page_size: Annotated[int, typer.Option("--page-size", help="Skills per page.")] = 20,
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Search the marketplace."""
    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        found = client.search(q=query, category=category, tag=tag, status=status, sort=sort, page=page, pageSize=page_size)
    output.result(found, lambda shown: _render_search(shown, found))


def _render_search(out: Console, found: dict[str, Any]) -> None:
    table = Table("id", "name", "version", "status", "rating", "category", "publisher", title=f"{found['total']} skill(s)")
    for skill in found["skills"]:
        rating = f"{skill['ratingAverage']:.1f} ({skill['ratingCount']})" if skill["ratingCount"] else "-"
        table.add_row(skill["id"], escape(skill["name"]), skill["latestVersion"], skill["status"], rating, skill["category"],
                      escape(skill["publisher"]))
    out.print(table)


@marketplace.command("show")
def show(
    skill_id: Annotated[str, typer.Argument(help="Skill id.")], api: cli.ApiOption = DEFAULT_API_URL, json_output: JsonOption = False
) -> None:
    """A skill's versions, scan report, ratings and publisher."""
    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        skill = client.show(skill_id)
    output.result(skill, lambda shown: _render_skill(shown, skill))


def _render_skill(out: Console, skill: dict[str, Any]) -> None:
    out.print(f"[bold]{escape(skill['name'])}[/] ({skill['id']}) {skill['latestVersion']} — {skill['status']}")
    out.print(escape(skill["description"]))
    publisher = skill["publisher"]
    out.print(f"publisher {escape(publisher['name'])}{' of ' + publisher['origin'] if publisher['origin'] else ''}, "
              f"key {publisher['keyFingerprint'][:16]}…")
    ratings = skill["ratings"]
    out.print(f"rating {ratings['average']:.1f} from {ratings['count']} review(s); installable: {skill['installableVersion'] or 'none'}")
    for version in skill["versions"]:
        out.print(f"\n[bold]{version['version']}[/] {version['status']}: {escape(version['statusReason'])}")
        out.print(f"  sha256 {version['sha256']}")
        if version.get("overriddenBy"):
            out.print(f"  overridden by {version['overriddenBy']} at {version['overriddenAt']}: {escape(version['overrideReason'])}")
        _render_findings(out, (version.get("scan") or {}).get("findings", []))
    for review in skill["reviews"]:
        out.print(f"\n{'★' * review['stars']}{'☆' * (5 - review['stars'])} {escape(review['user'])}: {escape(review['review'])}")


@marketplace.command("rate")
def rate(
    skill_id: Annotated[str, typer.Argument(help="Skill id.")],
    stars: Annotated[int, typer.Argument(min=1, max=5, help="1 to 5.")],
    review: Annotated[str, typer.Option(help="A few words for other users.")] = "",
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Rate a skill (rating again replaces your earlier rating)."""
    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        summary = client.rate(skill_id, stars, review)
    output.result(summary, lambda shown: shown.print(
        f"Rated {skill_id}: now {summary['average']:.1f} from {summary['count']} rating(s)."))


@marketplace.command("override")
def override(
    skill_id: Annotated[str, typer.Argument()], version: Annotated[str, typer.Argument()],
    status: Annotated[str, typer.Argument(help="active, untrusted or banned.")],
    reason: Annotated[str, typer.Option(help="Why (recorded with who and when).")],
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Admins: set a version's status, with a reason."""
    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        result = client.override(skill_id, version, status, reason)
    output.result(result, lambda shown: shown.print(
        f"{skill_id}@{version} is now {result['status']} ({escape(result['statusReason'])})."))


@marketplace.command("rescan")
def rescan(
    everything: Annotated[bool, typer.Option("--all", help="Rescan every version, not only those scanned under older rules.")] = False,
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Admins: rescan versions with the current rules."""
    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        report = client.rescan(everything)
    output.result(report, lambda shown: _render_rescan(shown, report))


def _render_rescan(out: Console, report: dict[str, Any]) -> None:
    out.print(f"Rules v{report['rulesVersion']}: rescanned {len(report['rescanned'])} version(s).")
    for item in report["rescanned"]:
        out.print(f"  {item['skillId']}@{item['version']}: {item['status']} ({escape(item['statusReason'])})")


@marketplace.command("sync")
def sync(
    url: Annotated[str, typer.Argument(help="Address of the other skillworks API, e.g. http://host:5173.")],
    remote_token: Annotated[str | None, typer.Option("--remote-token", help="A token the other marketplace accepts.")] = None,
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Admins: copy another marketplace's active skills here (digests and signatures checked, rescanned here); exit 1 if any was refused."""
    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        report = client.sync(url, remote_token)
    output.result(report, lambda shown: _render_sync(shown, report))
    refused = any(item["outcome"] == "refused" for item in report["results"])
    raise typer.Exit(ExitCode.FAILED if refused else ExitCode.OK)


def _render_sync(out: Console, report: dict[str, Any]) -> None:
    results = report["results"]
    for item in results:
        out.print(f"  {item['skillId']}@{item['version']}: {item['outcome']}"
                  + (f" -> {item['status']}" if item.get("status") else "") + (f" ({escape(item['reason'])})" if item["reason"] else ""))
    refused = sum(item["outcome"] == "refused" for item in results)
    out.print(f"{sum(i['outcome'] == 'copied' for i in results)} copied, {refused} refused, from {report['source']}.")


@tokens.command("create")
def create_token(
    name: Annotated[str, typer.Argument(help="Account name (made if new).")],
    role: Annotated[str, typer.Option(help="admin, publisher or user.")] = "user",
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Admins: a new API token for an account; shown once."""
    output = CliOutput(json_output)
    with _client(api) as client, exit_on_errors(output):
        created = client.create_token(name, role)
    output.note(f"Token for {created['name']} ({created['role']}); it is shown only now:")
    output.result(created, lambda shown: shown.print(created["token"]))


def _client(api: str) -> MarketplaceClient:
    from blocks.settings import environment_variable

    token = environment_variable("SKILLWORKS_MARKETPLACE_TOKEN") or environment_variable("SKILLWORKS_API_TOKEN")
    return MarketplaceClient(api, token)


def _default_key() -> Path:
    from blocks.settings import skillworks_home

    return skillworks_home() / "keys" / "publisher.pem"


def _render_publish(out: Console, result: dict[str, Any]) -> None:
    color = {"active": "green", "banned": "red"}.get(result["status"], "yellow")
    out.print(f"Published {result['skillId']}@{result['version']} (sha256 {result['sha256'][:16]}…): "
                      f"[bold {color}]{result['status']}[/] — {escape(result['statusReason'])}")
    _render_findings(out, (result.get("scan") or {}).get("findings", []))


def _render_findings(out: Console, findings: list[dict[str, Any]]) -> None:
    shown = [f for f in findings if f["severity"] not in ("info", "low")]
    for finding in shown:
        where = f"{finding['file']}:{finding['line']}" if finding.get("line") else finding["file"]
        out.print(f"  [{finding['severity']}] {finding['scanner']} {finding['rule']} {escape(where)}: {escape(finding['message'])}")
        if finding.get("excerpt"):
            out.print(f"      {escape(finding['excerpt'])}", style="dim")


def _failures(refused: FacadeError) -> list[dict[str, Any]]:
    """The publish checks that failed, when the API refused a package for them."""
    return refused.details.get("failures", []) if isinstance(refused.details, dict) else []


def _render_refusal(refused: FacadeError, failures: list[dict[str, Any]]) -> ExitCode:
    cli.errors.print(f"[bold red]Refused ({refused.status}):[/] {len(failures)} check(s) failed")
    for failure in failures:
        where = f" ({failure['file']})" if failure.get("file") else ""
        cli.errors.print(f"  {failure['check']}{escape(where)}: {escape(failure['reason'])}")
        if failure.get("hint"):
            cli.errors.print(f"      {escape(failure['hint'])}", style="dim")
    return ExitCode.INVALID
