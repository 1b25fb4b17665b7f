"""The connection pool shared by request handlers (psycopg 3 pool), one per process.

The pool is created by :func:`init_app` but opened on first use, so importing or building the app
does not connect, and gunicorn workers each open their own pool after the fork.
"""

from __future__ import annotations

import atexit
import threading

from flask import Flask, current_app
from psycopg_pool import ConnectionPool

from webmap.settings import Settings

_EXTENSION_KEY = "webmap.pool"


class LazyPool:
    """Holds the pool's settings and opens it the first time a connection is asked for."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()

    def get(self) -> ConnectionPool:
        """The open pool; opens it (without waiting for connections) on the first call."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    # JIT off: tile and lookup statements are short, and PostgreSQL's cost
                    # estimates for ST_AsMVT often cross the JIT threshold, which then spends
                    # tens of milliseconds compiling what runs in one.
                    options = (
                        f"-c statement_timeout={self._settings.statement_timeout_ms} -c jit=off"
                    )
                    pool = ConnectionPool(
                        self._settings.database_url,
                        min_size=self._settings.pool_min_size,
                        max_size=self._settings.pool_max_size,
                        timeout=self._settings.pool_timeout,
                        # Autocommit: a tile or lookup is one statement, and an implicit
                        # BEGIN/COMMIT would triple its round trips. Writers open explicit
                        # ``conn.transaction()`` blocks.
                        kwargs={
                            "options": options,
                            "application_name": "webmap",
                            "autocommit": True,
                        },
                        open=False,
                    )
                    pool.open(wait=False)
                    self._pool = pool
        return self._pool

    def close(self) -> None:
        """Close the pool if it was ever opened."""
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


def init_app(app: Flask, settings: Settings) -> None:
    """Attach a lazily opened pool to ``app`` and close it when the process exits."""
    lazy = LazyPool(settings)
    app.extensions[_EXTENSION_KEY] = lazy
    atexit.register(lazy.close)


def get_pool(app: Flask | None = None) -> ConnectionPool:
    """The pool of ``app`` (or of the current app)."""
    target = app if app is not None else current_app
    lazy: LazyPool = target.extensions[_EXTENSION_KEY]
    return lazy.get()
