"""The database connections of one process: a psycopg pool behind a small circuit breaker.

The pool is created on first use, so importing or building the app does not connect, and
app server workers (granian or gunicorn) each open their own pool after the fork.

When PostgreSQL cannot be reached, requests must not each wait out the pool timeout, and when it
comes back, no request may be handed a connection that died with the old server. So:

- every connection is checked before it is handed out: one that has nothing waiting on its
  socket is as good as new (a restarting server's backends send a FATAL message and close, so a
  stale connection shows up there), anything else gets an empty round trip (:func:`_check`);
- a failed connection attempt (by the pool's own workers or by a probe) marks the database
  *down* for ``WEBMAP_DB_RETRY_AFTER`` seconds: the pool is closed, which wakes every request
  waiting in it, and until the time is up :meth:`Database.connection` raises
  :class:`DatabaseDown` at once, without touching the network (HTTP 503 with ``Retry-After``);
- after that, one request probes with a plain connection (bounded by
  ``WEBMAP_DB_CONNECT_TIMEOUT``) before a fresh pool is opened; a connection found dead while
  the server answers (it restarted) makes the pool check every idle connection first.
"""

from __future__ import annotations

import atexit
import logging
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from flask import Flask, current_app
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from webmap.http import metrics
from webmap.settings import Settings

log = logging.getLogger(__name__)

_EXTENSION_KEY = "webmap.pool"

# TCP keepalives and a bound on unacknowledged data: a connection whose network went silent
# fails within seconds instead of hanging until the kernel's two-hour default.
_KEEPALIVE: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}

_IDLE = TransactionStatus.IDLE

#: Seconds a request waits for another request's probe before answering 503 itself.
_PROBE_WAIT = 0.5


