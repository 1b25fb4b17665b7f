"""``webmap municipalities …``: the municipalities this deployment serves.

The domain is :mod:`layers.municipalities`.

``add`` takes a municipality's name and boundary from the sample's Lantmäteriet polygons
(``data/lantmateriet/ak_riks.zip``, or the same file under ``WEBMAP_DATA_DIR``); ``set`` changes
its widget settings. The CLI is the operator's: it may change every municipality.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import psycopg
from flask import current_app
from flask.cli import AppGroup

from layers.errors import LayerError
from layers.municipalities import (
    BOUNDARY_FILE,
    Municipality,
    add_municipality,
    available_in,
    get_municipality,
    list_municipalities,
    public_view,
    update_settings,
)
from layers.tenant_settings import SettingsChange
from webmap.settings import SampleDataMissing, Settings, sample_data_dir


def _settings() -> Settings:
    settings: Settings = current_app.config["WEBMAP_SETTINGS"]
    return settings


def _connect() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(_settings().database_url, autocommit=True, application_name="webmap-cli")


def _boundaries() -> Path:
    try:
        path = sample_data_dir(_settings()) / BOUNDARY_FILE
    except SampleDataMissing as exc:
        raise click.ClickException(str(exc)) from exc
    if not path.is_file():
        raise click.ClickException(f"The municipality boundaries are missing: {path}.")
    return path


@click.group("municipalities", cls=AppGroup)
def municipalities_group() -> None:
    """List, add and show the municipalities this deployment serves."""


@municipalities_group.command("list")
@click.option(
    "--available", is_flag=True, help="List every municipality the boundary file holds instead."
)
def municipalities_list(available: bool) -> None:
    """The municipalities served: code, name, layers' default list and origins."""
    if available:
        for code, name in sorted(available_in(_boundaries()).items()):
            click.echo(f"{code}\t{name}")
        return
    with _connect() as conn:
        for m in list_municipalities(conn):
            click.echo(
                f"{m.code}\t{m.title}\t{len(m.embed_origins)} origin(s)\t"
                f"{len(m.default_layers)} default layer(s)"
            )


@municipalities_group.command("add")
@click.argument("code")
@click.option("--name", help="The name to show (default: Lantmäteriet's spelling).")
def municipalities_add(code: str, name: str | None) -> None:
    """Serve municipality CODE (SCB kommunkod, e.g. 2281) with its boundary from the sample."""
    try:
        with _connect() as conn:
            found = add_municipality(conn, code, _boundaries(), name)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    west, south, east, north = found.bbox_wgs84
    click.echo(
        f"Municipality {found.code} {found.name} added (bbox {west},{south},{east},{north})."
    )


def _show(found: Municipality) -> None:
    body = {**public_view(found), "embed_origins": list(found.embed_origins)}
    click.echo(json.dumps(body, ensure_ascii=False, indent=2))


@municipalities_group.command("show")
@click.argument("code")
def municipalities_show(code: str) -> None:
    """Everything about municipality CODE, as JSON (its origins included)."""
    try:
        with _connect() as conn:
            found = get_municipality(conn, code)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    _show(found)


@municipalities_group.command("set")
@click.argument("code")
@click.option("--display-name", help="The name /demo and the widget show ('' clears it).")
@click.option("--theme-colour", help="#rrggbb for /demo ('' clears it).")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    help="An origin allowed to embed this municipality's widget (repeat; replaces the list).",
)
@click.option("--no-origins", is_flag=True, help="Remove every origin of this municipality.")
@click.option(
    "--default-layer",
    "default_layers",
    multiple=True,
    help="A public layer its picker shows by default (repeat; replaces the list).",
)
@click.option("--no-default-layers", is_flag=True, help="Show no layer by default.")
@click.option("--basemap-url", help="External raster basemap: an https URL template.")
@click.option("--basemap-kind", type=click.Choice(["xyz", "wmts"]), default="xyz")
@click.option("--basemap-crs", type=click.Choice(["3857", "3006"]), default="3857")
@click.option("--basemap-attribution", help="The basemap's attribution, e.g. © Lantmäteriet.")
@click.option("--no-basemap", is_flag=True, help="Remove the external basemap.")
def municipalities_set(
    code: str,
    display_name: str | None,
    theme_colour: str | None,
    origins: tuple[str, ...],
    no_origins: bool,
    default_layers: tuple[str, ...],
    no_default_layers: bool,
    basemap_url: str | None,
    basemap_kind: str,
    basemap_crs: str,
    basemap_attribution: str | None,
    no_basemap: bool,
) -> None:
    """Change municipality CODE's widget settings; what is not given stays."""
    basemap = None
    if no_basemap:
        basemap = {}
    elif basemap_url is not None:
        basemap = {
            "kind": basemap_kind,
            "url": basemap_url,
            "crs": int(basemap_crs),
            "attribution": basemap_attribution or "",
        }
    change = SettingsChange(
        display_name=display_name,
        theme_colour=theme_colour,
        embed_origins=() if no_origins else (origins or None),
        default_layers=() if no_default_layers else (default_layers or None),
        basemap=basemap,
    )
    try:
        with _connect() as conn:
            found = update_settings(conn, code, change, _settings().insecure_basemap_host_list)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    _show(found)
