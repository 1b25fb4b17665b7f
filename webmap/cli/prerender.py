"""``webmap tiles prerender``: queue, run and watch the pre-rendering of low-zoom tiles.

- ``webmap tiles prerender [LAYER]``: queue jobs for what is live, render what is waiting (only
  LAYER's, or the basemap's with ``basemap``) and exit; resumes whatever an earlier run left.
- ``webmap tiles prerender --worker``: keep doing that, woken by each publish; this is what
  ``webmap serve --proxy`` runs beside the app server, and what a node without it runs as a service.
- ``webmap tiles prerender [LAYER] --status``: each job's state and tiles done of total.

A command of its own module, added to the ``tiles`` group in :mod:`webmap.cli`.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import click
import psycopg
from flask import current_app
from flask.cli import with_appcontext

from tiles.prerender import status
from tiles.prerender_worker import ChunkDone, PrerenderWorker, Reconnecting
from webmap.services import tile_options
from webmap.settings import Settings


def _settings() -> Settings:
    settings: Settings = current_app.config["WEBMAP_SETTINGS"]
    return settings


def _open() -> psycopg.Connection[Any]:
    # The app's statement timeout is for requests; a low-zoom tile of a big layer may take
    # longer, and nobody waits on it here. JIT off as in the app's pool (webmap.db).
    return psycopg.connect(
        _settings().database_url,
        autocommit=True,
        application_name="webmap-prerender",
        options="-c statement_timeout=300000 -c jit=off",
    )


@contextmanager
def _connection() -> Iterator[psycopg.Connection[Any]]:
    try:
        with _open() as conn:
            yield conn
    except psycopg.OperationalError as exc:
        message = f"Cannot reach PostgreSQL at WEBMAP_DATABASE_URL: {exc}"
        raise click.ClickException(message) from exc


@click.command("prerender")
@click.argument("layer", required=False)
@click.option("--status", "show_status", is_flag=True, help="Show the jobs and their progress.")
@click.option("--all", "show_all", is_flag=True, help="With --status: superseded jobs too.")
@click.option("--json", "as_json", is_flag=True, help="With --status: as JSON.")
@click.option(
    "--worker",
    is_flag=True,
    help="Keep running: render each newly published version's low zooms (SIGTERM stops it "
    "after the tile in hand; an unfinished chunk is rendered again by the next worker).",
)
@click.option(
    "--poll", default=30.0, show_default=True, help="With --worker: seconds between checks."
)
@with_appcontext
def prerender(
    layer: str | None,
    show_status: bool,
    show_all: bool,
    as_json: bool,
    worker: bool,
    poll: float,
) -> None:
    """Pre-render tiles z0..WEBMAP_PRERENDER_MAX_ZOOM of LAYER (a vector layer or `basemap`),
    or of every public layer and the basemap."""
    settings = _settings()
    if show_status:
        with _connection() as conn:
            jobs = status(conn, layer, include_superseded=show_all)
        if as_json:
            click.echo(json.dumps([job.as_json() for job in jobs], indent=2))
            return
        if not jobs:
            click.echo("No pre-render jobs.")
        for job in jobs:
            share = job.tiles_done / job.tiles_total * 100 if job.tiles_total else 100.0
            click.echo(
                f"{job.tileset:<24} v{job.version:<13} z{job.min_zoom}-{job.max_zoom:<3} "
                f"{job.state:<10} {job.tiles_done}/{job.tiles_total} tiles ({share:.0f} %) "
                f"updated {job.updated_at}"
            )
        return
    if not settings.prerender:
        raise click.ClickException("Pre-rendering is off (WEBMAP_PRERENDER=false).")

    def report(done: ChunkDone) -> None:
        if done.tiles:
            click.echo(f"{done.tileset}: job {done.job}, {done.tiles} tiles", err=True)

    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        if worker:
            connect = Reconnecting(_open)
            runner = PrerenderWorker(
                connect, tile_options(settings), settings.prerender_max_zoom, only=layer
            )
            click.echo("webmap: pre-render worker started", err=True)
            try:
                runner.run_forever(_open, stop, poll, report)
            finally:
                connect.close()
            return
        with _connection() as conn:
            runner = PrerenderWorker(
                lambda: nullcontext(conn),
                tile_options(settings),
                settings.prerender_max_zoom,
                only=layer,
            )
            queued = runner.reconcile()
            if queued:
                click.echo(f"Queued jobs: {', '.join(map(str, queued))}", err=True)
            rendered = runner.drain(stop, progress=report)
            click.echo(f"Rendered {rendered} tiles." + (" Stopped." if stop.is_set() else ""))
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if stop.is_set():
        sys.exit(1)
