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
from psycopg import sql

from layers.crs import SWEREF99_TM, LonLat, transformer
from layers.lookup.normalize import address_label, format_postcode
from layers.lookup.properties import property_label
from layers.lookup.query import SearchQuery

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
#: Streets considered when looking for numbers: enough for "Storgatan" in many towns.
_ADDRESS_STREETS = 40
NEAR_SCALE_M = 5000.0
NEAR_WEIGHT = 1.5
FUZZY_BASE = 6.0


@dataclass(frozen=True)
class SearchOptions:
    """Everything about a search except the text: how many, near where, which municipality."""

    limit: int = DEFAULT_LIMIT
    near: LonLat | None = None
    municipality: str | None = None
    srid: int = SWEREF99_TM


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
    fictional: bool | None = None


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards escaped (backslash is the default escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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


def _coords(geom: str) -> sql.Composable:
    g = sql.SQL(geom)
    return sql.SQL(
        "ST_X(ST_Transform({g}, 4326)), ST_Y(ST_Transform({g}, 4326)), "
        "ST_X(ST_Transform({g}, %(srid)s)), ST_Y(ST_Transform({g}, %(srid)s))"
    ).format(g=g)


def _near(geom: str, options: SearchOptions) -> sql.Composable:
    if options.near is None:
        return sql.SQL("0")
    return sql.SQL(
        "{w} * ST_Distance({g}, ST_SetSRID(ST_MakePoint(%(near_e)s, %(near_n)s), 3006)) "
        "/ (ST_Distance({g}, ST_SetSRID(ST_MakePoint(%(near_e)s, %(near_n)s), 3006)) + {s})"
    ).format(w=sql.Literal(NEAR_WEIGHT), g=sql.SQL(geom), s=sql.Literal(NEAR_SCALE_M))


def _street_filters(query: SearchQuery, options: SearchOptions) -> sql.Composable:
    parts = [sql.SQL("true")]
    if options.municipality:
        parts.append(sql.SQL("s.municipality_code = %(municipality)s"))
    if query.town:
        parts.append(sql.SQL("(s.city_fold LIKE %(town)s OR s.municipality_fold LIKE %(town)s)"))
    if query.postcode:
        # Soft: OSM often has no postcode at all, which must not hide the street.
        parts.append(sql.SQL("(%(postcode)s = ANY (s.postcodes) OR s.postcodes = '{}')"))
    return sql.SQL(" AND ").join(parts)


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


_STREET_COLUMNS = sql.SQL(
    "s.uid, s.name, s.city, s.municipality_code, s.municipality_name, s.postcodes"
)


def _near_xy(options: SearchOptions) -> sql.Composable:
    """The near term from a key row's plain coordinates (no geometry needed)."""
    if options.near is None:
        return sql.SQL("0")
    distance = sql.SQL("sqrt(power(k.e - %(near_e)s, 2) + power(k.n - %(near_n)s, 2))")
    return sql.SQL("{w} * {d} / ({d} + {s})").format(
        w=sql.Literal(NEAR_WEIGHT), d=distance, s=sql.Literal(NEAR_SCALE_M)
    )


def street_candidates_sql(query: SearchQuery, options: SearchOptions, n: int) -> sql.Composed:
    """Streets whose name or one of its words starts with the typed street text.

    Ranked from the key rows alone (they carry name, size and place), so even a one-letter
    prefix matching thousands of streets reads only the key index before the top ``n``.
    Town and postcode narrowing need the street rows and take :func:`_joined_candidates_sql`.
    """
    if query.town or query.postcode:
        return _joined_candidates_sql(query, options, n)
    municipality = (
        sql.SQL("AND k.municipality_code = %(municipality)s")
        if options.municipality
        else sql.SQL("")
    )
    return sql.SQL(
        """
        WITH m AS (
            SELECT k.street_uid,
                (min(CASE WHEN k.key = %(street_fold)s AND k.word_start THEN 0 ELSE 3 END
                     + CASE WHEN strpos(k.name_lower, %(street_lower)s) > 0 THEN 0 ELSE 1 END
                     + CASE WHEN k.word_start THEN 0 ELSE 0.5 END) + min({near}))::float8
                    AS score,
                max(k.address_count) AS address_count, min(k.name_lower) AS name_lower
            FROM lookup.street_keys k
            WHERE k.key LIKE %(street_pattern)s {municipality}
            GROUP BY k.street_uid
            ORDER BY score, address_count DESC, name_lower, k.street_uid
            LIMIT {n}
        )
        SELECT {cols}, {coords}, m.score
        FROM m JOIN lookup.streets s ON s.uid = m.street_uid
        ORDER BY m.score, m.address_count DESC, m.name_lower, s.uid
        """
    ).format(
        cols=_STREET_COLUMNS,
        coords=_coords("s.geom"),
        near=_near_xy(options),
        municipality=municipality,
        n=sql.Literal(n),
    )


def _joined_candidates_sql(query: SearchQuery, options: SearchOptions, n: int) -> sql.Composed:
    """Like :func:`street_candidates_sql`, filtered by town or postcode on the street rows."""
    return sql.SQL(
        """
        SELECT {cols}, {coords},
            (CASE WHEN s.name_fold = %(street_fold)s THEN 0 ELSE 3 END
             + CASE WHEN strpos(lower(s.name), %(street_lower)s) > 0 THEN 0 ELSE 1 END
             + CASE WHEN m.word_start THEN 0 ELSE 0.5 END + {near})::float8 AS score
        FROM (SELECT k.street_uid, bool_or(k.word_start) AS word_start
              FROM lookup.street_keys k WHERE k.key LIKE %(street_pattern)s
              GROUP BY k.street_uid) m
        JOIN lookup.streets s ON s.uid = m.street_uid
        WHERE {filters}
        ORDER BY score, s.address_count DESC, s.name, s.uid
        LIMIT {n}
        """
    ).format(
        cols=_STREET_COLUMNS,
        coords=_coords("s.geom"),
        near=_near("s.geom", options),
        filters=_street_filters(query, options),
        n=sql.Literal(n),
    )


#: Nearest spellings fetched per trigram measure before the streets carrying them are read.
_FUZZY_NAMES = 30


def fuzzy_streets_sql(query: SearchQuery, options: SearchOptions, n: int) -> sql.Composed:
    """Streets spelled nearly like the typed text.

    The nearest distinct names come from the GiST trigram index by KNN: whole-name similarity
    (``<->``, "Älgatan" → Älggatan) and word similarity (``<<->``, a typo in a name still being
    typed); then the streets with those names are filtered and ranked.
    """
    return sql.SQL(
        """
        WITH names AS (
            SELECT c.name_fold, max(c.sim) AS sim FROM (
                (SELECT name_fold, similarity(name_fold, %(street_fold)s) AS sim
                 FROM lookup.street_names WHERE name_fold %% %(street_fold)s
                 ORDER BY name_fold <-> %(street_fold)s LIMIT {k})
                UNION ALL
                (SELECT name_fold, word_similarity(%(street_fold)s, name_fold)
                 FROM lookup.street_names WHERE %(street_fold)s <%% name_fold
                 ORDER BY %(street_fold)s <<-> name_fold LIMIT {k})
            ) c GROUP BY c.name_fold
        )
        SELECT {cols}, {coords}, ({base} - names.sim + {near})::float8 AS score
        FROM names JOIN lookup.streets s ON s.name_fold = names.name_fold
        WHERE {filters}
        ORDER BY score, s.address_count DESC, s.name, s.uid
        LIMIT {n}
        """
    ).format(
        cols=_STREET_COLUMNS,
        coords=_coords("s.geom"),
        base=sql.Literal(FUZZY_BASE),
        near=_near("s.geom", options),
        filters=_street_filters(query, options),
        k=sql.Literal(_FUZZY_NAMES),
        n=sql.Literal(n),
    )


def addresses_sql(query: SearchQuery, strict_postcode: bool = True) -> sql.Composed:
    """Numbers on the given streets (``%(uids)s`` in rank order), in natural order.

    With ``strict_postcode`` false an address without a postcode (common in OSM) still matches
    a typed postcode; that second pass runs only when the strict one finds nothing.
    """
    conditions = [sql.SQL("a.street_uid = c.uid")]
    if query.number is not None:
        conditions.append(
            sql.SQL("a.number::text LIKE %(number_pattern)s")
            if query.number_prefix
            else sql.SQL("a.number = %(number)s")
        )
    if query.letter:
        conditions.append(sql.SQL("a.letter = %(letter)s"))
    if query.entrance:
        conditions.append(sql.SQL("replace(upper(a.entrance), ' ', '') LIKE %(entrance)s"))
    if query.postcode:
        conditions.append(
            sql.SQL("a.postcode = %(postcode)s")
            if strict_postcode
            else sql.SQL("(a.postcode = %(postcode)s OR a.postcode IS NULL)")
        )
    order = sql.SQL("a.number, a.letter NULLS FIRST, length(a.entrance) NULLS FIRST, a.entrance")
    return sql.SQL(
        """
        SELECT c.ord, a.uid, a.street, a.number, a.letter, a.entrance, a.postcode, a.city,
            a.municipality_code, m.name, {coords}
        FROM unnest(%(uids)s::text[]) WITH ORDINALITY AS c(uid, ord)
        CROSS JOIN LATERAL (
            SELECT * FROM lookup.addresses a WHERE {where} ORDER BY {order} LIMIT %(limit)s
        ) a
        LEFT JOIN lookup.municipalities m ON m.code = a.municipality_code
        ORDER BY c.ord, {order}
        LIMIT %(limit)s
        """
    ).format(coords=_coords("a.geom"), where=sql.SQL(" AND ").join(conditions), order=order)


def properties_sql(options: SearchOptions) -> sql.Composed:
    """Property units whose designation, or a word of it, starts with the whole query."""
    municipality = (
        sql.SQL("p.municipality_code = %(municipality)s")
        if options.municipality
        else sql.SQL("true")
    )
    return sql.SQL(
        """
        SELECT p.uid, p.designation, p.fictional, p.municipality_code, p.municipality_name,
            {coords},
            (CASE WHEN bool_or(k.key = %(text_fold)s) THEN 0 ELSE 3 END
             + CASE WHEN strpos(lower(p.designation), %(text_lower)s) > 0 THEN 0 ELSE 1 END
             + CASE WHEN bool_or(k.word_start) THEN 0 ELSE 0.5 END + {near})::float8 AS score
        FROM lookup.property_keys k JOIN lookup.properties p ON p.id = k.property_id
        WHERE k.key LIKE %(text_pattern)s AND {municipality}
        GROUP BY p.id
        ORDER BY score, p.district, p.block, p.unit NULLS FIRST
        LIMIT %(limit)s
        """
    ).format(coords=_coords("p.point"), near=_near("p.point", options), municipality=municipality)


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
    lon, lat, e, n = row[10:]
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
        whole = [row for row in exact if row[-1] < 3]
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
