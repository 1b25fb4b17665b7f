"""Read replicas: which server answers a read (``WEBMAP_DATABASE_READ_URLS``).

Tiles, search, reverse and OGC reads may go to a streaming replica (a hot standby); writes, the
catalog snapshot, sessions and everything staff do stay on the primary (:func:`webmap.db.get_pool`).

The lag rule: a replica answers only once it has replayed the primary's WAL at least as far as
the position noted with this process's catalog snapshot (:meth:`layers.catalog.CatalogCache
.wal_position`). Every version the snapshot names, and the table behind it, was committed before
that position, so a replica that has got there holds exactly what the snapshot promises; one
that has not (replay lagging or paused) is passed over and the primary answers. A versioned tile
URL therefore never gets another version's bytes, nor a missing-table error.

Checking costs one short query on the replica's connection, and only when the snapshot has
moved past what that replica was last seen to have replayed (replay only moves forward), so
a caught-up replica is checked about once per snapshot (``WEBMAP_CATALOG_TTL``), not per read.

A replica that cannot be reached is passed over too: each replica has its own
:class:`webmap.db.Database`, whose circuit breaker refuses at once while it is down, so reads fall
back to the primary without waiting. A server that is not a standby (``pg_last_wal_replay_lsn()``
is null) is never used: nothing says what it holds.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
from flask import Flask, current_app
from psycopg_pool import PoolTimeout

from webmap.db import Database, get_pool
from webmap.http import metrics
from webmap.settings import Settings

log = logging.getLogger(__name__)

_EXTENSION_KEY = "webmap.reads"

#: What a replica's check reads: how far it has replayed, in bytes (null on a primary).
_REPLAYED_SQL = "SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn"

#: Seconds /readyz waits for a replica's connection before calling it unreachable.
_PROBE_TIMEOUT = 1.0

OK, UNREACHABLE, BEHIND, NOT_STANDBY = (
    "ok",
    "unreachable: reads use the primary",
    "behind the primary: reads use the primary until it catches up",
    "not a standby: never used",
)


class Replica:
    """One read replica: its guarded pool and the furthest replay position seen on it."""

    def __init__(self, name: str, database: Database) -> None:
        self.name = name
        self.database = database
        # Only grows while the replica stays reachable (replay never goes back); forgotten when
        # it goes down, since whatever answers next at that address may be another server.
        self.replayed = -1
        self._lock = threading.Lock()

    def note(self, replayed: int | None) -> None:
        """Remember ``replayed`` (``None``: not a standby, so never trusted)."""
        with self._lock:
            self.replayed = -1 if replayed is None else max(self.replayed, replayed)

    def forget(self) -> None:
        with self._lock:
            self.replayed = -1


def replayed_position(conn: psycopg.Connection[Any]) -> int | None:
    """How far the server of ``conn`` has replayed WAL, in bytes; ``None`` when not a standby."""
    row = conn.execute(_REPLAYED_SQL).fetchone()
    return None if row is None or row[0] is None else int(row[0])


class ReadRouter:
    """Hands out a connection for a read: a replica that holds the snapshot's data, else the
    primary. With no replicas it is the primary's pool and nothing more."""

    def __init__(
        self,
        primary: Database,
        replicas: list[Replica],
        required: Callable[[], int | None],
    ) -> None:
        self.primary = primary
        self.replicas = replicas
        self._required = required
        self._turn = itertools.count()  # round robin over the replicas

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection for a read (autocommit, returned afterwards), from a replica when one
        has replayed far enough (counted in ``webmap_db_reads_total{server=…}``)."""
        if not self.replicas:
            with self.primary.connection() as conn:
                yield conn
            return
        with ExitStack() as stack:
            replica = self._replica_connection(stack)
            metrics.count_read("primary" if replica is None else "replica")
            yield replica or stack.enter_context(self.primary.connection())

    def _replica_connection(self, stack: ExitStack) -> psycopg.Connection[Any] | None:
        """A connection of the first replica (in turn) that has replayed far enough, entered
        into ``stack``; ``None`` when none has (or none answers)."""
        required = self._required()
        if required is None:  # the catalog does not track the WAL: nothing can be promised
            return None
        start = next(self._turn)
        for offset in range(len(self.replicas)):
            replica = self.replicas[(start + offset) % len(self.replicas)]
            if replica.database.is_down():
                replica.forget()
                continue
            attempt = ExitStack()
            try:
                conn = attempt.enter_context(replica.database.connection())
                if replica.replayed < required:
                    replica.note(replayed_position(conn))
            except (psycopg.Error, PoolTimeout):
                attempt.close()
                replica.forget()
                continue
            if replica.replayed >= required:
                stack.enter_context(attempt.pop_all())
                return conn
            attempt.close()
        return None

    def status(self) -> dict[str, str]:
        """Each replica's state for /readyz: :data:`OK`, :data:`UNREACHABLE`, :data:`BEHIND` or
        :data:`NOT_STANDBY` (never raises); empty without replicas."""
        if not self.replicas:
            return {}
        try:
            required = self._required()
        except (psycopg.Error, PoolTimeout):
            required = None  # the primary's own check reports that
        found: dict[str, str] = {}
        for replica in self.replicas:
            try:
                with replica.database.connection(timeout=_PROBE_TIMEOUT) as conn:
                    replayed = replayed_position(conn)
            except (psycopg.Error, PoolTimeout):
                replica.forget()
                found[replica.name] = UNREACHABLE
                continue
            replica.note(replayed)
            if replayed is None:
                found[replica.name] = NOT_STANDBY
            elif required is not None and replayed < required:
                found[replica.name] = BEHIND
            else:
                found[replica.name] = OK
        return found

    def close(self) -> None:
        """Close the replicas' pools (the primary's belongs to webmap.db)."""
        for replica in self.replicas:
            replica.database.close()


def init_app(app: Flask, settings: Settings, required: Callable[[], int | None]) -> ReadRouter:
    """Attach the router: one guarded pool per replica (opened on first use), named
    ``replica-1``, ``replica-2`` … in the order of ``WEBMAP_DATABASE_READ_URLS`` (the names,
    not the URLs, appear in /readyz and the logs: no host or password leaks there)."""
    replicas = [
        Replica(name, Database(settings, url=url, name=name))
        for name, url in ((f"replica-{n}", url) for n, url in enumerate(settings.read_urls, 1))
    ]
    router = ReadRouter(get_pool(app), replicas, required)
    app.extensions[_EXTENSION_KEY] = router
    if replicas:
        import atexit

        atexit.register(router.close)
    return router


def reads(app: Flask | None = None) -> ReadRouter:
    """The read router of ``app`` (or of the current app); use ``.connection()``."""
    target = app if app is not None else current_app
    router: ReadRouter = target.extensions[_EXTENSION_KEY]
    return router
