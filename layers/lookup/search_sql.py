"""SQL of the staged search: small builders returning composed statements, values bound.

Kept apart from :mod:`layers.lookup.search` (which runs them and shapes hits) so tests can
EXPLAIN exactly the statements the search executes.
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
FUZZY_BASE = 6.0


@dataclass(frozen=True)
class SearchOptions:
    """Everything about a search except the text: how many, near where, which municipality."""

    limit: int = DEFAULT_LIMIT
    near: LonLat | None = None
    municipality: str | None = None
    srid: int = SWEREF99_TM


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards escaped (backslash is the default escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
            a.municipality_code, m.name, a.district, {coords}
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
