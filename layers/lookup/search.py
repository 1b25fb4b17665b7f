"""Staged type-ahead search over streets, addresses and property designations.

Stages, as in Denmark's DAWA: a partial street name gives streets; a street and a number gives
addresses in natural order (5, 5A, 5B, 50 …); property designations are matched in the same box.
When the exact (prefix) search finds nothing, trigram similarity finds near spellings
("Älgatan 16B" → Älggatan 16B).

Ranking is a small score, lower is better, in the order a citizen would judge a match:
  +3  the folded street name is not the whole query (a partial match)
  +1  the query's own letters (å, ä, ö) do not occur in the name (a folded-only match)
  +0.5 the match starts inside the name ("eriksg" in S:t Eriksgatan)
  +0…1.5 distance to ``near``, saturating: 1.5·d/(d + 5 km)
so a whole-name match anywhere (≤ 2.5) always beats a nearby partial one (≥ 3).
Fuzzy matches score 6 and up, after every exact one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from layers.crs import SWEREF99_TM, transformer
from layers.lookup.normalize import address_label, format_postcode
from layers.lookup.properties import property_label
from layers.lookup.query import SearchQuery
from layers.lookup.search_sql import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SearchOptions,
    addresses_sql,
    escape_like,
    fuzzy_streets_sql,
    properties_sql,
    street_candidates_sql,
)

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "SearchHit", "SearchOptions", "search"]

#: Streets considered when looking for numbers: enough for "Storgatan" in many towns.
_ADDRESS_STREETS = 40
#: Scores below this mean the whole street name was typed (see the ranking above).
WHOLE_NAME_LIMIT = 3.0
#: Scores below this mean the whole name was typed with its own å, ä, ö.
AS_TYPED_LIMIT = 1.0


@dataclass(frozen=True)
class SearchHit:
    """One result, in the shape the API returns (coordinates in WGS 84 and the asked srid)."""

    kind: str
    id: str
    label: str
    lon: float
    lat: float
    e: float
    n: float
    score: float
    street: str | None = None
    number: int | None = None
    letter: str | None = None
    entrance: str | None = None
    postcode: str | None = None
    city: str | None = None
    municipality_code: str | None = None
    municipality: str | None = None
    designation: str | None = None
    district: str | None = None
    fictional: bool | None = None


@dataclass(frozen=True)
class _Folded:
    street: str
    text: str
    town: str | None


def _fold(conn: psycopg.Connection[Any], query: SearchQuery) -> _Folded:
    """Fold the query with the database's own rule, so both sides agree on every letter."""
    row = conn.execute(
        "SELECT lookup.fold(%s), lookup.fold(%s), lookup.fold(%s)",
        [query.street, query.text, query.town],
    ).fetchone()
    assert row is not None
    return _Folded(row[0] or "", row[1] or "", row[2])


def _params(query: SearchQuery, folded: _Folded, options: SearchOptions) -> dict[str, Any]:
    params: dict[str, Any] = {
        "street_fold": folded.street,
        "street_pattern": escape_like(folded.street) + "%",
        "street_lower": query.street,
        "text_fold": folded.text,
        "text_pattern": escape_like(folded.text) + "%",
        "text_lower": query.text,
        "municipality": options.municipality,
        "town": escape_like(folded.town) + "%" if folded.town else None,
        "postcode": query.postcode,
        "srid": options.srid,
        "limit": options.limit,
    }
    if options.near is not None:
        e, n = transformer(4326, SWEREF99_TM).transform(options.near.lon, options.near.lat)
        params.update(near_e=float(e), near_n=float(n))
    return params


def _street_hit(row: tuple[Any, ...]) -> SearchHit:
    uid, name, city, code, municipality, postcodes, lon, lat, e, n, score = row
    return SearchHit(
        kind="street",
        id=uid,
        label=address_label(name, None, None, None, None, city),
        lon=lon,
        lat=lat,
        e=e,
        n=n,
        score=score,
        street=name,
        postcode=format_postcode(postcodes[0]) if len(postcodes) == 1 else None,
        city=city,
        municipality_code=code,
        municipality=municipality,
    )


