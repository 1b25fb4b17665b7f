"""``webmap tiles export``: a layer's or the basemap's vector tiles as a PMTiles or MBTiles file.

For static hosts, CDNs and offline use (docs/export.md). The tiles come from the app's own
renderer with the service's settings (buffer, budgets), so they are the bytes the service
sends; :mod:`tiles.export` does the work, this module turns options into a plan and errors
into messages. The command joins the ``webmap tiles`` group (``webmap/cli/__init__.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import psycopg
from flask.cli import with_appcontext

from layers.catalog import RASTER, load_layer_version
from layers.errors import LayerError
from tiles.archives import FORMATS, open_archive
from tiles.export import Bbox, ExportError, export_tiles, parse_bbox, plan_export
from tiles.tilesets import BASEMAP, Tileset, resolve_tileset
from webmap.services import services


def _bbox(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Bbox | None:
    if value is None:
        return None
    try:
        return parse_bbox(value)
    except ExportError as exc:
        raise click.BadParameter(str(exc)) from exc


def _tileset(name: str, version: int | None) -> Tileset:
    """The tileset to export: live, or a kept earlier ``version`` of a single layer."""
    catalog = services().catalog.layers()
    found = catalog.get(name)
    if found is not None and found.kind == RASTER:
        raise click.ClickException(
            f"{name} is a raster layer; only vector layers and the basemap can be exported."
        )
    if version is not None:
        if name == BASEMAP:
            raise click.ClickException(
                "--version applies to a single layer; the basemap is always exported live."
            )
        with psycopg.connect(services().settings.database_url) as conn:
            catalog = {**catalog, name: load_layer_version(conn, name, version)}
    return resolve_tileset(name, catalog)


@click.command("export")
@click.argument("name")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="pmtiles",
    show_default=True,
    help="PMTiles v3 (one file, range requests) or MBTiles 1.3 (SQLite).",
)
@click.option("--minzoom", type=int, help="Lowest zoom (default: the tileset's).")
@click.option("--maxzoom", type=int, help="Highest zoom (default: the tileset's, at most 16).")
@click.option(
    "--bbox",
    callback=_bbox,
    help="west,south,east,north in WGS 84 degrees (default: the tileset's bounds).",
)
@click.option(
    "--version", "version", type=int, help="A kept earlier version of a layer (default: live)."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The archive to write (default: NAME.FORMAT here); replaced only when complete.",
)
@with_appcontext
def export_command(
    name: str,
    fmt: str,
    minzoom: int | None,
    maxzoom: int | None,
    bbox: Bbox | None,
    version: int | None,
    output: Path | None,
) -> None:
    """Write NAME's tiles (a vector layer, or `basemap`) into a PMTiles or MBTiles archive.

    Tiles are stored gzip-compressed, byte for byte as the service sends them; empty tiles
    are left out. The archive's metadata holds the TileJSON fields and the data version.
    """
    target = output or Path(f"{name}.{fmt}")
    if not target.parent.is_dir():
        raise click.ClickException(f"The folder {target.parent} does not exist.")
    try:
        tileset = _tileset(name, version)
        plan = plan_export(tileset, minzoom, maxzoom, bbox)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    renderer = services().renderer
    metadata = plan.metadata(renderer.options.max_bytes)
    label = f"{name} v{tileset.version} z{plan.minzoom}-{plan.maxzoom}"
    try:
        with (
            click.progressbar(length=plan.tile_count(), label=label, file=sys.stderr) as bar,
            open_archive(fmt, target, metadata) as archive,
        ):
            written = export_tiles(plan, renderer, archive, bar.update)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{target}: {written} tiles of {name} version {tileset.version}, zooms "
        f"{plan.minzoom}-{plan.maxzoom}, bbox {','.join(f'{v:.6f}' for v in plan.bbox)}."
    )
