"""The WSGI server ``webmap serve`` runs the app in: granian (the default) or gunicorn.

Both run behind nginx in production (``webmap serve --proxy``, :mod:`webmap.cli.production`),
on a unix socket; both are started in this process, which becomes their master, so the workers
are its children (``ProductionServer.app_workers``).

Why granian: a gunicorn gthread worker spends about a millisecond of CPU per request in
pure-Python HTTP parsing and thread hand-offs, more than a small tile's SQL (issue 11 §2). granian
parses HTTP in Rust and hands each request to a Python thread only to run the app; measured side
by side behind the same nginx (README "Vector tiles", bench/tiles.py ``--servers``) it answers the
same requests in less time and CPU. gunicorn stays selectable (``--server gunicorn``).

Common to both: ``PROMETHEUS_MULTIPROC_DIR`` is a fresh folder the workers write their metric
files to (set before any worker starts), SIGHUP replaces the workers gracefully, SIGTERM stops
them gracefully, a worker that dies is started again, and a worker whose master died exits.
Access lines carry paths only, never query strings (citizens' searches and positions); behind
nginx (a unix socket) only nginx writes them.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

SERVERS = ("granian", "gunicorn")
DEFAULT_SERVER = "granian"


def worker_app() -> Any:
    """The app in a granian worker; the worker ends when its master does (Linux), as gunicorn's
    workers do when they notice their parent changed."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the master died before the line above ran
        os._exit(1)
    from webmap import create_app

    return create_app()


def run(
    server: str, host: str, port: int, unix_socket: str | None, workers: int, threads: int
) -> None:
    """Serve the app with ``server`` until stopped (SIGTERM or SIGINT)."""
    metrics_dir = fresh_metrics_dir(unix_socket)
    master = os.getpid()
    try:
        if server == "granian":
            _run_granian(host, port, unix_socket, workers, threads)
        else:
            _run_gunicorn(host, port, unix_socket, workers, threads)
    finally:
        # gunicorn's workers are forks of this frame and leave through it too (a reload, max
        # requests): only the master may remove the folder, or the next workers find it gone.
        if os.getpid() == master:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _run_granian(host: str, port: int, unix_socket: str | None, workers: int, threads: int) -> None:
    from granian.constants import Interfaces, RuntimeModes
    from granian.server import Server

    Server(
        "webmap.cli.app_server:worker_app",
        address=host,
        port=port,
        uds=Path(unix_socket) if unix_socket else None,
        # As gunicorn's: nginx's workers (www-data when started as root) must connect; the
        # folder around it is the runtime folder of `serve --proxy`.
        uds_permissions=0o666 if unix_socket else None,
        interface=Interfaces.WSGI,
        factory=True,
        workers=workers,
        # Python threads per worker that run requests (gunicorn's --threads); HTTP itself is
        # handled by one Rust runtime thread per worker.
        blocking_threads=threads,
        runtime_mode=RuntimeModes.st,
        websockets=False,
        respawn_failed_workers=True,
        # Behind nginx, nginx logs each request (with its cache status); alone, granian does,
        # path only: its format has no query string.
        log_access=not unix_socket,
        workers_kill_timeout=30,
    ).serve()


def _run_gunicorn(
    host: str, port: int, unix_socket: str | None, workers: int, threads: int
) -> None:
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"unix:{unix_socket}" if unix_socket else f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                # Behind nginx (a unix socket, `serve --proxy`) nginx logs every request, with
                # its cache status; a second line per request from gunicorn costs each request
                # a formatted line and a write (bench/tiles.py, README "Vector tiles").
                "accesslog": None if unix_socket else "-",
                # Query strings can carry a citizen's coordinates: log the path only.
                "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
                "child_exit": _metrics_child_exit,
            }
            if unix_socket and "control_socket" in self.cfg.settings:  # gunicorn >= 25.1
                # Its own control socket (gunicornc), not one shared by every gunicorn of the user.
                options["control_socket"] = str(Path(unix_socket).with_suffix(".ctl"))
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from webmap import create_app

            return create_app()

    _Server().run()


def fresh_metrics_dir(unix_socket: str | None) -> Path:
    """An empty folder for the workers' metric files, named in ``PROMETHEUS_MULTIPROC_DIR``.

    Fresh on every start: files left by an earlier run would be summed into this one's counters.
    Beside the socket (the runtime folder of ``serve --proxy``), else a private temp folder.
    """
    if unix_socket:
        folder = Path(unix_socket).resolve().parent / "prometheus"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(mode=0o700, parents=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="webmap-prometheus-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # the workers inherit it
    return folder


def _metrics_child_exit(_server: Any, worker: Any) -> None:
    """gunicorn hook: a dead worker's live gauges leave the sum (counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
