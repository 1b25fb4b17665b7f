"""Who to credit for an answer built from imported addresses.

A register's licence may ask for attribution (Lantmäteriet's address register: "© Lantmäteriet
(CC BY 4.0)"). Importers record it in ``lookup.address_sources``; every search, reverse and
resolve answer that contains an address or a street (streets are built from addresses) carries
the attributions of the loaded address sources. When sources are mixed that may credit one
more source than the hit needed: crediting too much is harmless, too little breaks the licence.

Property units from Lantmäteriet's property register carry their own credit per unit (the
``attribution`` member inside a hit's or a value's property); the answer's top-level list adds
those too, so a client that shows only the top-level list still credits every source it shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

#: The distinct attributions of address sources that have rows loaded (search reads them in
#: its own statement: ``layers.lookup.search_parts.CREDIT_ROWS``).
ADDRESS_CREDITS_SQL = (
    "SELECT DISTINCT attribution FROM lookup.address_sources "
    "WHERE attribution IS NOT NULL AND row_count > 0"
)


def address_attributions(conn: psycopg.Connection[Any]) -> list[str]:
    """The distinct attributions of address sources that have rows loaded, sorted."""
    rows = conn.execute(ADDRESS_CREDITS_SQL + " ORDER BY 1").fetchall()
    return [str(r[0]) for r in rows]


def answer_attributions(address_credits: Iterable[str], *property_credits: str | None) -> list[str]:
    """One answer's credits: its address sources' and its property units', distinct and sorted."""
    return sorted({*address_credits, *(c for c in property_credits if c)})
