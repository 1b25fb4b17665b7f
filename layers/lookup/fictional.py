"""A FICTIONAL property register for the sample area, made from real OSM streets and addresses.

Sweden's property boundaries are not open data, yet the widget and e-services must show how a
designation looks and behaves. So: city blocks are the land between buffered OSM streets, each
block becomes a kvarter with an invented name prefixed "Fiktiva" ("Fiktiva Rosen"), and each
block is split into units by the Voronoi cells of its street numbers (one unit per building
entrance group). Every row is stored with ``fictional = true`` and shown as "(fiktiv)".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from layers.lookup.properties import rebuild_property_heads
from layers.lookup.store import lock_lookups
from layers.sources import read_features

FICTIONAL_SOURCE = "fictional-sample"

#: Invented kvarter names (plants and birds, as many real ones are); prefixed "Fiktiva".
KVARTER_NAMES: tuple[str, ...] = (
    "Rosen", "Liljan", "Vitsippan", "Lärkan", "Svalan", "Tranan", "Ekorren", "Hjorten",
    "Björken", "Linden", "Pilen", "Asken", "Eken", "Lönnen", "Hägern", "Måsen", "Ugglan",
    "Duvan", "Kråkan", "Näktergalen", "Vallmon", "Tulpanen", "Nejlikan", "Klövern",
    "Blåklockan", "Prästkragen", "Kastanjen", "Almen", "Rönnen", "Hasseln", "Granen", "Tallen",
    "Enen", "Syrenen", "Jasminen", "Gullvivan", "Smörblomman", "Lingonet", "Hjortronet",
    "Blåbäret", "Hallonet", "Smultronet", "Vinbäret", "Krusbäret", "Slånen", "Nyponet",
    "Humlan", "Myran", "Bävern", "Uttern", "Räven", "Grävlingen", "Igelkotten", "Haren",
    "Älgen", "Vildsvinet", "Fasanen", "Orren", "Tjädern", "Järpen", "Vipan", "Storken",
    "Sälgen", "Aspen", "Lärken", "Idgranen", "Mistelen", "Murgrönan", "Kaprifolen", "Ljungen",
    "Vassen", "Säven", "Näckrosen", "Kabbelekan", "Hundkäxet", "Mjölkörten", "Kungsljuset",
    "Fingerborgen", "Tistelen", "Maskrosen", "Hästhoven", "Skogsstjärnan",
)  # fmt: skip

_STREET_HIGHWAYS = (
    "primary", "secondary", "tertiary", "residential", "unclassified", "living_street",
    "pedestrian", "primary_link", "secondary_link", "tertiary_link", "trunk",
)  # fmt: skip
#: Half the width of a street corridor (m): blocks are what is left between corridors.
_STREET_HALF_WIDTH = 9.0
_MIN_BLOCK_M2 = 600.0
_MAX_BLOCK_M2 = 150_000.0


def _stage_osm(conn: psycopg.Connection[Any], osm_path: Path) -> None:
    conn.execute("CREATE TEMP TABLE fict_roads (wkb bytea) ON COMMIT DROP")
    conn.execute("CREATE TEMP TABLE fict_buildings (wkb bytea) ON COMMIT DROP")
    with conn.cursor().copy("COPY fict_roads (wkb) FROM STDIN") as copy:
        for feature in read_features(osm_path, "lines"):
            if feature.attributes.get("highway") in _STREET_HIGHWAYS:
                copy.write_row((feature.wkb,))
    with conn.cursor().copy("COPY fict_buildings (wkb) FROM STDIN") as copy:
        for feature in read_features(osm_path, "multipolygons"):
            if feature.attributes.get("building"):
                copy.write_row((feature.wkb,))


def generate_fictional_properties(conn: psycopg.Connection[Any], osm_path: Path) -> int:
    """Replace the fictional register with one derived from ``osm_path``; returns the count.

    Needs the OSM file's addresses already in ``lookup.addresses`` (they seed the units).
    """
    with conn.transaction():
        lock_lookups(conn)
        _stage_osm(conn, osm_path)
        blocks = sql.SQL(
            """
            CREATE TEMP TABLE fict_blocks ON COMMIT DROP AS
            WITH roads AS (
                SELECT ST_Transform(ST_SetSRID(ST_GeomFromWKB(wkb), 4326), 3006) AS geom
                FROM fict_roads
            ), area AS (
                SELECT ST_Envelope(ST_Collect(geom)) AS geom FROM roads
            ), cut AS (
                SELECT (ST_Dump(ST_Difference(area.geom,
                    (SELECT ST_Union(ST_Buffer(geom, {half_width}, 'endcap=flat'))
                     FROM roads)))).geom AS geom
                FROM area
            )
            SELECT row_number() OVER (ORDER BY round(ST_Y(ST_Centroid(geom)) / 50) DESC,
                                      ST_X(ST_Centroid(geom))) AS block_no, geom
            FROM cut
            WHERE ST_Area(geom) BETWEEN {min_area} AND {max_area}
              AND EXISTS (SELECT 1 FROM fict_buildings b WHERE ST_Intersects(cut.geom,
                    ST_Transform(ST_SetSRID(ST_GeomFromWKB(b.wkb), 4326), 3006)))
            """
        ).format(
            half_width=sql.Literal(_STREET_HALF_WIDTH),
            min_area=sql.Literal(_MIN_BLOCK_M2),
            max_area=sql.Literal(_MAX_BLOCK_M2),
        )
        conn.execute(blocks)
        # One seed per street number inside the block; Voronoi cells clipped to the block.
        conn.execute(
            """
            CREATE TEMP TABLE fict_units ON COMMIT DROP AS
            WITH seeds AS (
                SELECT b.block_no, ST_Centroid(ST_Collect(a.geom)) AS geom
                FROM fict_blocks b JOIN lookup.addresses a ON ST_Intersects(b.geom, a.geom)
                GROUP BY b.block_no, a.street_uid, a.number
            ), cells AS (
                SELECT b.block_no, b.geom AS block_geom,
                    (ST_Dump(ST_VoronoiPolygons(ST_Collect(s.geom), 0, b.geom))).geom AS cell
                FROM fict_blocks b JOIN seeds s USING (block_no)
                GROUP BY b.block_no, b.geom
                HAVING count(*) > 1
            ), pieces AS (
                SELECT block_no, ST_CollectionExtract(ST_Intersection(cell, block_geom), 3) AS geom
                FROM cells
                UNION ALL
                SELECT b.block_no, b.geom FROM fict_blocks b
                WHERE (SELECT count(*) FROM seeds s WHERE s.block_no = b.block_no) <= 1
            )
            SELECT block_no, row_number() OVER (PARTITION BY block_no
                    ORDER BY round(ST_Y(ST_PointOnSurface(geom)) / 10) DESC,
                             ST_X(ST_PointOnSurface(geom))) AS unit_no,
                ST_Multi(geom) AS geom
            FROM pieces WHERE NOT ST_IsEmpty(geom) AND ST_Area(geom) > 20
            """
        )
        conn.execute("DELETE FROM lookup.properties WHERE source = %s", [FICTIONAL_SOURCE])
        count = conn.execute(
            """
            INSERT INTO lookup.properties (uid, designation, municipality_code, municipality_name,
                district, block, unit, fictional, source, geom, point)
            SELECT 'p' || left(md5(lookup.fold(d.designation)), 15), d.designation, m.code,
                m.name, d.district, u.unit_no, NULL, true, %(source)s, u.geom,
                ST_PointOnSurface(u.geom)
            FROM fict_units u
            CROSS JOIN LATERAL (SELECT ST_PointOnSurface(u.geom) AS pt) p
            LEFT JOIN LATERAL (
                SELECT mm.code, mm.name FROM lookup.municipality_parts mp
                JOIN lookup.municipalities mm USING (code)
                WHERE ST_Intersects(mp.geom, p.pt) LIMIT 1) m ON true
            CROSS JOIN LATERAL (
                SELECT 'Fiktiva ' || CASE WHEN u.block_no > cardinality(%(names)s::text[])
                        THEN 'Lilla ' ELSE '' END
                    || (%(names)s::text[])[1 + (u.block_no - 1) %% cardinality(%(names)s::text[])]
                    AS district) k
            CROSS JOIN LATERAL (
                SELECT k.district AS district,
                    concat_ws(' ', m.name, k.district, u.unit_no::text) AS designation) d
            """,
            {"source": FICTIONAL_SOURCE, "names": list(KVARTER_NAMES)},
        ).rowcount
        rebuild_property_heads(conn)
    return count