def _address_hit(row: tuple[Any, ...], score: float) -> SearchHit:
    _ord, uid, street, number, letter, entrance, postcode, city, code, municipality = row[:10]
    district, lon, lat, e, n = row[10:]
    return SearchHit(
        kind="address",
        id=uid,
        label=address_label(street, number, letter, entrance, postcode, city),
        lon=lon,
        lat=lat,
        e=e,
        n=n,
        score=score,
        street=street,
        number=number,
        letter=letter,
        entrance=entrance,
        postcode=format_postcode(postcode),
        city=city,
        municipality_code=code,
        municipality=municipality,
        district=district,
    )


def _property_hit(row: tuple[Any, ...]) -> SearchHit:
    uid, designation, fictional, code, municipality, lon, lat, e, n, score = row
    return SearchHit(
        kind="property",
        id=uid,
        label=property_label(designation, fictional),
        lon=lon,
        lat=lat,
        e=e,
        n=n,
        score=score,
        designation=designation,
        fictional=fictional,
        municipality_code=code,
        municipality=municipality,
    )


def _addresses(
    conn: psycopg.Connection[Any],
    query: SearchQuery,
    streets: list[tuple[Any, ...]],
    params: dict[str, Any],
) -> list[SearchHit]:
    if not streets:
        return []
    scores = [row[-1] for row in streets]
    params = dict(params)
    params.update(
        uids=[row[0] for row in streets],
        number=query.number,
        number_pattern=f"{query.number}%",
        letter=query.letter,
        entrance=(query.entrance or "").replace(" ", "") + "%",
    )
    rows = conn.execute(addresses_sql(query), params).fetchall()
    if not rows and query.postcode:
        rows = conn.execute(addresses_sql(query, strict_postcode=False), params).fetchall()
    return [_address_hit(row, scores[int(row[0]) - 1]) for row in rows]


def _street_stage(
    conn: psycopg.Connection[Any],
    query: SearchQuery,
    options: SearchOptions,
    params: dict[str, Any],
) -> list[SearchHit]:
    """Streets or addresses for the street part, falling back to similar spellings."""
    if not query.street:
        return []
    wanted = _ADDRESS_STREETS if query.wants_addresses else options.limit
    exact = conn.execute(street_candidates_sql(query, options, wanted), params).fetchall()
    if query.street_complete:
        whole = [row for row in exact if row[-1] < WHOLE_NAME_LIMIT]
        found = _addresses(conn, query, whole, params)
        return found or [_street_hit(row) for row in exact[: options.limit]]
    if not query.wants_addresses:
        if exact:
            return [_street_hit(row) for row in exact]
        fuzzy = conn.execute(fuzzy_streets_sql(query, options, wanted), params).fetchall()
        return [_street_hit(row) for row in fuzzy]
    found = _addresses(conn, query, exact, params)
    if found:
        return found
    if any(row[-1] < AS_TYPED_LIMIT for row in exact):
        # The street was typed exactly, letter for letter, and has no such number: a similar
        # spelling elsewhere would only guess. Offer the street itself. ("Älgatan 16B" is not
        # exact for Malmö's Algatan, so it still goes on to find Älggatan 16B.)
        return [_street_hit(row) for row in exact[: options.limit]]
    fuzzy = conn.execute(fuzzy_streets_sql(query, options, wanted), params).fetchall()
    found = _addresses(conn, query, fuzzy, params)
    if found:
        return found
    # No such number: offer the street(s) themselves rather than nothing.
    return [_street_hit(row) for row in (exact or fuzzy)[: options.limit]]


def search(
    conn: psycopg.Connection[Any], query: SearchQuery, options: SearchOptions
) -> list[SearchHit]:
    """The best ``options.limit`` hits for ``query``: streets or addresses, and properties."""
    folded = _fold(conn, query)
    params = _params(query, folded, options)
    hits = _street_stage(conn, query, options, params)
    if len(folded.text) >= 2 and not query.town and not query.postcode:
        hits += [_property_hit(row) for row in conn.execute(properties_sql(options), params)]
    kind_rank = {"address": 0, "street": 0, "property": 1}
    ranked = sorted(
        enumerate(hits), key=lambda pair: (pair[1].score, kind_rank[pair[1].kind], pair[0])
    )
    return [hit for _index, hit in ranked][: options.limit]
