"""``deploy/``: the Prometheus rules and config, and the Grafana dashboard, checked for real.

``promtool`` (Debian's ``prometheus`` package, installed by ``make test``) checks the rules
and the config and runs the rules' unit tests (``rules.test.yml``: the alerts stay silent on
a steady baseline and fire at 1.5x it). A real Prometheus then scrapes the test session's
facade with those rules loaded, and every query of the Grafana dashboard runs against it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import REPO, SESSION_DIR, free_port, start_process, stop_process
from tests.test_deploy_files import compose_schema_check

DEPLOY = REPO / "deploy"
RULES = DEPLOY / "prometheus" / "rules.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "skillworks.json"
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")

needs_prometheus = pytest.mark.skipif(
    PROMTOOL is None or PROMETHEUS is None, reason="needs Debian's prometheus package (make test installs it)"
)


def promtool(*arguments: str, cwd: Path = DEPLOY / "prometheus") -> str:
    assert PROMTOOL is not None
    result = subprocess.run([PROMTOOL, *arguments], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@needs_prometheus
def test_alert_rules_are_valid_and_fire_at_one_and_a_half_times_the_baseline() -> None:
    assert "SUCCESS" in promtool("check", "rules", "rules.yml")
    assert "SUCCESS" in promtool("test", "rules", "rules.test.yml")


def scrape_config(facade: str, folder: Path, token: Path | None) -> Path:
    """``deploy/prometheus/prometheus.yml`` aimed at ``facade``, with paths that exist here."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(RULES)]
    (job,) = config["scrape_configs"]
    job["static_configs"] = [{"targets": [facade.removeprefix("http://")]}]
    if token is None:
        del job["authorization"]  # the session's facade is open, as on 127.0.0.1 without a token
    else:
        job["authorization"]["credentials_file"] = str(token)
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@needs_prometheus
def test_prometheus_config_checks_with_its_token_file(tmp_path: Path) -> None:
    token = tmp_path / "skillworks-token"
    token.write_text("a-token\n")
    assert "SUCCESS" in promtool("check", "config", str(scrape_config("http://127.0.0.1:5173", tmp_path, token)))


@pytest.fixture(scope="module")
def prometheus(facade: str) -> Iterator[str]:
    """A real Prometheus scraping the session's facade every second, with the rules loaded."""
    folder = SESSION_DIR / "prometheus"
    folder.mkdir(exist_ok=True)
    port = free_port()
    assert PROMETHEUS is not None
    process = start_process("prometheus", [
        PROMETHEUS, f"--config.file={scrape_config(facade, folder, None)}", f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail((SESSION_DIR / "prometheus.log").read_text()[-3000:])
            try:
                if query(base, 'up{job="skillworks"} == 1'):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("Prometheus did not scrape the facade within 60 s")
        yield base
    finally:
        stop_process(process)


def query(base: str, expression: str) -> list[dict]:
    response = httpx.get(f"{base}/api/v1/query", params={"query": expression}, timeout=10)
    body = response.json()
    assert response.status_code == 200 and body["status"] == "success", (expression, body)
    return body["data"]["result"]


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]]


def test_dashboard_is_provisioned_with_its_datasource_and_fits_the_grid() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/skillworks.yml").read_text())["datasources"][0]
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/skillworks.yml").read_text())["providers"][0]
    overlay = yaml.safe_load((DEPLOY / "monitoring.compose.yaml").read_text())
    # Grafana loads the dashboards folder that the overlay mounts where the provider looks.
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in overlay["services"]["grafana"]["volumes"]
    assert compose_schema_check(DEPLOY / "monitoring.compose.yaml").returncode == 0
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"] == "skillworks"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["w"] > 0 and grid["h"] > 0, panel["title"]
        assert panel["targets"], panel["title"]


@needs_prometheus
def test_every_dashboard_query_runs_against_prometheus_scraping_the_facade(prometheus: str, facade: str) -> None:
    exposed = httpx.get(f"{facade}/metrics").text
    recorded = {rule["record"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"] if "record" in rule}
    for title, expression in dashboard_queries():
        for name in re.findall(r"\bskillworks[_:][\w:]+", expression):
            family = re.sub(r"_(bucket|count|sum)$", "", name)
            assert name in recorded or f"# TYPE {family} " in exposed or f"# TYPE {name} " in exposed, (title, name)
        query(prometheus, expression.replace("$skill", ".+"))
    # What the facade has surely served by now shows up through the dashboard's own queries.
    requests = dict(dashboard_queries())["HTTP requests per second by route"]
    deadline = time.monotonic() + 30
    while not query(prometheus, requests) and time.monotonic() < deadline:
        time.sleep(1)
    assert query(prometheus, requests)
