"""SQL of the staged search: one statement per search, built from small composed parts.

The stages of :mod:`layers.lookup.search` are common table expressions of a single statement,
so a search is one round trip whatever path it takes. A later stage runs only when the earlier
ones found nothing: its scans sit under a gate such as ``NOT EXISTS (SELECT 1 FROM exact)``,
which PostgreSQL evaluates once, as a one-time filter, before it starts them.

    q              the typed text folded by ``lookup.fold`` (the rule the keys were folded by),
                   once; every later part reads it through a scalar subquery (an InitPlan)
    exact          streets whose name, or a word of it, starts with the street text (top n)
    exact_numbers  numbers on those streets, when a number or a whole street was typed
    fuzzy          the nearest spellings (trigram KNN over distinct names), when exact found
                   nothing usable
    fuzzy_numbers  numbers on the fuzzy streets
    pq … props     property units: designation heads starting with the typed head, their
                   units matching the typed number; typo-tolerant heads when none match
                   (:func:`~layers.lookup.search_parts.props_ctes`)

The final ``SELECT`` gives every kind of hit one row shape (``HIT_COLUMNS``), in stage order,
then (when a street was typed) the address sources' attributions, and the asked municipality.

Prefixes are ranges (``key ~>=~ p AND key ~<~ p || U+10FFFF``) rather than ``LIKE``: the bounds
come from ``q`` at run time, so the plan is the same, and index-bound, for every text, also
when psycopg prepares the statement and PostgreSQL reuses a generic plan. One- and two-letter
prefixes read their candidates from the ranked head indexes (migration 0006): the biggest
streets of that head, the exact key, and with ``near`` the nearest ones.
"""

from __future__ import annotations

from psycopg import sql

from layers.lookup.properties import parse_property_query
from layers.lookup.query import SearchQuery
from layers.lookup.search_parts import (
    ADDRESS_ROW,
    ASKED_ROW,
    CREDIT_ROWS,
    DEFAULT_LIMIT,
    HIT_COLUMNS,
    MAX_LIMIT,
    PROPERTY_ROW,
    STREET_ROW,
    SearchOptions,
    near,
    near_xy,
    numbers_ctes,
    props_ctes,
)

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "SearchOptions", "search_sql"]

FUZZY_BASE = 6.0
#: Streets considered when looking for numbers: enough for "Storgatan" in many towns.
ADDRESS_STREETS = 40
#: Scores below this mean the whole street name was typed (see the ranking in search.py).
WHOLE_NAME_LIMIT = 3.0
#: Scores below this mean the whole name was typed with its own å, ä, ö.
AS_TYPED_LIMIT = 1.0
#: Prefixes up to this many (folded) letters take their candidates from the head indexes.
HEAD_LETTERS = 2
#: Key rows a head gives (biggest streets first), and again nearest first with ``near``.
HEAD_CANDIDATES = 200
#: Nearest spellings fetched per trigram measure before the streets carrying them are read.
FUZZY_NAMES = 30

_STREET = sql.SQL("(SELECT street FROM q)")
_STREET_END = sql.SQL("(SELECT street_end FROM q)")
_TOWN = sql.SQL("(SELECT town FROM q)")


def inside(column: str, options: SearchOptions) -> sql.Composable:
    """Whether ``column`` (a municipality code) is the asked municipality's; always true
    without one. Sorted descending it puts a municipality's own places first."""
    if not options.municipality:
        return sql.SQL("true")
    return sql.SQL("({c} IS NOT DISTINCT FROM %(municipality)s)").format(c=sql.SQL(column))


def _street_filters(query: SearchQuery, options: SearchOptions) -> sql.Composable:
    parts: list[sql.Composable] = [sql.SQL("true")]
    if query.town:
        parts.append(
            sql.SQL("(starts_with(s.city_fold, {t}) OR starts_with(s.municipality_fold, {t}))")
            .format(t=_TOWN)
        )  # fmt: skip
    if query.postcode:
        # Soft: OSM often has no postcode at all, which must not hide the street.
        parts.append(sql.SQL("(%(postcode)s = ANY (s.postcodes) OR s.postcodes = '{}')"))
    return sql.SQL(" AND ").join(parts)


def _in_range(column: str) -> sql.Composable:
    """``column`` starts with the folded street text (an index range on text_pattern_ops)."""
    # An empty fold ("-" typed as a street) would be every key: it finds nothing instead.
    return sql.SQL("{lo} <> '' AND {c} ~>=~ {lo} AND {c} ~<~ {hi}").format(
        c=sql.SQL(column), lo=_STREET, hi=_STREET_END
    )


