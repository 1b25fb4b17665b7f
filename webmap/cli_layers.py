"""``webmap layers …``, ``webmap tokens …`` and ``webmap staff …``: the staff commands.

``layers import`` runs the same pipeline as ``POST /api/layers``, with a progress bar, for files
too large for a browser upload and for scheduled scripts.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click
import psycopg
from flask import current_app
from flask.cli import AppGroup

from layers.auth import (
    create_token,
    disable_user,
    list_tokens,
    list_users,
    revoke_token,
    set_user,
)
from layers.errors import LayerError, LayerNotFound
from layers.ingest import IngestOptions, publish_vector
from layers.sessions import SessionPolicy, count_sessions
from layers.store import LayerSpec
from layers.versions import delete_layer, drop_orphans, layer_detail, list_layers, rollback
from webmap.settings import Settings
from webmap.uploads import ingest_limits


def _settings() -> Settings:
    settings: Settings = current_app.config["WEBMAP_SETTINGS"]
    return settings


def _connect() -> psycopg.Connection[tuple[object, ...]]:
    # Autocommit: the pipeline's own transaction blocks decide what is committed together.
    return psycopg.connect(_settings().database_url, autocommit=True, application_name="webmap-cli")


@click.group("tokens", cls=AppGroup)
def tokens_group() -> None:
    """Create, list and revoke API tokens for staff tools."""


@tokens_group.command("create")
@click.option("--name", required=True, help="Who or what uses the token (shown in lists).")
@click.option(
    "--scope",
    type=click.Choice(["publish", "read"]),
    default="publish",
    show_default=True,
    help="read: see private layers only; publish: also upload, roll back and delete.",
)
def tokens_create(name: str, scope: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    try:
        with _connect() as conn:
            info, secret = create_token(conn, name, scope)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Token {info.id} ({info.name}, {info.scope}). Store it now, it is not shown again:")
    click.echo(secret)


@tokens_group.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    with _connect() as conn:
        tokens = list_tokens(conn)
    for t in tokens:
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        click.echo(f"{t.id}\t{t.name}\t{t.scope}\t{t.prefix}…\t{state}\tlast used {used}")


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id."""
    try:
        with _connect() as conn:
            revoke_token(conn, token_id)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Token {token_id} revoked.")


@click.group("staff", cls=AppGroup)
def staff_group() -> None:
    """Manage logins for the admin pages."""


@staff_group.command("set-password")
@click.argument("username")
@click.password_option()
def staff_set_password(username: str, password: str) -> None:
    """Create a staff login or change its password."""
    try:
        with _connect() as conn:
            set_user(conn, username, password)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Login {username} saved; its open sessions (if any) have ended.")


@staff_group.command("disable")
@click.argument("username")
def staff_disable(username: str) -> None:
    """Refuse a login from now on and end its sessions (set-password enables it again)."""
    try:
        with _connect() as conn:
            ended = disable_user(conn, username)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Login {username} disabled; {ended} session(s) ended.")


@staff_group.command("list")
def staff_list() -> None:
    """List logins, whether they are disabled, and how many live sessions each has."""
    settings = _settings()
    policy = SessionPolicy(settings.session_idle_seconds, settings.session_max_seconds)
    with _connect() as conn:
        users = list_users(conn)
        live = count_sessions(conn, policy)
    for name, disabled in users:
        state = "disabled" if disabled else "active"
        click.echo(f"{name}\t{state}\t{live.get(name, 0)} session(s)")


@click.group("layers", cls=AppGroup)
def layers_group() -> None:
    """Publish, list and roll back staff layers."""


