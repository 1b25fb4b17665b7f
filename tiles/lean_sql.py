"""The tile statement run through libpq directly, prepared once per connection.

A small tile's SQL takes about 0.2 ms in PostgreSQL; psycopg's ``conn.execute(...).fetchone()``
adds about 0.1 ms of Python on top (a cursor, an adapters map, the query's conversion and
parameter dumping, its prepared-statement bookkeeping, a generator driven by its wait loop), a
third of the service's own cost per uncached tile (issue 11 §2, README "Vector tiles"). The
renderer's statements are few, fixed texts with float and integer parameters only, so this
module does the same work once per statement and connection and then calls
``PQexecPrepared`` through psycopg's public libpq wrapper (``conn.pgconn``, ``psycopg.pq``):

- the statement's ``%(name)s`` placeholders become ``$n`` once per text (memoised);
- it is prepared on a connection the first time that connection runs it, and kept there (at
  most :data:`KEPT_PER_CONNECTION`, least recently used deallocated first);
- parameters are sent as text (``repr`` of a float is exact), results come back binary, so
  PostgreSQL does not hex-encode the tile and nothing here decodes it.

Behaviour is psycopg's: errors raise the psycopg exception class of their SQLSTATE
(:func:`psycopg.errors.lookup`), a failed connection raises :class:`psycopg.OperationalError`
(``conn.broken`` is then true), and libpq releases the GIL while it waits. When psycopg itself
deallocates every prepared statement of the connection (it does after a ``ROLLBACK`` or ``DROP``
it ran there), the statement is prepared again and run once more.
"""

from __future__ import annotations

import functools
import itertools
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import pq

from layers.placeholders import positional

#: Prepared tile statements kept per connection (a statement per zoom's overview and tileset).
KEPT_PER_CONNECTION = 128
_FLOAT8, _INT8 = 701, 20
#: SQLSTATE of "prepared statement … does not exist".
_NO_SUCH_STATEMENT = b"26000"
_names = itertools.count()
#: Per connection: statement text → name of its prepared statement there, oldest use first.
_prepared: weakref.WeakKeyDictionary[Any, OrderedDict[bytes, bytes]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class _Converted:
    text: bytes  # with $1, $2, …
    names: tuple[str, ...]  # the parameter of each $n
    types: tuple[int, ...]  # int8 for the feature allowances (limit_*), float8 otherwise


@functools.lru_cache(maxsize=512)
def _converted(query: bytes) -> _Converted:
    text, names = positional(query)
    types = tuple(_INT8 if name.startswith("limit_") else _FLOAT8 for name in names)
    return _Converted(text, names, types)


def fetch_row(
    conn: psycopg.Connection[Any], query: bytes, params: Mapping[str, float]
) -> list[bytes | None] | None:
    """The first row of ``query`` (``%(name)s`` placeholders, values in ``params``) as each
    column's binary value (``None`` for NULL); ``None`` when there is no row."""
    converted = _converted(query)
    values = [
        (b"%d" % int(params[name])) if kind == _INT8 else repr(float(params[name])).encode()
        for name, kind in zip(converted.names, converted.types, strict=True)
    ]
    result = _execute(conn, query, converted, values)
    if (
        result.status != pq.ExecStatus.TUPLES_OK
        and (result.error_field(pq.DiagnosticField.SQLSTATE) or b"") == _NO_SUCH_STATEMENT
        and conn.pgconn.transaction_status == pq.TransactionStatus.IDLE
    ):  # deallocated under us (see the module docstring): prepare it again, once
        _kept(conn).pop(query, None)
        result = _execute(conn, query, converted, values)
    _check(conn, result)
    if result.ntuples == 0:
        return None
    return [result.get_value(0, column) for column in range(result.nfields)]


def _kept(conn: psycopg.Connection[Any]) -> OrderedDict[bytes, bytes]:
    """The connection's prepared statements (made on first use)."""
    kept = _prepared.get(conn)
    if kept is None:
        kept = _prepared[conn] = OrderedDict()
    return kept


def _execute(
    conn: psycopg.Connection[Any], query: bytes, converted: _Converted, values: list[bytes]
) -> pq.abc.PGresult:
    pgconn, kept = conn.pgconn, _kept(conn)
    name = kept.get(query)
    if name is None:
        name = b"webmap_tile_%d" % next(_names)
        _check(conn, pgconn.prepare(name, converted.text, converted.types))
        kept[query] = name
        if len(kept) > KEPT_PER_CONNECTION:
            _, oldest = kept.popitem(last=False)
            _check(conn, pgconn.exec_(b"DEALLOCATE " + oldest))
    else:
        kept.move_to_end(query)
    return pgconn.exec_prepared(name, values, result_format=pq.Format.BINARY)


def _check(conn: psycopg.Connection[Any], result: pq.abc.PGresult) -> None:
    """Raise psycopg's exception for a failed ``result``."""
    if result.status in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        return
    if conn.pgconn.status == pq.ConnStatus.BAD:
        message = result.get_error_message() or "the connection to the database failed"
        raise psycopg.OperationalError(message)
    state = (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
    try:
        kind: type[psycopg.Error] = psycopg.errors.lookup(state)
    except KeyError:
        kind = psycopg.DatabaseError
    raise kind(result.get_error_message(), info=result)