def _head_keys(letters: int, options: SearchOptions) -> sql.Composable:
    """Key rows for a short prefix: the biggest streets of its head, the exact key, the nearest.

    Each branch is an index scan with a LIMIT (head index backwards, key index by equality,
    GiST KNN on head and point), so a one-letter prefix reads a few hundred entries at any size.
    """
    head = sql.SQL("left(h.key, {n}) = left({s}, {n})").format(n=sql.Literal(letters), s=_STREET)
    # The same head, written as the GiST (head, point) index has it: the btree head index
    # cannot serve it, so the nearest come by KNN instead of sorting the whole head by distance.
    near_head = sql.SQL("substr(h.key, 1, {n}) = left({s}, {n})").format(
        n=sql.Literal(letters), s=_STREET
    )
    biggest = (
        "(SELECT h.* FROM lookup.street_keys h WHERE {head} {own} "
        "ORDER BY h.word_start DESC, h.address_count DESC LIMIT {k})"
    )
    branches = [
        biggest.replace("{own}", ""),
        "(SELECT h.* FROM lookup.street_keys h WHERE h.key = {s})",
    ]
    if options.municipality:
        # The municipality's own biggest streets of the head too: inside ranks first, so they
        # must be among the candidates even where the country's biggest are elsewhere.
        # (The one-letter head again, so that a two-letter prefix can take the municipality's
        # own head index, migration 0010, rather than filter the country's whole head.)
        own = "AND h.municipality_code = %(municipality)s AND left(h.key, 1) = left({s}, 1)"
        branches.append(biggest.replace("{own}", own))
    if options.near is not None:
        branches.append(
            "(SELECT h.* FROM lookup.street_keys h WHERE {near_head} "
            "ORDER BY point(h.e, h.n) <-> point(%(near_e)s, %(near_n)s) LIMIT {k})"
        )
    return sql.SQL("({})").format(
        sql.SQL(" UNION ALL ").join(
            sql.SQL(b).format(head=head, near_head=near_head, s=_STREET,
                              k=sql.Literal(HEAD_CANDIDATES))
            for b in branches
        )
    )  # fmt: skip


def _exact_cte(query: SearchQuery, options: SearchOptions, n: int, letters: int) -> sql.Composed:
    """Streets whose name or one of its words starts with the street text, best ``n`` first.

    Ranked from the key rows alone (they carry name, size and place) before any street is read.
    Town and postcode narrowing need the street rows and take :func:`_joined_exact_cte`.
    """
    if query.town or query.postcode:
        return _joined_exact_cte(query, options, n)
    keys = (
        _head_keys(letters, options) if letters <= HEAD_LETTERS else sql.SQL("lookup.street_keys")
    )
    return sql.SQL(
        """
        exact AS MATERIALIZED (
            SELECT row_number() OVER (ORDER BY m.inside DESC, m.score, m.address_count DESC,
                                               m.name_lower, s.uid)
                AS ord, s.uid, s.name, s.city, s.municipality_code, s.municipality_name,
                s.postcodes, s.geom, m.score
            FROM (
                SELECT k.street_uid,
                    (min(CASE WHEN k.key = {street} AND k.word_start THEN 0 ELSE 3 END
                         + CASE WHEN strpos(k.name_lower, %(street)s) > 0 THEN 0 ELSE 1 END
                         + CASE WHEN k.word_start THEN 0 ELSE 0.5 END) + min({near}))::float8
                        AS score,
                    max(k.address_count) AS address_count, min(k.name_lower) AS name_lower,
                    bool_and({inside}) AS inside
                FROM {keys} k
                WHERE {in_range}
                GROUP BY k.street_uid
                ORDER BY inside DESC, score, address_count DESC, name_lower, k.street_uid
                LIMIT {n}
            ) m JOIN lookup.streets s ON s.uid = m.street_uid
        )"""
    ).format(
        street=_STREET,
        near=near_xy(options),
        keys=keys,
        in_range=_in_range("k.key"),
        inside=inside("k.municipality_code", options),
        n=sql.Literal(n),
    )


