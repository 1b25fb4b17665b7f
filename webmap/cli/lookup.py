"""``webmap addresses import FILE`` and ``webmap properties import FILE``.

Both print progress to stderr and end with a summary of what was stored and what was skipped
and why, so whoever loads a register can see at once whether the column mapping was right.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
import psycopg
from flask import current_app
from flask.cli import AppGroup

from layers.errors import InvalidInput
from layers.lookup.fastighetsindelning import LAYER, is_register_file, open_register
from layers.lookup.properties import import_properties
from layers.lookup.property_register import import_register
from layers.lookup.readers import open_addresses, read_properties
from layers.lookup.store import import_addresses
from layers.registers import lm_read, lm_store
from webmap.settings import Settings

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _database_url() -> str:
    settings: Settings = current_app.config["WEBMAP_SETTINGS"]
    return settings.database_url


def _mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise click.BadParameter(f"{pair!r} is not FIELD=COLUMN", param_hint="--map")
        mapping[field.strip().lower()] = column.strip()
    return mapping


def _progress(stage: str, done: int, total: int) -> None:
    if stage != "read" or done % 50_000 == 0:
        of = f" of {total}" if total else ""
        click.echo(f"  {stage}: {done}{of} rows", err=True)


@click.group("addresses", cls=AppGroup)
def addresses_group() -> None:
    """Address registers for search and reverse lookup."""


@addresses_group.command("import")
@click.argument("file", type=_FILE)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["osm", "csv", "vector"]),
    help="Default: from the file name (.osm/.pbf, .csv, anything else via GDAL).",
)
@click.option("--srid", type=int, help="EPSG code of the coordinates (CSV default 4326).")
@click.option(
    "--map",
    "pairs",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Column of a field: x, y, street, number, address, postcode, city, district, id.",
)
@click.option("--delimiter", help="CSV delimiter (default: guessed from the header).")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="CSV text encoding.")
@click.option("--layer", help="Layer of a multi-layer file (GeoPackage).")
@click.option("--source", help="Name recorded with the rows (default: the file name).")
@click.option("--replace", is_flag=True, help="First remove rows imported from the same source.")
@click.option(
    "--municipality",
    help="4-digit code for a municipality's own register (else each row's position decides).",
)
@click.option(
    "--changes",
    is_flag=True,
    help="Lantmäteriet's address register only: apply FILE as a change extract (additions, "
    "changes, removals by object identity) instead of replacing the register.",
)
def import_addresses_command(
    file: Path,
    file_format: str | None,
    srid: int | None,
    pairs: tuple[str, ...],
    delimiter: str | None,
    encoding: str,
    layer: str | None,
    source: str | None,
    replace: bool,
    municipality: str | None,
    changes: bool,
) -> None:
    """Import addresses from OSM (addr:*), CSV or GeoPackage/GeoJSON.

    Lantmäteriet's "Belägenhetsadress Nedladdning, vektor" GeoPackage is recognised by its
    layout and needs no mapping: a full load replaces the register atomically, ``--changes``
    applies a change extract (docs/api-lookup.md).
    """
    if municipality is not None and not re.fullmatch(r"[0-9]{4}", municipality):
        raise click.BadParameter("a 4-digit code such as 1280", param_hint="--municipality")
    try:
        register = None if pairs or file_format else lm_read.recognise(file, layer)
        if register is not None:
            _import_address_register(register, source or file.name, changes)
            return
        if changes:
            raise click.UsageError(
                "--changes is for Lantmäteriet's address register (Belägenhetsadress "
                f"Nedladdning, vektor); {file.name} is not in that layout."
            )
        opened = open_addresses(
            file, file_format, srid, _mapping(pairs), delimiter, encoding, layer
        )
        click.echo(f"Importing {file.name} (EPSG:{opened.srid}) …", err=True)
        with psycopg.connect(_database_url()) as conn:
            report = import_addresses(
                conn,
                opened.rows,
                opened.srid,
                source or file.name,
                _progress,
                replace,
                municipality,
            )
    except InvalidInput as exc:
        raise click.ClickException(exc.detail) from exc
    for line in report.lines():
        click.echo(line)


def _register_progress(stage: str, done: int, total: int) -> None:
    if stage == "read":
        share = f" of {total} ({100 * done // total} %)" if total else ""
        click.echo(f"  read {done}{share} rows", err=True)
    else:
        click.echo(f"  {stage} …", err=True)


def _import_address_register(register: lm_read.LmFile, label: str, changes: bool) -> None:
    """Lantmäteriet's address register: a full load, or a change extract with ``changes``."""
    what = "change extract" if changes else "address register"
    click.echo(
        f"Importing {register.path.name}: Lantmäteriet {what}, layer {register.layer!r}, "
        f"{register.features} features (EPSG:3006) …",
        err=True,
    )
    apply = lm_store.apply_changes if changes else lm_store.load_register
    try:
        with psycopg.connect(_database_url()) as conn:
            report = apply(
                conn, lm_read.read_rows(register), label, register.features, _register_progress
            )
    except (psycopg.Error, OSError, RuntimeError) as exc:
        # pyogrio's read errors are RuntimeErrors; the transaction was rolled back.
        raise click.ClickException(
            f"{register.path.name}: the import failed and changed nothing ({exc})"
        ) from exc
    for line in report.lines():
        click.echo(line)


