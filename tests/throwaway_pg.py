"""A throwaway PostgreSQL + PostGIS server: its own folder and port, stopped and started at will.

For tests and benchmarks that take the database away on purpose. It never touches the shared
server on 5432: ``initdb`` makes a new cluster in a temporary folder, ``pg_ctl`` runs it on a
free port of 127.0.0.1 (socket in that folder too), and leaving the ``with`` block stops it and
deletes the folder, whatever happened::

    from tests.throwaway_pg import ThrowawayPostgres, missing_reason

    if (reason := missing_reason()) is not None:
        ...  # skip: the PostgreSQL server binaries are not installed
    with ThrowawayPostgres() as pg:          # initdb + start: about 2 s
        url = pg.create_database("webmap")   # with PostGIS: postgresql://postgres@127.0.0.1:PORT/webmap
        pg.stop()                            # pg_ctl stop -m immediate: like a crash
        pg.start()                           # crash recovery, then accepting connections again

A streaming replica of such a server (``pg_basebackup -R``: a hot standby on a port of its own,
in a folder of its own, removed in the same way)::

    with ThrowawayPostgres() as primary, StreamingReplica(primary) as replica:
        replica.url("webmap")  # read-only, replaying the primary's WAL

Run as root (as here), every server command runs as the ``postgres`` user, who owns the folder.
The binaries come from ``WEBMAP_PG_BINDIR`` or ``/usr/lib/postgresql/15/bin``. The server trades
durability for speed (``fsync=off``): it exists for one run. A script outside pytest (``bench/``)
imports it after putting the project folder on ``sys.path``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg

DEFAULT_BINDIR = Path("/usr/lib/postgresql/15/bin")
_TOOLS = ("initdb", "pg_ctl", "postgres")
# fsync off: the tests kill the server, never the machine, so the OS keeps every write. Commits
# stay synchronous: with synchronous_commit=off a commit made just before `pg_ctl stop -m
# immediate` was lost in crash recovery (the sample layer vanished after an outage test).
_SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off"
    " -c full_page_writes=off -c jit=off -c max_connections=100 -c shared_buffers=32MB"
)


def bindir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are: ``WEBMAP_PG_BINDIR``, else PostgreSQL 15 on Debian."""
    return Path(os.environ.get("WEBMAP_PG_BINDIR", str(DEFAULT_BINDIR)))


def missing_reason(directory: Path | None = None) -> str | None:
    """Why a throwaway server cannot be made here, or ``None`` when it can."""
    directory = directory or bindir()
    missing = [tool for tool in _TOOLS if not (directory / tool).is_file()]
    if missing:
        return f"PostgreSQL server binaries missing in {directory}: {', '.join(missing)}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, but there is no 'postgres' user to run the server as"
    return None


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPostgres:
    """One PostgreSQL cluster in a temporary folder; a context manager that always cleans up."""

    def __init__(self, directory: Path | None = None, port: int | None = None) -> None:
        self.bindir = directory or bindir()
        reason = missing_reason(self.bindir)
        if reason is not None:
            raise RuntimeError(reason)
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="webmap-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> ThrowawayPostgres:
        try:
            self.init()
            self.start()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.destroy()

    def init(self) -> None:
        """``initdb``: trust authentication for ``postgres``, UTF-8, the C.UTF-8 locale."""
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )

    def start(self, timeout: int = 60) -> None:
        """Start the server and wait until it accepts connections (after crash recovery)."""
        options = f"-p {self.port} -k {self.root} {_SERVER_OPTIONS}"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", str(timeout), "start",
        )  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server; ``immediate`` (the default) kills it without a shutdown checkpoint,
        as a crash or a pulled plug would; ``fast`` is an orderly stop."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        """Whether the server process is alive (``pg_ctl status``)."""
        if not self.data.is_dir():
            return False
        done = subprocess.run(
            self._command("pg_ctl", "-D", str(self.data), "status"),
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def destroy(self) -> None:
        """Stop the server if it runs and delete its folder; safe to call more than once."""
        try:
            if self.is_running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- databases -------------------------------------------------------------------------

    def url(self, dbname: str = "postgres") -> str:
        """The ``postgresql://`` URL of ``dbname`` on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str, postgis: bool = True) -> str:
        """Create ``name`` (with the PostGIS extension unless told not to); returns its URL."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        if postgis:
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        return self.url(name)

    # -- running the server's tools --------------------------------------------------------

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bindir / tool), *args]
        return ["runuser", "-u", "postgres", "--", *command] if self._as_postgres else command

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            self._command(tool, *args),
            capture_output=True,
            text=True,
            check=False,
            cwd=self.root,
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
                + (f"\nserver log:\n{log}" if log else "")
            )


class StreamingReplica(ThrowawayPostgres):
    """A hot standby of ``primary``: ``pg_basebackup -R`` instead of ``initdb``, then started on a
    port of its own. The primary needs nothing more than ``initdb``'s defaults: ``wal_level``
    replica, ten WAL senders, and ``pg_hba.conf`` lines that trust local replication."""

    def __init__(self, primary: ThrowawayPostgres, port: int | None = None) -> None:
        super().__init__(primary.bindir, port)
        self.primary = primary

    def init(self) -> None:
        """Copy the running primary (``-X stream``: the WAL it needs comes along; ``-R``: the
        copy starts as a standby that streams from the primary)."""
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
            "-D", str(self.data), "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