def _joined_exact_cte(query: SearchQuery, options: SearchOptions, n: int) -> sql.Composed:
    """Like :func:`_exact_cte`, filtered by town or postcode on the street rows."""
    return sql.SQL(
        """
        exact AS MATERIALIZED (
            SELECT row_number() OVER (ORDER BY c.inside DESC, c.score, c.address_count DESC,
                                               c.name, c.uid)
                AS ord, c.uid, c.name, c.city, c.municipality_code, c.municipality_name,
                c.postcodes, c.geom, c.score
            FROM (
                SELECT s.*, {inside} AS inside,
                    (CASE WHEN s.name_fold = {street} THEN 0 ELSE 3 END
                     + CASE WHEN strpos(lower(s.name), %(street)s) > 0 THEN 0 ELSE 1 END
                     + CASE WHEN m.word_start THEN 0 ELSE 0.5 END + {town} + {near})::float8
                        AS score
                FROM (SELECT k.street_uid, bool_or(k.word_start) AS word_start
                      FROM lookup.street_keys k WHERE {in_range}
                      GROUP BY k.street_uid) m
                -- by key, one candidate at a time (LIMIT 1 keeps the planner from hashing the
                -- whole streets table when a short prefix has many candidates)
                CROSS JOIN LATERAL (
                    SELECT * FROM lookup.streets s WHERE s.uid = m.street_uid LIMIT 1
                ) s
                WHERE {filters}
                ORDER BY inside DESC, score, s.address_count DESC, s.name, s.uid
                LIMIT {n}
            ) c
        )"""
    ).format(
        street=_STREET,
        inside=inside("s.municipality_code", options),
        near=near("s.geom", options),
        town=_town_term(query),
        in_range=_in_range("k.key"),
        filters=_street_filters(query, options),
        n=sql.Literal(n),
    )


#: Added when the typed town names the street's municipality but not its postort:
#: "Storgatan 12 Sundsvall" is the one in postort Sundsvall before the one in Matfors (also in
#: Sundsvall municipality). Less than a completion of the number (search_parts.COMPLETION_*)
#: would not matter: it orders streets, whose numbers the completion then orders.
OTHER_POSTORT = 0.25


def _town_term(query: SearchQuery) -> sql.Composable:
    if not query.town:
        return sql.SQL("0")
    return sql.SQL("CASE WHEN starts_with(s.city_fold, {t}) THEN 0 ELSE {w} END").format(
        t=_TOWN, w=sql.Literal(OTHER_POSTORT)
    )


def _fuzzy_ctes(
    query: SearchQuery, options: SearchOptions, n: int, gate: sql.Composable
) -> sql.Composed:
    """Streets spelled nearly like the typed text, computed only when ``gate`` holds.

    The nearest distinct names come from the GiST trigram index by KNN: whole-name similarity
    (``<->``, "Älgatan" → Älggatan) and word similarity (``<<->``, a typo in a name still being
    typed); the streets with each name are then read by ``streets_name_fold_idx``, best ``n``.
    """
    return sql.SQL(
        """
        names AS (
            SELECT c.name_fold, max(c.sim) AS sim FROM (
                (SELECT name_fold, similarity(name_fold, {street}) AS sim
                 FROM lookup.street_names WHERE {gate} AND name_fold %% {street}
                 ORDER BY name_fold <-> {street} LIMIT {k})
                UNION ALL
                (SELECT name_fold, word_similarity({street}, name_fold)
                 FROM lookup.street_names WHERE {gate} AND {street} <%% name_fold
                 ORDER BY {street} <<-> name_fold LIMIT {k})
            ) c GROUP BY c.name_fold
        ),
        fuzzy AS MATERIALIZED (
            SELECT row_number() OVER (ORDER BY f.inside DESC, f.score, f.address_count DESC,
                                               f.name, f.uid)
                AS ord, f.uid, f.name, f.city, f.municipality_code, f.municipality_name,
                f.postcodes, f.geom, f.score
            FROM (
                SELECT s.*, ({base} - names.sim + s.near)::float8 AS score
                FROM names CROSS JOIN LATERAL (
                    SELECT s.*, {near} AS near, {inside} AS inside FROM lookup.streets s
                    WHERE s.name_fold = names.name_fold AND {filters}
                    ORDER BY inside DESC, near, s.address_count DESC, s.name, s.uid
                    LIMIT {n}
                ) s
                ORDER BY s.inside DESC, score, s.address_count DESC, s.name, s.uid
                LIMIT {n}
            ) f
        )"""
    ).format(
        street=_STREET,
        gate=gate,
        k=sql.Literal(FUZZY_NAMES),
        base=sql.Literal(FUZZY_BASE),
        near=near("s.geom", options),
        inside=inside("s.municipality_code", options),
        filters=_street_filters(query, options),
        n=sql.Literal(n),
    )


