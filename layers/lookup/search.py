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
Fuzzy matches score 6 and up, after every exact one. With a municipality, every place inside
it comes before every place outside it (each part of the statement ranks inside first too, and
short prefixes also take the municipality's own biggest streets as candidates).

A one- or two-letter prefix ranks a bounded set of candidates rather than every matching key:
the 200 key rows of the biggest streets with that head, the exact key, and with ``near`` the
200 nearest (``layers.lookup.search_sql``), so it costs the same at any size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from layers.crs import SWEREF99_TM, transformer
from layers.errors import InvalidInput
from layers.lookup.normalize import address_label, fold, format_postcode
from layers.lookup.properties import parse_property_query, property_label
from layers.lookup.query import SearchQuery
from layers.lookup.search_cache import Statement, shape, statement
from layers.lookup.search_parts import number_ranges
from layers.lookup.search_sql import DEFAULT_LIMIT, MAX_LIMIT, SearchOptions

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "SearchAnswer",
    "SearchHit",
    "SearchOptions",
    "search",
    "search_answer",
]


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
    #: Whose data the hit is built from, when the licence asks for it ("© Lantmäteriet …").
    attribution: str | None = None


def search_params(query: SearchQuery, options: SearchOptions) -> dict[str, Any]:
    """The values :func:`~layers.lookup.search_sql.search_sql` binds (folding is its own job)."""
    params: dict[str, Any] = {
        "street": query.street,
        "text": query.text,
        "text_lower": query.text,
        "town": query.town,
        "postcode": query.postcode,
        "municipality": options.municipality,
        "srid": options.srid,
        "limit": options.limit,
        "number": query.number,
        "number_pattern": f"{query.number}%",
        "letter": query.letter,
        "entrance": (query.entrance or "").replace(" ", "") + "%",
    }
    if query.number is not None:
        params.update(number_ranges(query.number))
    typed = parse_property_query(query.text)
    params.update(
        prop_head=typed.head,
        prop_head_lower=typed.head.lower(),
        prop_number=typed.number,
        prop_number_pattern=f"{typed.number}%",
        prop_block=typed.block,
        prop_block_min=typed.block_min,
    )
    if options.near is not None:
        e, n = transformer(4326, SWEREF99_TM).transform(options.near.lon, options.near.lat)
        params.update(near_e=float(e), near_n=float(n))
    return params


def _statement(query: SearchQuery, options: SearchOptions) -> Statement:
    # The length only picks the plan's shape (head indexes for one or two letters); the text
    # itself is folded by the database, with the rule its keys were folded by.
    return statement(shape(query, options, len(fold(query.street))))


def search_statement(query: SearchQuery, options: SearchOptions) -> tuple[Any, dict[str, Any]]:
    """The one statement a search runs and its values (tests EXPLAIN exactly this).

    The statement is its shape's (:mod:`layers.lookup.search_cache`), with named placeholders;
    :func:`search_answer` runs the same text with ``$n`` placeholders.
    """
    return sql.SQL(_statement(query, options).named), search_params(query, options)


def _hit(row: tuple[Any, ...]) -> SearchHit:
    kind, uid, name, number, letter, entrance, postcode, postcodes, city, code = row[:10]
    municipality, district, fictional, lon, lat, e, n, score, attribution = row[10:]
    if kind == "street":
        label = address_label(name, None, None, None, None, city)
        # One postcode only when the street has exactly one; several would mislead.
        postcode = postcodes[0] if len(postcodes) == 1 else None
    elif kind == "address":
        label = address_label(name, number, letter, entrance, postcode, city)
    else:
        label = property_label(name, fictional)
    return SearchHit(
        kind=kind,
        id=uid,
        label=label,
        lon=lon,
        lat=lat,
        e=e,
        n=n,
        score=score,
        street=name if kind != "property" else None,
        number=number,
        letter=letter,
        entrance=entrance,
        postcode=format_postcode(postcode),
        city=city,
        municipality_code=code,
        municipality=municipality,
        designation=name if kind == "property" else None,
        district=district,
        fictional=fictional,
        attribution=attribution,
    )


@dataclass(frozen=True)
class SearchAnswer:
    """The hits, the municipality the search was biased to (its code and name), and the
    attributions of the loaded address sources (read only when a street was typed; what
    :func:`~layers.lookup.attribution.address_attributions` gives, sorted)."""

    hits: list[SearchHit]
    municipality: tuple[str, str] | None = None
    address_credits: tuple[str, ...] = ()

    def inside(self, hit: SearchHit) -> bool | None:
        """Whether ``hit`` lies in the asked municipality (``None`` when none was asked)."""
        if self.municipality is None:
            return None
        return hit.municipality_code == self.municipality[0]


def search_answer(
    conn: psycopg.Connection[Any], query: SearchQuery, options: SearchOptions
) -> SearchAnswer:
    """The best ``options.limit`` hits for ``query``: streets or addresses, and properties.

    One round trip: the stages run inside one statement (:mod:`layers.lookup.search_sql`),
    composed once per shape of query (:mod:`layers.lookup.search_cache`), which also reads the
    address sources' attributions.
    With ``options.municipality`` the places inside it come first (each hit's municipality is
    the one stored with it: the register's kommunkod, or the polygon its point fell in when it
    was imported), the others after them, still found; a code no municipality has is
    :class:`InvalidInput`, checked by the same statement.
    """
    kept = _statement(query, options)
    hits: list[SearchHit] = []
    asked: tuple[str, str] | None = None
    values = kept.values(search_params(query, options))
    with psycopg.RawCursor(conn) as cursor:
        rows = cursor.execute(kept.positional, values).fetchall()
    credits: list[str] = []
    for row in rows:
        if row[0] == "credit":
            credits.append(row[-1])
        elif row[0] == "municipality":
            if row[10] is None:
                raise InvalidInput(
                    f"No municipality has the code {row[1]}: give an SCB kommunkod, "
                    "e.g. 2281 (Sundsvall)."
                )
            asked = (row[1], row[10])
        else:
            hits.append(_hit(row))
    kind_rank = {"address": 0, "street": 0, "property": 1}
    code = options.municipality

    def order(pair: tuple[int, SearchHit]) -> tuple[bool, float, int, int]:
        index, hit = pair
        outside = code is not None and hit.municipality_code != code
        return (outside, hit.score, kind_rank[hit.kind], index)

    ranked = [hit for _index, hit in sorted(enumerate(hits), key=order)]
    return SearchAnswer(ranked[: options.limit], asked, tuple(sorted(credits)))


def search(
    conn: psycopg.Connection[Any], query: SearchQuery, options: SearchOptions
) -> list[SearchHit]:
    """The hits of :func:`search_answer`."""
    return search_answer(conn, query, options).hits
