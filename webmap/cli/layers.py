"""``webmap layers …``: publish, list, roll back, delete, export and restore layers.

``layers import`` publishes through the same facade (:mod:`layers.publishing`) as
``POST /api/layers``, with a progress bar, for files too large for a browser upload and for
scheduled scripts; rollback and delete go through it too.
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

from layers.backup import export_layer, restore_layer
from layers.errors import LayerError, LayerNotFound
from layers.kinds import VECTOR
from layers.publishing import LayerChanges, Publishing, SourceFile
from layers.store import LayerSpec
from layers.versions import drop_orphans, layer_detail, list_layers
from staff.accounts import Principal
from staff.tenancy import (
    assign_layer,
    authorize_write,
    owner_for_new_layer,
    principal_for_user,
    visible_municipalities,
)
from webmap.services import publishing_for
from webmap.settings import Settings, raster_storage


def _settings() -> Settings:
    settings: Settings = current_app.config["WEBMAP_SETTINGS"]
    return settings


def _publishing() -> Publishing:
    return publishing_for(_settings())


def _connect() -> psycopg.Connection[tuple[object, ...]]:
    # Autocommit: the pipeline's own transaction blocks decide what is committed together.
    return psycopg.connect(_settings().database_url, autocommit=True, application_name="webmap-cli")


@click.group("layers", cls=AppGroup)
def layers_group() -> None:
    """Publish, list and roll back staff layers."""


#: Who the CLI acts as without ``--as-user``: the operator, who may do everything.
OPERATOR = Principal(name="operator", scope="publish", via="cli", instance_admin=True)

_AS_USER = click.option(
    "--as-user",
    "as_user",
    metavar="LOGIN",
    help="Act with this staff login's rights (its municipalities) instead of the operator's.",
)


def _acting(conn: psycopg.Connection[Any], as_user: str | None) -> Principal:
    """The operator, or the staff login ``as_user`` with its roles (it must be enabled)."""
    if as_user is None:
        return OPERATOR
    row = conn.execute(
        "SELECT 1 FROM webmap.staff_users WHERE username = %s AND NOT disabled", [as_user]
    ).fetchone()
    if row is None:
        raise click.ClickException(f"There is no enabled login named {as_user!r}.")
    principal = principal_for_user(conn, as_user)
    return Principal(principal.name, "publish", "cli", principal.instance_admin, principal.roles)


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
@click.option(
    "--municipality",
    metavar="CODE",
    help="A new layer's owning municipality (SCB code), or 'instance' for an instance-wide "
    "layer (the operator's default).",
)
@_AS_USER
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
    municipality: str | None,
    as_user: str | None,
    show_report: bool,
) -> None:
    """Publish FILE as a new layer, or as a new version of an existing one."""
    source = SourceFile(file, file.name, srid, source_layer, encoding, geometry_type, VECTOR)
    publishing = _publishing()
    public = (visibility == "public") if visibility else None
    try:
        with _connect() as conn:
            acting = _acting(conn, as_user)
            current = _current(conn, name)
            if current is None and not title:
                raise click.UsageError("A new layer needs --title.")
            if current is None:
                owner = owner_for_new_layer(acting, municipality)
            else:
                authorize_write(conn, acting, name)
            with click.progressbar(length=1, label="reading", file=sys.stderr) as bar:
                if current is None:
                    spec = LayerSpec(
                        name=name,
                        title=str(title),
                        description=description or "",
                        attribution=attribution or "",
                        public=public is not False,
                        municipality=owner,
                    )
                    result = publishing.publish(conn, spec, source, _Progress(bar))
                else:
                    changes = LayerChanges(title, description, attribution, public)
                    result = publishing.replace(conn, name, source, changes, _Progress(bar))
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
@click.option(
    "--municipality",
    metavar="CODE",
    help="Only this municipality's layers ('instance': only the instance-wide ones).",
)
@_AS_USER
def layers_list(municipality: str | None, as_user: str | None) -> None:
    """List layers with their live version, owner and feature count."""
    with _connect() as conn:
        readable = visible_municipalities(_acting(conn, as_user))
        for layer in list_layers(conn, readable, municipality):
            access = "public" if layer["public"] else "private"
            owner = layer["municipality"] or "instance"
            click.echo(
                f"{layer['name']}\tv{layer['version']}\t{layer['kind']}\t{access}\t{owner}\t"
                f"{layer['feature_count']} features\t{layer['title']}"
            )


@layers_group.command("assign")
@click.argument("name")
@click.argument("municipality", metavar="CODE|instance")
def layers_assign(name: str, municipality: str) -> None:
    """Give layer NAME to a municipality (its staff may then change it), or make it
    instance-wide with 'instance'. The operator's command: no --as-user."""
    code = None if municipality == "instance" else municipality
    try:
        with _connect() as conn:
            assign_layer(conn, name, code)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"{name} now belongs to {municipality if code else 'the whole instance'}.")


@layers_group.command("rollback")
@click.argument("name")
@click.option("--to", "version", type=int, help="Version to make live (default: the previous).")
@_AS_USER
def layers_rollback(name: str, version: int | None, as_user: str | None) -> None:
    """Make an older version of NAME live again."""
    try:
        with _connect() as conn:
            authorize_write(conn, _acting(conn, as_user), name)
            live = _publishing().rollback(conn, name, version)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"{name} version {live} is live.")


@layers_group.command("delete")
@click.argument("name")
@click.confirmation_option(prompt="Delete the layer with all its versions?")
@_AS_USER
def layers_delete(name: str, as_user: str | None) -> None:
    """Delete NAME with all stored versions."""
    try:
        with _connect() as conn:
            authorize_write(conn, _acting(conn, as_user), name)
            dropped = _publishing().delete(conn, name)
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


@layers_group.command("export")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", type=int, help="Version to export (default: the live one).")
def layers_export(name: str, file: Path, version: int | None) -> None:
    """Write a version of NAME with its metadata to FILE (.gpkg, or .tif for rasters)."""
    try:
        with _connect() as conn:
            exported = export_layer(conn, name, file, raster_storage(_settings()), version)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    meta = exported.metadata
    what = f"{meta.feature_count} features" if meta.kind == VECTOR else "raster"
    files = ", ".join(map(str, exported.files))
    click.echo(f"Exported {name} version {meta.source_version} ({what}) to {files}.")


@layers_group.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="Restore under this name (default: the name in the file).")
def layers_restore(file: Path, name: str | None) -> None:
    """Publish an exported FILE again, as a new version (the layer is created if missing)."""
    try:
        with _connect() as conn:
            restored = restore_layer(conn, _publishing(), file, name)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    meta, published = restored.metadata, restored.published
    click.echo(
        f"{meta.name} version {published.version} is live (restored from version "
        f"{meta.source_version}, exported {meta.exported_at or 'at an unknown time'})."
    )