def search_sql(query: SearchQuery, options: SearchOptions, letters: int) -> sql.Composed:
    """The whole search as one statement; ``letters`` is the folded street text's length.

    Which stages exist follows from what was typed (the same decisions :mod:`search` documents);
    which of them run follows from what the earlier ones found, inside the statement.
    """
    ctes: list[sql.Composable] = [
        sql.SQL(
            "q AS MATERIALIZED (SELECT f.street, f.street || chr(1114111) AS street_end, "
            "f.text, f.text || chr(1114111) AS text_end, lookup.fold(%(town)s) AS town "
            "FROM (SELECT lookup.fold(%(street)s) AS street, lookup.fold(%(text)s) AS text) f)"
        )
    ]
    parts: list[sql.Composable] = []
    if query.street:
        numbers = query.wants_addresses
        ctes.append(_exact_cte(query, options, ADDRESS_STREETS if numbers else options.limit,
                               letters))  # fmt: skip
        nothing_yet = sql.SQL("{s} <> '' AND NOT EXISTS (SELECT 1 FROM exact)").format(s=_STREET)
        streets_gate = sql.SQL("true")
        if query.street_complete:  # "Storgatan ": numbers on streets of that very name
            whole = sql.SQL("SELECT ord, uid, score FROM exact WHERE score < {w}").format(
                w=sql.Literal(WHOLE_NAME_LIMIT)
            )
            ctes += numbers_ctes("exact_numbers", query, whole)
            streets_gate = sql.SQL("NOT EXISTS (SELECT 1 FROM exact_numbers)")
        elif numbers:
            ctes += numbers_ctes("exact_numbers", query, sql.SQL("SELECT * FROM exact"))
            # A street typed letter for letter that lacks the number is offered as it is; a
            # similar spelling elsewhere would only guess ("Älgatan 16B" is not exact for
            # Malmö's Algatan, so it still goes on to find Älggatan 16B).
            fuzzy_gate = sql.SQL(
                "{s} <> '' AND NOT EXISTS (SELECT 1 FROM exact_numbers) "
                "AND NOT EXISTS (SELECT 1 FROM exact WHERE score < {typed})"
            ).format(s=_STREET, typed=sql.Literal(AS_TYPED_LIMIT))
            ctes.append(_fuzzy_ctes(query, options, ADDRESS_STREETS, fuzzy_gate))
            ctes += numbers_ctes("fuzzy_numbers", query, sql.SQL("SELECT * FROM fuzzy"))
            streets_gate = sql.SQL(
                "NOT EXISTS (SELECT 1 FROM exact_numbers) "
                "AND NOT EXISTS (SELECT 1 FROM fuzzy_numbers)"
            )
            parts.append(sql.SQL("SELECT 1, seq, {r} FROM fuzzy_numbers").format(r=ADDRESS_ROW))
        else:
            ctes.append(_fuzzy_ctes(query, options, options.limit, nothing_yet))
        if numbers:
            parts.append(sql.SQL("SELECT 0, seq, {r} FROM exact_numbers").format(r=ADDRESS_ROW))
        parts.append(
            sql.SQL("SELECT 2, ord, {r} FROM exact WHERE ord <= %(limit)s AND {g}").format(
                r=STREET_ROW, g=streets_gate
            )
        )
        if not query.street_complete:
            parts.append(
                sql.SQL(
                    "SELECT 3, ord, {r} FROM fuzzy WHERE ord <= %(limit)s AND {g} "
                    "AND NOT EXISTS (SELECT 1 FROM exact)"
                ).format(r=STREET_ROW, g=streets_gate)
            )
    if query.street:  # street and address hits credit the address sources
        parts.append(CREDIT_ROWS)
    if not query.town and not query.postcode:
        ctes += props_ctes(options, parse_property_query(query.text))
        parts.append(sql.SQL("SELECT 4, seq, {r} FROM props").format(r=PROPERTY_ROW))
    if options.municipality:
        parts.append(sql.SQL("SELECT 9, 0, {r}").format(r=ASKED_ROW))
    return sql.SQL(
        "WITH {ctes}\nSELECT {cols} FROM ({parts}) hits ({all}) ORDER BY part, seq"
    ).format(
        ctes=sql.SQL(",\n").join(ctes),
        cols=sql.SQL(HIT_COLUMNS),
        parts=sql.SQL("\nUNION ALL\n").join(parts),
        all=sql.SQL("part, seq, " + HIT_COLUMNS),
    )