class DatabaseDown(psycopg.OperationalError):
    """The database is known to be unreachable; raised without waiting on the network."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("The database is unreachable; try again shortly.")
        self.retry_after = retry_after


def _watched_connection(on_failure: Callable[[], None]) -> type[psycopg.Connection[Any]]:
    """A connection class that reports failed connection attempts (the pool's public hook)."""

    class WatchedConnection(psycopg.Connection[Any]):
        @classmethod
        def connect(cls, *args: Any, **kwargs: Any) -> WatchedConnection:
            try:
                return super().connect(*args, **kwargs)
            except psycopg.OperationalError:
                on_failure()
                raise

    return WatchedConnection


class Database:
    """Hands out checked pool connections, and refuses at once while the server is down."""

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
        *,
        url: str | None = None,
        name: str = "webmap",
    ) -> None:
        self._settings = settings
        self._url = url or settings.database_url  # a read replica's, else the primary's
        self.name = name  # in log lines and the pool's name: which server is down
        self._clock = clock
        self._pool: ConnectionPool[Any] | None = None
        self._lock = threading.Lock()  # guards _pool, _down_until, _suspect
        self._probing = threading.Lock()  # one probe at a time
        self._down_until = 0.0
        self._suspect = False  # a connection failed: probe before trusting the pool again
        self._connection_class = _watched_connection(self._connect_failed)

    @property
    def retry_after(self) -> int:
        """Seconds a client should wait before asking again while the database is down."""
        return self._settings.db_retry_after

    def is_down(self) -> bool:
        """Whether requests are being refused without trying the database."""
        return self._clock() < self._down_until

    def _params(self) -> dict[str, Any]:
        # JIT off: tile and lookup statements are short, and PostgreSQL's cost estimates for
        # ST_AsMVT often cross the JIT threshold, which then spends tens of milliseconds
        # compiling what runs in one.
        return {
            "options": f"-c statement_timeout={self._settings.statement_timeout_ms} -c jit=off",
            "application_name": "webmap",
            "connect_timeout": self._settings.db_connect_timeout,
            **_KEEPALIVE,
        }

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A checked connection, returned to the pool afterwards (commit or rollback on exit).

        Raises :class:`DatabaseDown` at once while the database is known to be down, and
        :class:`psycopg_pool.PoolTimeout` when every connection stays busy for ``timeout``
        (default ``WEBMAP_POOL_TIMEOUT``) seconds.
        """
        asked = time.perf_counter()
        try:
            pool, conn = self._checked_connection(timeout)
        finally:
            got = time.perf_counter()
            metrics.observe_pool_wait(got - asked)
        try:
            # Autocommit: a tile or lookup is one statement, and an implicit BEGIN/COMMIT
            # would triple its round trips. Writers open explicit ``conn.transaction()`` blocks.
            with conn:
                yield conn
        except psycopg.OperationalError:
            if conn.broken:  # it died under us: the next request probes first
                with self._lock:
                    self._suspect = True
            raise
        finally:
            pool.putconn(conn)
            metrics.add_timing("db", time.perf_counter() - got)  # Server-Timing: db

    def _checked_connection(
        self, timeout: float | None
    ) -> tuple[ConnectionPool[Any], psycopg.Connection[Any]]:
        for _ in range(3):
            pool = self._usable_pool()
            try:
                conn = pool.getconn(timeout)
            except PoolClosed:  # closed while we waited: the database went down
                self._refuse_if_down()
                continue
            except PoolTimeout:
                self._refuse_if_down()
                raise  # the database answers but every connection is busy
            try:
                _check(conn)
            except psycopg.Error:
                pool.putconn(conn)  # broken: the pool discards it
                with self._lock:
                    self._suspect = True
                continue
            return pool, conn
        raise DatabaseDown(self.retry_after)

    def _refuse_if_down(self) -> None:
        if self.is_down():
            raise DatabaseDown(self.retry_after)

    def _usable_pool(self) -> ConnectionPool[Any]:
        """The open pool; probes first after a failure, and refuses while the database is down."""
        self._refuse_if_down()
        if self._suspect:
            # Another request is probing: wait briefly (a refused or successful probe takes
            # milliseconds), but not for a probe stuck on a silent network.
            if not self._probing.acquire(timeout=_PROBE_WAIT):
                raise DatabaseDown(self.retry_after)
            try:
                self._refuse_if_down()
                if self._suspect:
                    self._probe()
            finally:
                self._probing.release()
        with self._lock:
            if self._pool is None:
                self._pool = self._open_pool()
            return self._pool

    def _probe(self) -> None:
        """Try one plain connection; mark the database down (and raise) if it fails."""
        try:
            with psycopg.connect(self._url, **self._params()):
                pass
        except psycopg.OperationalError as exc:
            self._mark_down(f"probe failed: {exc}".strip())
            raise DatabaseDown(self.retry_after) from exc
        with self._lock:
            pool = self._pool
        if pool is not None:
            # The server answers, so connections found dead belong to a server that has
            # since restarted: drop every idle one that died with it, replace it anew.
            pool.check()
        with self._lock:
            self._suspect = False
        log.info("%s: database reachable again", self.name)

    def _connect_failed(self) -> None:
        self._mark_down("a connection attempt failed")

    def _mark_down(self, reason: str) -> None:
        """Refuse requests for ``retry_after`` seconds and close the pool in the background.

        Closing wakes every request waiting in the pool (they get :class:`PoolClosed`) and
        drops the pool's reconnection attempts, whose backoff would otherwise delay recovery.
        """
        with self._lock:
            was_down = self.is_down()
            self._down_until = self._clock() + self.retry_after
            self._suspect = True
            pool, self._pool = self._pool, None
        if not was_down:
            log.warning(
                "%s: database down (%s); refusing for %ss", self.name, reason, self.retry_after
            )
        if pool is not None:
            # Not in this thread: the caller may be one of the pool's own workers.
            threading.Thread(
                target=pool.close,
                kwargs={"timeout": float(self._settings.db_connect_timeout + 1)},
                name="webmap-pool-close",
                daemon=True,
            ).start()

    def _open_pool(self) -> ConnectionPool[Any]:
        pool: ConnectionPool[Any] = ConnectionPool(
            self._url,
            min_size=self._settings.pool_min_size,
            max_size=self._settings.pool_max_size,
            timeout=self._settings.pool_timeout,
            kwargs={**self._params(), "autocommit": True},
            connection_class=self._connection_class,
            # A failed attempt closes the pool anyway; this only bounds a stray retry.
            reconnect_timeout=self._settings.pool_timeout,
            name=self.name,
            open=False,
        )
        pool.open(wait=False)
        return pool

    def close(self) -> None:
        """Close the pool if it is open (a later request would open a new one)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


def _check(conn: psycopg.Connection[Any]) -> None:
    """Raise if ``conn`` is not usable; a round trip only when its socket is not quiet.

    An idle pooled connection has nothing to read. When it has (the server closed it, or sent a
    FATAL message before a restart) or the client state is not idle, psycopg's own check runs
    (an empty query); an unchecked one would fail the request it is handed to. A quiet socket
    is trusted without the round trip, which is as long as a small tile's own query (tile
    overhead, bench/tiles.py). A silent network break is not visible either way: TCP keepalive
    and ``tcp_user_timeout`` bound it.
    """
    if not conn.closed and not conn.broken and conn.info.transaction_status == _IDLE:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        if not poller.poll(0):
            return
    ConnectionPool.check_connection(conn)


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the lazily opened, guarded pool to ``app``; close it when the process exits."""
    database = Database(settings)
    app.extensions[_EXTENSION_KEY] = database
    atexit.register(database.close)


def get_pool(app: Flask | None = None) -> Database:
    """The database of ``app`` (or of the current app); use ``.connection()``."""
    target = app if app is not None else current_app
    database: Database = target.extensions[_EXTENSION_KEY]
    return database