@click.group("properties", cls=AppGroup)
def properties_group() -> None:
    """Property units (fastigheter) for search and reverse lookup."""


@properties_group.command("import")
@click.argument("file", type=_FILE)
@click.option("--srid", type=int, help="EPSG code when the file does not say it.")
@click.option(
    "--map", "pairs", multiple=True, metavar="FIELD=COLUMN", help="Fields: designation, id."
)
@click.option("--layer", help="Layer of a multi-layer file (GeoPackage).")
@click.option("--source", help="Name recorded with the rows (default: the file name).")
@click.option(
    "--fictional/--real",
    default=False,
    show_default=True,
    help="Mark the units as invented (shown as '(fiktiv)' everywhere).",
)
def import_properties_command(
    file: Path,
    srid: int | None,
    pairs: tuple[str, ...],
    layer: str | None,
    source: str | None,
    fictional: bool,
) -> None:
    """Import property polygons with designations ("Sundsvall Skönsberg 1:23").

    Lantmäteriet's "Fastighetsindelning Nedladdning, vektor" GeoPackage (layer
    registerenhetsomradesyta) is recognised and read without a mapping; its units replace those
    of the same --source at once (search answers from the old ones until the new are in).
    """
    try:
        if not pairs and layer in (None, LAYER) and is_register_file(file):
            _import_property_register(file, source or file.name, srid)
            return
        file_srid, rows = read_properties(file, srid, _mapping(pairs), layer)
        click.echo(f"Importing {file.name} (EPSG:{file_srid}) …", file=sys.stderr)
        with psycopg.connect(_database_url()) as conn:
            report = import_properties(conn, rows, file_srid, source or file.name, fictional)
    except InvalidInput as exc:
        raise click.ClickException(exc.detail) from exc
    for line in report.lines():
        click.echo(line)


def _import_property_register(file: Path, source: str, srid: int | None) -> None:
    """Lantmäteriet's property register: areas grouped into units, swapped in atomically."""
    opened = open_register(file)
    file_srid = srid or opened.srid
    click.echo(
        f"Importing {file.name}: Lantmäteriet Fastighetsindelning, {opened.count} areas "
        f"(EPSG:{file_srid}) …",
        err=True,
    )
    with psycopg.connect(_database_url()) as conn:
        report = import_register(conn, opened.rows, file_srid, source, _progress, opened.count)
    for line in report.lines():
        click.echo(line)
