"""The ``webmap`` command: database set-up, sample data, and the production server."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import psycopg
from flask import current_app
from flask.cli import FlaskGroup

from layers.lookup.sample import load_lookup_sample
from layers.schema import ensure_database, upgrade
from webmap import create_app
from webmap.cli.app_server import DEFAULT_SERVER, SERVERS
from webmap.cli.app_server import run as run_app_server
from webmap.cli.doctor import doctor
from webmap.cli.layers import layers_group
from webmap.cli.lookup import addresses_group, properties_group
from webmap.cli.municipalities import municipalities_group
from webmap.cli.prerender import prerender
from webmap.cli.rasters import rasters_group
from webmap.cli.staff import staff_group, tokens_group
from webmap.cli.tile_export import export_command
from webmap.cli.tiles import tiles_group
from webmap.services import publishing_for
from webmap.settings import SampleDataMissing, Settings, sample_data_dir


def _settings() -> Settings:
    settings: Settings = current_app.config["WEBMAP_SETTINGS"]
    return settings


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """webmap: accessible maps and address lookups from PostGIS."""


main.add_command(layers_group)
main.add_command(tokens_group)
main.add_command(staff_group)
main.add_command(municipalities_group)
main.add_command(addresses_group)
main.add_command(properties_group)
main.add_command(rasters_group)
main.add_command(doctor)
main.add_command(tiles_group)
tiles_group.add_command(prerender)
tiles_group.add_command(export_command)  # webmap tiles export (docs/export.md)


@main.group("db")
def db_group() -> None:
    """Create and migrate the database."""


@db_group.command("init")
def db_init() -> None:
    """Create the database if missing, add extensions and apply migrations (idempotent)."""
    url = _settings().database_url
    try:
        if ensure_database(url):
            click.echo("Created the database.")
        upgrade(url)
    except psycopg.OperationalError as exc:
        raise click.ClickException(
            f"Cannot reach PostgreSQL at WEBMAP_DATABASE_URL: {exc}"
        ) from exc
    click.echo("Database schema is up to date.")


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations this code ships, under a lock (safe from several nodes at once)."""
    try:
        upgrade(_settings().database_url)
    except psycopg.OperationalError as exc:
        raise click.ClickException(
            f"Cannot reach PostgreSQL at WEBMAP_DATABASE_URL: {exc}"
        ) from exc
    click.echo("Database schema is up to date.")


@main.group("data")
def data_group() -> None:
    """Load data shipped with the project."""


@data_group.command("load-sample")
@click.option("--only", multiple=True, help="Load just this layer (repeatable).")
@click.option(
    "--data-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder with the sample files (default: WEBMAP_DATA_DIR, else data/ of the source "
    "checkout).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Publish every chosen layer again, even if its sources are unchanged.",
)
def load_sample_command(only: tuple[str, ...], data_dir: Path | None, force: bool) -> None:
    """Publish the sample basemap layers (Lantmäteriet 1:1 miljon, OSM Östermalm).

    A layer whose live version was made from the same files is left as it is (no new version,
    so its tile URLs stay cached), unless --force is given.
    """
    try:
        folder = data_dir or sample_data_dir(_settings())
    except SampleDataMissing as exc:
        raise click.ClickException(str(exc)) from exc
    with click.progressbar(length=1, label="Sample data", file=sys.stderr) as bar:

        def progress(name: str, done: int, total: int) -> None:
            bar.length = total
            bar.label = f"Sample data: {name}" if name else "Sample data: done"
            bar.update(done - bar.pos)

        with psycopg.connect(_settings().database_url) as conn:
            publishing = publishing_for(_settings())
            layers = publishing.load_sample(conn, folder, progress, set(only) or None, force)
            counts = {
                name: f"{done.features} features (version {done.version}"
                + (")" if done.published else ", unchanged)")
                for name, done in layers.items()
            }
            if not only or "lookup" in only:
                lookups = load_lookup_sample(conn, folder, progress)
                counts.update({name: f"{count} features" for name, count in lookups.items()})
    for name, text in counts.items():
        click.echo(f"{name}: {text}")


# No app context: the master must not build the app (and import prometheus_client) before
# serve() has set PROMETHEUS_MULTIPROC_DIR; each worker builds its own app.
@main.command("serve", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@click.option(
    "--server",
    "app_server",
    type=click.Choice(SERVERS),
    default=DEFAULT_SERVER,
    show_default=True,
    envvar="WEBMAP_APP_SERVER",
    help='The WSGI server the app runs in (docs/deploy.md, "The app server").',
)
@click.option(
    "--proxy",
    is_flag=True,
    help="Production: nginx on HOST:PORT in front of the app server on a unix socket "
    "(docs/deploy.md).",
)
@click.option(
    "--runtime-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --proxy: folder for nginx's config, socket, cache and logs "
    "(default: var/run/nginx-PORT in the project).",
)
@click.option(
    "--nginx-template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --proxy: your copy of deploy/nginx/webmap.conf.template (e.g. with TLS).",
)
@click.option(
    "--prerender/--no-prerender",
    default=True,
    show_default=True,
    help="With --proxy: run the pre-render worker (`webmap tiles prerender --worker`) beside "
    "the app server, so published versions' low zooms are rendered before anyone asks.",
)
@click.option("--socket", "unix_socket", help="Bind the app server to this unix socket instead.")
def serve(
    host: str,
    port: int,
    workers: int,
    threads: int,
    app_server: str,
    proxy: bool,
    runtime_dir: Path | None,
    nginx_template: Path | None,
    prerender: bool,
    unix_socket: str | None,
) -> None:
    """Run the production server: the app server alone, or behind nginx with --proxy."""
    if proxy:
        from webmap.cli.nginx_config import TEMPLATE
        from webmap.cli.production import ProductionServer, ServerError

        server = ProductionServer(
            host=host,
            port=port,
            runtime_dir=runtime_dir,
            workers=workers,
            threads=threads,
            app_server=app_server,
            template=nginx_template or TEMPLATE,
            prerender=prerender,
        )
        try:
            code = server.run_forever()
        except ServerError as exc:
            raise click.ClickException(str(exc)) from exc
        # nginx and the app server are stopped: leave now. Tearing down this interpreter (GDAL,
        # PROJ, everything the CLI imports) took seconds on a busy machine, and systemd restarts
        # the service only once this process is gone (deploy/systemd/webmap.service).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    run_app_server(app_server, host, port, unix_socket, workers, threads)