class _Progress:
    """A click progress bar over the stages of the pipeline, with a line per stage for logs."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage:
            self._stage = stage
            if not sys.stderr.isatty() and stage != "done":
                click.echo(f"{stage}…", err=True)  # one line per stage in logs
            self._bar.length = max(total, 1)
            self._bar.pos = 0
            self._bar.label = stage
        self._bar.update(done - self._bar.pos)


@layers_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="Layer name: a–z, 0–9, _ (used in URLs).")
@click.option("--title", help="Human title (required for a new layer).")
@click.option("--description", help="What the layer shows.")
@click.option("--attribution", help="Source and licence, shown on maps.")
@click.option("--private", "visibility", flag_value="private", help="Only staff may see it.")
@click.option("--public", "visibility", flag_value="public", help="Anyone may see it.")
@click.option("--srid", type=int, help="EPSG code when the file has no or a wrong CRS.")
@click.option("--layer", "source_layer", help="Layer inside a GeoPackage, KML or archive.")
@click.option("--encoding", help="Text encoding of the attributes (e.g. ISO-8859-1).")
@click.option(
    "--geometry-type",
    type=click.Choice(["point", "line", "polygon"]),
    help="Keep only this geometry kind from a mixed file.",
)
@click.option("--report", "show_report", is_flag=True, help="Print the full report as JSON.")
def layers_import(
    file: Path,
    name: str,
    title: str | None,
    description: str | None,
    attribution: str | None,
    visibility: str | None,
    srid: int | None,
    source_layer: str | None,
    encoding: str | None,
    geometry_type: str | None,
    show_report: bool,
) -> None:
    """Publish FILE as a new layer, or as a new version of an existing one."""
    settings = _settings()
    try:
        with _connect() as conn:
            current = _current(conn, name)
            if current is None and not title:
                raise click.UsageError("A new layer needs --title.")
            base = current or {"description": "", "attribution": "", "public": True}
            spec = LayerSpec(
                name=name,
                title=title or str(base["title"]),
                description=description if description is not None else base["description"],
                attribution=attribution if attribution is not None else base["attribution"],
                public=(visibility == "public") if visibility else bool(base["public"]),
                minzoom=int(base.get("minzoom", 0)),
                maxzoom=int(base.get("maxzoom", 22)),
            )
            options = IngestOptions(
                srid=srid,
                source_layer=source_layer,
                encoding=encoding,
                geometry_type=geometry_type,
                keep_versions=settings.keep_versions,
                limits=ingest_limits(settings),
            )
            with click.progressbar(length=1, label="reading", file=sys.stderr) as bar:
                result = publish_vector(
                    conn, spec, file, file.name, options, progress=_Progress(bar)
                )
    except LayerError as exc:
        hint = getattr(exc, "extensions", {}).get("hint")
        message = exc.detail if not hint or hint in exc.detail else f"{exc.detail} {hint}"
        # The same advice as over HTTP, in this command's words.
        message = re.sub(r"\bsrid=(\d+)", r"--srid \1", message)
        raise click.ClickException(message.replace("geometry_type=", "--geometry-type ")) from exc
    report = result.report
    click.echo(
        f"{name} version {result.version} is live: {report['stored']} of "
        f"{report['features_read']} features stored, {report['repaired_count']} repaired, "
        f"{report['rejected_count']} rejected ({report['crs']['name']})."
    )
    if show_report:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))


def _current(conn: psycopg.Connection[Any], name: str) -> dict[str, Any] | None:
    try:
        return layer_detail(conn, name)
    except LayerNotFound:
        return None


@layers_group.command("list")
def layers_list() -> None:
    """List layers with their live version and feature count."""
    with _connect() as conn:
        for layer in list_layers(conn):
            access = "public" if layer["public"] else "private"
            click.echo(
                f"{layer['name']}\tv{layer['version']}\t{layer['kind']}\t{access}\t"
                f"{layer['feature_count']} features\t{layer['title']}"
            )


@layers_group.command("rollback")
@click.argument("name")
@click.option("--to", "version", type=int, help="Version to make live (default: the previous).")
def layers_rollback(name: str, version: int | None) -> None:
    """Make an older version of NAME live again."""
    try:
        with _connect() as conn:
            live = rollback(conn, name, version)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"{name} version {live} is live.")


@layers_group.command("delete")
@click.argument("name")
@click.confirmation_option(prompt="Delete the layer with all its versions?")
def layers_delete(name: str) -> None:
    """Delete NAME with all stored versions."""
    try:
        with _connect() as conn:
            dropped = delete_layer(conn, name)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Deleted {name} (versions {', '.join(map(str, dropped))}).")


@layers_group.command("clean")
def layers_clean() -> None:
    """Drop orphaned version tables no catalog row points at."""
    with _connect() as conn:
        dropped = drop_orphans(conn)
    click.echo(
        f"Dropped {len(dropped)} orphaned tables." + (f" {', '.join(dropped)}" if dropped else "")
    )
