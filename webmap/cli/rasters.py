"""``webmap rasters …``: publish raster layers (GeoTIFF, SRTM .hgt) from the command line.

The same publishing facade as uploads (:mod:`layers.publishing`): each import is a new version,
swapped live in one transaction under the layer's lock, older versions kept for rollback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import psycopg
from flask import current_app
from flask.cli import AppGroup

from layers.errors import LayerError
from layers.kinds import RASTER
from layers.publishing import SourceFile
from layers.raster import clean_storage
from layers.store import LayerSpec
from webmap.services import publishing_for
from webmap.settings import Settings, raster_storage


def _settings() -> Settings:
    settings: Settings = current_app.config["WEBMAP_SETTINGS"]
    return settings


@click.group("rasters", cls=AppGroup)
def rasters_group() -> None:
    """Publish and remove raster layers (elevation models, orthophotos)."""


@rasters_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="Layer name: a–z, digits, _ (used in URLs).")
@click.option("--title", required=True, help="Human-readable title.")
@click.option("--description", default="", help="What the layer shows.")
@click.option("--attribution", default="", help="Source and licence shown on the map.")
@click.option("--srid", type=int, help="EPSG code when the file has no or a wrong CRS.")
@click.option("--private", is_flag=True, help="Only staff with a token may see it.")
@click.option("--minzoom", default=0, show_default=True, type=click.IntRange(0, 24))
@click.option("--maxzoom", default=22, show_default=True, type=click.IntRange(0, 24))
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def import_raster(
    file: Path,
    name: str,
    title: str,
    description: str,
    attribution: str,
    srid: int | None,
    private: bool,
    minzoom: int,
    maxzoom: int,
    as_json: bool,
) -> None:
    """Publish FILE as a new version of raster layer --name (converted to a COG)."""
    if minzoom > maxzoom:
        raise click.BadParameter("--minzoom must not exceed --maxzoom")
    settings = _settings()
    spec = LayerSpec(
        name=name,
        title=title,
        description=description,
        attribution=attribution,
        public=not private,
        minzoom=minzoom,
        maxzoom=maxzoom,
    )
    try:
        with psycopg.connect(settings.database_url) as conn:
            # The same budgets as an upload: an operator's file can be as hostile.
            published = publishing_for(settings).publish(
                conn,
                spec,
                SourceFile(file, file.name, srid=srid, kind=RASTER),
                # A progress bar for people at a terminal; scripts get clean output.
                terminal=sys.stderr if sys.stderr.isatty() and not as_json else None,
                exists_ok=True,
            )
            report = published.report
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    except psycopg.OperationalError as exc:
        raise click.ClickException(f"Cannot reach PostgreSQL: {exc}") from exc
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{name}: version {report['version']} is live ({report['width']} × {report['height']} "
        f"px, {report['crs']}, drawn as {report['render_kind']}); tiles at "
        f"/tiles/{name}/{{z}}/{{x}}/{{y}}.png?v={report['version']}"
    )


@rasters_group.command("delete")
@click.argument("name")
@click.confirmation_option(prompt="Delete the layer and every stored version?")
def delete_raster(name: str) -> None:
    """Remove raster layer NAME and all its stored files."""
    settings = _settings()
    try:
        with psycopg.connect(settings.database_url) as conn:
            publishing = publishing_for(settings)
            if publishing.kind_of(conn, name).name != RASTER:
                raise click.ClickException(
                    f"{name} is not a raster layer; delete it with `webmap layers delete`."
                )
            removed = len(publishing.delete(conn, name))
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"{name}: removed with {removed} stored version(s).")


@rasters_group.command("clean")
@click.option(
    "--grace", default=3600, show_default=True, type=int, help="Keep files younger than this (s)."
)
def clean_rasters(grace: int) -> None:
    """Delete stored files no version points at (left by killed or rolled-back uploads)."""
    settings = _settings()
    with psycopg.connect(settings.database_url) as conn:
        removed = clean_storage(conn, raster_storage(settings), grace_seconds=grace)
    for name in removed:
        click.echo(f"removed {name}")
    click.echo(f"{len(removed)} orphan file(s) removed.")
