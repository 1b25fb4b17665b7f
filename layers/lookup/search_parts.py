"""Parts the search statement shares between its stages: options, the near term, numbers on
candidate streets, property designations and the one row shape of every hit.

:mod:`layers.lookup.search_sql` assembles them with the street stages into one statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from layers.crs import SWEREF99_TM, LonLat
from layers.lookup.query import SearchQuery

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
NEAR_SCALE_M = 5000.0
NEAR_WEIGHT = 1.5

#: What every row of the statement carries, whatever its kind.
HIT_COLUMNS = (
    "kind, uid, name, number, letter, entrance, postcode, postcodes, city, municipality_code, "
    "municipality, district, fictional, lon, lat, e, n, score"
)
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


def _numbers_cte(
    name: str, query: SearchQuery, streets: sql.Composable, strict_postcode: bool = True
) -> sql.Composed:
    """Numbers on ``streets`` (rows with ord, uid, score), in rank then natural order.

    With ``strict_postcode`` false an address without a postcode (common in OSM) still matches
    a typed postcode; that pass is gated on the strict one finding nothing.
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
        {name} AS MATERIALIZED (
            SELECT row_number() OVER (ORDER BY c.ord, {order}) AS seq, c.score, a.uid, a.street,
                a.number, a.letter, a.entrance, a.postcode, a.city, a.municipality_code,
                m.name AS municipality, a.district, a.geom
            FROM ({streets}) c
            CROSS JOIN LATERAL (
                SELECT * FROM lookup.addresses a WHERE {where} ORDER BY {order} LIMIT %(limit)s
            ) a
            LEFT JOIN lookup.municipalities m ON m.code = a.municipality_code
            ORDER BY c.ord, {order}
            LIMIT %(limit)s
        )"""
    ).format(
        name=sql.Identifier(name),
        order=order,
        streets=streets,
        where=sql.SQL(" AND ").join(conditions),
    )


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


def props_cte(options: SearchOptions) -> sql.Composed:
    """Property units whose designation, or a word of it, starts with the whole query."""
    municipality = (
        sql.SQL("AND p.municipality_code = %(municipality)s")
        if options.municipality
        else sql.SQL("")
    )
    return sql.SQL(
        """
        props AS (
            SELECT row_number() OVER (ORDER BY x.score, x.district, x.block, x.unit NULLS FIRST)
                AS seq, x.*
            FROM (
                SELECT p.uid, p.designation, p.fictional, p.municipality_code,
                    p.municipality_name, p.point, p.district, p.block, p.unit,
                    (CASE WHEN bool_or(k.key = {text}) THEN 0 ELSE 3 END
                     + CASE WHEN strpos(lower(p.designation), %(text_lower)s) > 0 THEN 0 ELSE 1 END
                     + CASE WHEN bool_or(k.word_start) THEN 0 ELSE 0.5 END + {near})::float8
                        AS score
                FROM lookup.property_keys k JOIN lookup.properties p ON p.id = k.property_id
                WHERE length({text}) >= 2
                    AND k.key ~>=~ {text} AND k.key ~<~ {text_end} {municipality}
                GROUP BY p.id
                ORDER BY score, p.district, p.block, p.unit NULLS FIRST
                LIMIT %(limit)s
            ) x
        )"""
    ).format(
        text=_TEXT,
        text_end=sql.SQL("(SELECT text_end FROM q)"),
        near=near("p.point", options),
        municipality=municipality,
    )


STREET_ROW = sql.SQL(
    "'street', uid, name, NULL::int, NULL, NULL, NULL, postcodes, city, municipality_code, "
    "municipality_name, NULL, NULL::boolean, {c}, score"
).format(c=coords("geom"))
ADDRESS_ROW = sql.SQL(
    "'address', uid, street, number, letter, entrance, postcode, NULL::text[], city, "
    "municipality_code, municipality, district, NULL::boolean, {c}, score"
).format(c=coords("geom"))
PROPERTY_ROW = sql.SQL(
    "'property', uid, designation, NULL::int, NULL, NULL, NULL, NULL::text[], NULL, "
    "municipality_code, municipality_name, NULL, fictional, {c}, score"
).format(c=coords("point"))
