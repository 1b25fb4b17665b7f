"""Parts the search statement shares between its stages: options, the near term, numbers on
candidate streets, property designations and the one row shape of every hit.

:mod:`layers.lookup.search_sql` assembles them with the street stages into one statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql
from psycopg.types.numeric import Int4

from layers.crs import SWEREF99_TM, LonLat
from layers.lookup.attribution import ADDRESS_CREDITS_SQL
from layers.lookup.properties import PropertyQuery
from layers.lookup.query import SearchQuery

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
NEAR_SCALE_M = 5000.0
NEAR_WEIGHT = 1.5

#: What every row of the statement carries, whatever its kind.
HIT_COLUMNS = (
    "kind, uid, name, number, letter, entrance, postcode, postcodes, city, municipality_code, "
    "municipality, district, fictional, lon, lat, e, n, score, attribution"
)
#: The last row of a search with a municipality: the asked code and its name (NULL when no
#: municipality has that code), so one statement also checks the code.
ASKED_ROW = sql.SQL(
    "'municipality', %(municipality)s::text, NULL, NULL::int, NULL, NULL, NULL, NULL::text[], "
    "NULL, %(municipality)s::text, coalesce("
    "(SELECT m.name FROM lookup.municipalities m WHERE m.code = %(municipality)s), "
    "(SELECT t.name FROM webmap.tenants t WHERE t.code = %(municipality)s)), NULL, "
    "NULL::boolean, NULL::float8, NULL::float8, NULL::float8, NULL::float8, NULL::float8, "
    "NULL::text"
)
#: The attributions of the loaded address sources (``layers.lookup.attribution``), one row
#: each, so that a search with street or address hits needs no second round trip for them.
CREDIT_ROWS = sql.SQL(
    "SELECT 8, 0, 'credit', NULL::text, NULL, NULL::int, NULL, NULL, NULL, NULL::text[], NULL, "
    "NULL::text, NULL, NULL, NULL::boolean, NULL::float8, NULL::float8, NULL::float8, "
    "NULL::float8, NULL::float8, c.attribution FROM ({sources}) c"
).format(sources=sql.SQL(ADDRESS_CREDITS_SQL))
_TEXT = sql.SQL("(SELECT text FROM q)")


@dataclass(frozen=True)
class SearchOptions:
    """Everything about a search except the text: how many, near where, which municipality."""

    limit: int = DEFAULT_LIMIT
    near: LonLat | None = None
    municipality: str | None = None
    srid: int = SWEREF99_TM


def coords(geom: str) -> sql.Composable:
    g = sql.SQL(geom)
    return sql.SQL(
        "ST_X(ST_Transform({g}, 4326)), ST_Y(ST_Transform({g}, 4326)), "
        "ST_X(ST_Transform({g}, %(srid)s)), ST_Y(ST_Transform({g}, %(srid)s))"
    ).format(g=g)


def near(geom: str, options: SearchOptions) -> sql.Composable:
    """0 … 1.5, saturating with the distance from ``near`` to ``geom`` (0 without near)."""
    if options.near is None:
        return sql.SQL("0")
    distance = sql.SQL(
        "ST_Distance({g}, ST_SetSRID(ST_MakePoint(%(near_e)s, %(near_n)s), 3006))"
    ).format(g=sql.SQL(geom))
    return _saturating(distance)


def near_xy(options: SearchOptions) -> sql.Composable:
    """The near term from a key row's plain coordinates (no geometry needed)."""
    if options.near is None:
        return sql.SQL("0")
    return _saturating(sql.SQL("sqrt(power(k.e - %(near_e)s, 2) + power(k.n - %(near_n)s, 2))"))


def _saturating(distance: sql.Composable) -> sql.Composable:
    return sql.SQL("{w} * {d} / ({d} + {s})").format(
        w=sql.Literal(NEAR_WEIGHT), d=distance, s=sql.Literal(NEAR_SCALE_M)
    )


#: Ranges of numbers that start with a typed number: 1 → 1, 10–19, 100–199 … up to the
#: largest int4, one per count of further digits.
NUMBER_RANGES = 10
_INT4_MAX = 2**31 - 1
#: The ranges as index conditions, so a prefix reads only the numbers it can complete on each
#: candidate street (``addresses_street_number_idx``) instead of all of them; the LIKE beside
#: them stays the definition.
_NUMBER_RANGES = sql.SQL(" OR ").join(
    sql.SQL(f"a.number BETWEEN %(number_lo_{k})s AND %(number_hi_{k})s")
    for k in range(NUMBER_RANGES)
)


