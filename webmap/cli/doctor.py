"""``webmap doctor``: check a deployment and say what is wrong and how to fix it.

The checks are in :mod:`webmap.setup_checks`; this module reads the settings (reporting invalid
ones instead of failing on them), prints the findings for a person or as JSON, and exits 1 when
any is an error (2 with ``--strict`` and only warnings), so a deploy script can stop on it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from pydantic import ValidationError

from webmap.cli.nginx_config import TEMPLATE
from webmap.settings import Settings
from webmap.setup_checks import Deployment, Finding, run_checks

_MARK = {"ok": "ok", "warning": "WARNING", "error": "ERROR"}


def _settings_errors(error: ValidationError) -> list[Finding]:
    """One finding per invalid ``WEBMAP_*`` value (the other checks need valid settings)."""
    findings = []
    for problem in error.errors():
        name = "WEBMAP_" + "_".join(str(part) for part in problem["loc"]).upper()
        if name == "WEBMAP_":
            name = "the settings"
        findings.append(
            Finding(
                "settings",
                "error",
                f"{name}: {problem['msg']}",
                "Correct it in the environment file (/etc/webmap/webmap.env); "
                "webmap/settings.py describes every setting.",
            )
        )
    return findings


def _print(findings: list[Finding]) -> None:
    counts = {level: sum(f.level == level for f in findings) for level in _MARK}
    click.echo(
        f"webmap doctor: {counts['error']} error(s), {counts['warning']} warning(s), "
        f"{counts['ok']} ok"
    )
    width = max(len(f.check) for f in findings)
    for finding in findings:
        click.echo(f"{_MARK[finding.level]:<8} {finding.check:<{width}}  {finding.message}")
        if finding.fix:
            click.echo(f"{'':<8} {'':<{width}}  fix: {finding.fix}")


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option(
    "--nginx-template",
    type=click.Path(dir_okay=False, path_type=Path),
    default=TEMPLATE,
    show_default="the shipped template",
    help="The template `webmap serve --proxy` runs with (e.g. your copy with TLS).",
)
@click.option("--strict", is_flag=True, help="Exit 2 when there are warnings but no errors.")
def doctor(as_json: bool, nginx_template: Path, strict: bool) -> None:
    """Check this node's settings, database, Redis, folders and GDAL; exit 1 on errors.

    Run it as the service's user with the service's environment, e.g.
    `systemd-run --pipe --wait --uid=webmap -p EnvironmentFile=/etc/webmap/webmap.env
    /opt/webmap/bin/webmap doctor`.
    """
    try:
        settings = Settings()
    except ValidationError as exc:
        findings = _settings_errors(exc)
    else:
        findings = run_checks(Deployment(settings, nginx_template, dict(os.environ)))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": not any(f.level == "error" for f in findings),
                    "findings": [f._asdict() for f in findings],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        _print(findings)
    if any(f.level == "error" for f in findings):
        raise SystemExit(1)
    if strict and any(f.level == "warning" for f in findings):
        raise SystemExit(2)