def number_ranges(number: int) -> dict[str, Int4]:
    """The bounds :data:`_NUMBER_RANGES` binds for the typed ``number`` (as int4, so that every
    search of a shape has the same parameter types and shares a prepared statement)."""
    bounds: dict[str, Int4] = {}
    for k in range(NUMBER_RANGES):
        low, high = number * 10**k, (number + 1) * 10**k - 1
        if (number == 0 and k > 0) or low > _INT4_MAX:
            low, high = -1, -1  # no house number is negative, and LIKE rules it out anyway
        bounds[f"number_lo_{k}"] = Int4(low)
        bounds[f"number_hi_{k}"] = Int4(min(high, _INT4_MAX))
    return bounds


def _numbers_cte(
    name: str, query: SearchQuery, streets: sql.Composable, strict_postcode: bool = True
) -> sql.Composed:
    """Numbers on ``streets`` (rows with ord, uid, score), in rank then natural order.

    With ``strict_postcode`` false an address without a postcode (common in OSM) still matches
    a typed postcode; that pass is gated on the strict one finding nothing.
    """
    conditions: list[sql.Composable] = [sql.SQL("a.street_uid = c.uid")]
    if query.number is not None:
        conditions.append(
            sql.SQL("a.number::text LIKE %(number_pattern)s AND ({ranges})").format(
                ranges=_NUMBER_RANGES
            )
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
    rank = sql.SQL("c.score + a.completion")
    return sql.SQL(
        """
        {name} AS MATERIALIZED (
            SELECT row_number() OVER (ORDER BY {rank}, c.ord, {order}) AS seq,
                ({rank})::float8 AS score, a.uid, a.street,
                a.number, a.letter, a.entrance, a.postcode, a.city, a.municipality_code,
                m.name AS municipality, a.district, a.geom
            FROM ({streets}) c
            CROSS JOIN LATERAL (
                SELECT a.*, {completion} AS completion FROM lookup.addresses a WHERE {where}
                ORDER BY {order} LIMIT %(limit)s
            ) a
            LEFT JOIN lookup.municipalities m ON m.code = a.municipality_code
            ORDER BY {rank}, c.ord, {order}
            LIMIT %(limit)s
        )"""
    ).format(
        name=sql.Identifier(name),
        order=order,
        rank=rank,
        completion=_completion(query),
        streets=streets,
        where=sql.SQL(" AND ").join(conditions),
    )


#: Added to an address's score when it only completes what was typed: a letter or entrance
#: not typed ("Storgatan 12" → 12A), more digits ("Storgatan 12" → 120). Smaller than any
#: difference between streets (partial name +3, folded-only +1, word inside +0.5, near 0…1.5),
#: so it orders numbers between streets of the same score: the typed address in every town
#: before its completions.
COMPLETION_LETTER = 0.1
COMPLETION_DIGITS = 0.2


def _completion(query: SearchQuery) -> sql.Composable:
    """How far an address is from the number typed (0 = exactly it; see ``COMPLETION_*``)."""
    if query.number is None:
        return sql.SQL("0")
    cases: list[sql.Composable] = []
    if query.number_prefix:
        cases.append(
            sql.SQL("WHEN a.number <> %(number)s THEN {d}").format(d=sql.Literal(COMPLETION_DIGITS))
        )
    extra = [] if query.letter else [sql.SQL("a.letter IS NOT NULL")]
    extra += [] if query.entrance else [sql.SQL("a.entrance IS NOT NULL")]
    if extra:
        cases.append(
            sql.SQL("WHEN {e} THEN {d}").format(
                e=sql.SQL(" OR ").join(extra), d=sql.Literal(COMPLETION_LETTER)
            )
        )
    if not cases:
        return sql.SQL("0")
    return sql.SQL("(CASE {c} ELSE 0 END)").format(c=sql.SQL(" ").join(cases))


def numbers_ctes(name: str, query: SearchQuery, streets: sql.Composable) -> list[sql.Composed]:
    """``name``: numbers on ``streets``; with a postcode, the strict pass, else the relaxed."""
    if not query.postcode:
        return [_numbers_cte(name, query, streets)]
    strict, relaxed = f"{name}_strict", f"{name}_relaxed"
    gated = sql.SQL("SELECT * FROM ({s}) c WHERE NOT EXISTS (SELECT 1 FROM {strict})").format(
        s=streets, strict=sql.Identifier(strict)
    )
    return [
        _numbers_cte(strict, query, streets),
        _numbers_cte(relaxed, query, gated, strict_postcode=False),
        sql.SQL("{n} AS (SELECT * FROM {s} UNION ALL SELECT * FROM {r})").format(
            n=sql.Identifier(name), s=sql.Identifier(strict), r=sql.Identifier(relaxed)
        ),
    ]


#: Key rows read per head prefix (in key order); heads whose units are listed are at most
#: ``limit`` (best first), typo candidates at most ``PROPERTY_FUZZY_HEADS``.
PROPERTY_HEAD_KEYS = 400
PROPERTY_FUZZY_HEADS = 5
PROPERTY_FUZZY_BASE = 6.0
_PHEAD = sql.SQL("(SELECT head FROM pq)")


def _number_filter(typed: PropertyQuery) -> sql.Composable:
    """Conditions for the typed number, written so the index bounds the scan of a head.

    "3:1" → block 3 only (then units 1, 10 … by the LIKE); "5" → blocks from 5 on (5:…, 50:…,
    a kvarter's 5); "s:" → the samfälligheter (no numeric block).
    """
    if typed.number is None:
        return sql.SQL("")
    like = sql.SQL(" AND p.number_fold LIKE %(prop_number_pattern)s")
    if typed.samfallighet:
        return sql.SQL("AND p.block IS NULL") + like
    if typed.block is not None:
        return sql.SQL("AND p.block = %(prop_block)s") + like
    return sql.SQL("AND p.block >= %(prop_block_min)s") + like


def _units(heads: str, options: SearchOptions, typed: PropertyQuery) -> sql.Composed:
    """The units of ``heads`` (rows with ord, head_fold, score) matching the typed number, in
    natural order (block, unit) from ``properties_head_idx``; at most ``limit`` per head."""
    return sql.SQL(
        """
        SELECT h.ord, p.block, p.unit, p.uid, p.designation, p.fictional, p.municipality_code,
            p.municipality_name, p.point, p.attribution,
            (h.score + CASE WHEN strpos(lower(p.designation), %(prop_head_lower)s) > 0
                            THEN 0 ELSE 1 END + {near})::float8 AS score
        FROM {heads} h
        CROSS JOIN LATERAL (
            SELECT * FROM lookup.properties p
            WHERE p.head_fold = h.head_fold {number}
            ORDER BY p.block, p.unit
            LIMIT %(limit)s
        ) p"""
    ).format(
        heads=sql.Identifier(heads),
        near=near("p.point", options),
        number=_number_filter(typed),
    )


def props_ctes(options: SearchOptions, typed: PropertyQuery) -> list[sql.Composable]:
    """Property units by designation, staged like streets and numbers.

    ``pheads``: designation heads ("sundsvall skonsberg") one of whose words starts with the
    typed head ("skönsberg", "sköns"), read as a bounded key range (the first
    ``PROPERTY_HEAD_KEYS`` keys in key order, which for names is natural order), at most
    ``limit`` of them; ``pexact``:
    their units matching the typed number ("1:1" → 1:1, 1:10 … 1:12). Only when that finds
    nothing, ``pfuzzy``: the nearest spellings of the head by trigram KNN, whole-head and
    whole-word similarity ("skonsbrg" → "sundsvall skonsberg"), and
    ``pfuzzy_units``. ``props`` is both, in stage, head and natural order.
    """
    first_keys = (
        "(SELECT * FROM lookup.property_head_keys k WHERE length({h}) >= 2 AND k.key ~>=~ {h} "
        "AND k.key ~<~ (SELECT head_end FROM pq) {own} ORDER BY k.key LIMIT {keys})"
    )
    branches = [
        sql.SQL(first_keys).format(h=_PHEAD, own=sql.SQL(""), keys=sql.Literal(PROPERTY_HEAD_KEYS))
    ]
    if options.municipality:
        # The municipality's own heads too, so that inside-first ranking has them to rank.
        branches.append(
            sql.SQL(first_keys).format(
                h=_PHEAD,
                own=sql.SQL("AND k.municipality_code = %(municipality)s"),
                keys=sql.Literal(PROPERTY_HEAD_KEYS),
            )
        )
    inside = (
        sql.SQL("k.municipality_code IS NOT DISTINCT FROM %(municipality)s")
        if options.municipality
        else sql.SQL("true")
    )
    return [
        sql.SQL(
            "pq AS MATERIALIZED (SELECT f.h AS head, f.h || chr(1114111) AS head_end "
            "FROM (SELECT lookup.fold(%(prop_head)s) AS h) f)"
        ),
        sql.SQL(
            """
        pheads AS MATERIALIZED (
            SELECT row_number() OVER (ORDER BY m.inside DESC, m.score, m.head_fold) AS ord,
                m.head_fold, m.score
            FROM (
                SELECT k.head_fold,
                    min(CASE WHEN k.key = {h} THEN 0 ELSE 3 END
                        + CASE WHEN k.word_start THEN 0 ELSE 0.5 END)::float8 AS score,
                    bool_and({inside}) AS inside
                FROM ({branches}) k
                GROUP BY k.head_fold
                ORDER BY inside DESC, score, k.head_fold
                LIMIT %(limit)s
            ) m
        )"""
        ).format(
            h=_PHEAD,
            inside=inside,
            branches=sql.SQL(" UNION ALL ").join(branches),
        ),
        sql.SQL("pexact AS MATERIALIZED ({u})").format(u=_units("pheads", options, typed)),
        sql.SQL(
            """
        pfuzzy AS MATERIALIZED (
            SELECT row_number() OVER (ORDER BY c.score, c.head_fold) AS ord, c.head_fold, c.score
            FROM (
                SELECT c.head_fold, ({base} - max(c.sim))::float8 AS score FROM (
                    (SELECT head_fold, similarity(head_fold, {h}) AS sim
                     FROM lookup.property_heads
                     WHERE {gate} AND head_fold %% {h} ORDER BY head_fold <-> {h} LIMIT {heads})
                    UNION ALL
                    (SELECT head_fold, strict_word_similarity({h}, head_fold)
                     FROM lookup.property_heads
                     WHERE {gate} AND {h} <<%% head_fold ORDER BY {h} <<<-> head_fold
                     LIMIT {heads})
                ) c GROUP BY c.head_fold ORDER BY score, c.head_fold LIMIT {heads}
            ) c
        )"""
        ).format(
            h=_PHEAD,
            base=sql.Literal(PROPERTY_FUZZY_BASE),
            heads=sql.Literal(PROPERTY_FUZZY_HEADS),
            gate=sql.SQL("length({h}) >= 3 AND NOT EXISTS (SELECT 1 FROM pexact)").format(h=_PHEAD),
        ),
        sql.SQL("pfuzzy_units AS MATERIALIZED ({u})").format(u=_units("pfuzzy", options, typed)),
        sql.SQL(
            """
        props AS (
            SELECT row_number() OVER (ORDER BY x.stage, x.ord, x.block, x.unit) AS seq, x.*
            FROM (
                SELECT 0 AS stage, * FROM pexact
                UNION ALL
                SELECT 1 AS stage, * FROM pfuzzy_units
                ORDER BY 1, 2, 3, 4
                LIMIT %(limit)s
            ) x
        )"""
        ),
    ]


STREET_ROW = sql.SQL(
    "'street', uid, name, NULL::int, NULL, NULL, NULL, postcodes, city, municipality_code, "
    "municipality_name, NULL, NULL::boolean, {c}, score, NULL::text"
).format(c=coords("geom"))
ADDRESS_ROW = sql.SQL(
    "'address', uid, street, number, letter, entrance, postcode, NULL::text[], city, "
    "municipality_code, municipality, district, NULL::boolean, {c}, score, NULL::text"
).format(c=coords("geom"))
PROPERTY_ROW = sql.SQL(
    "'property', uid, designation, NULL::int, NULL, NULL, NULL, NULL::text[], NULL, "
    "municipality_code, municipality_name, NULL, fictional, {c}, score, attribution"
).format(c=coords("point"))
