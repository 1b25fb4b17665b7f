"""Address, property and municipality lookups (schema ``lookup``).

Revision ID: 0002_lookup
Revises: 0001_catalog

Geometry is stored in SWEREF 99 TM (EPSG:3006): distances in metres for reverse lookups, and the
coordinates e-services want. Search goes through small key tables (``street_keys``,
``property_keys``) holding every word-start suffix of a folded name, so one btree prefix scan
finds both "Storg…" and "…Eriksg…" (S:t Eriksgatan).
"""

from alembic import op

revision = "0002_lookup"
down_revision = "0001_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE SCHEMA IF NOT EXISTS lookup")
    # unaccent() is only STABLE (its dictionary could change), so it cannot appear in an index
    # or a generated column; this wrapper names the dictionary explicitly and is declared
    # IMMUTABLE, which is the documented way to index unaccented text.
    op.execute(
        r"""
        CREATE FUNCTION lookup.fold(text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
        $$ SELECT btrim(regexp_replace(
               lower(public.unaccent('public.unaccent'::regdictionary, $1)), '\s+', ' ', 'g')) $$
        """
    )
    op.execute(
        """
        CREATE TABLE lookup.municipalities (
            code text PRIMARY KEY CONSTRAINT municipality_code CHECK (code ~ '^[0-9]{4}$'),
            name text NOT NULL,
            county_code text,
            geom geometry(MultiPolygon, 3006) NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX municipalities_geom_idx ON lookup.municipalities USING gist (geom)")
    # Municipalities cut into pieces of <= 256 vertices: point-in-polygon on a piece is cheap.
    op.execute(
        """
        CREATE TABLE lookup.municipality_parts (
            code text NOT NULL REFERENCES lookup.municipalities (code) ON DELETE CASCADE,
            geom geometry(Polygon, 3006) NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX municipality_parts_geom_idx ON lookup.municipality_parts USING gist (geom)"
    )
    op.execute(
        """
        CREATE TABLE lookup.addresses (
            id bigserial PRIMARY KEY,
            uid text NOT NULL UNIQUE,
            street text NOT NULL,
            street_uid text NOT NULL,
            number integer NOT NULL CONSTRAINT address_number CHECK (number >= 0),
            letter text CONSTRAINT address_letter CHECK (letter ~ '^[A-ZÅÄÖ]{1,2}$'),
            entrance text,
            postcode text CONSTRAINT address_postcode CHECK (postcode ~ '^[0-9]{5}$'),
            city text,
            municipality_code text,
            district text,
            source text NOT NULL,
            source_id text,
            geom geometry(Point, 3006) NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX addresses_geom_idx ON lookup.addresses USING gist (geom)")
    op.execute(
        "CREATE INDEX addresses_street_number_idx ON lookup.addresses (street_uid, number, letter)"
    )
    op.execute("CREATE INDEX addresses_source_idx ON lookup.addresses (source)")
    op.execute(
        """
        CREATE TABLE lookup.streets (
            uid text PRIMARY KEY,
            name text NOT NULL,
            name_fold text GENERATED ALWAYS AS (lookup.fold(name)) STORED,
            city text,
            city_fold text GENERATED ALWAYS AS (lookup.fold(city)) STORED,
            municipality_code text,
            municipality_name text,
            municipality_fold text GENERATED ALWAYS AS (lookup.fold(municipality_name)) STORED,
            postcodes text[] NOT NULL DEFAULT '{}',
            address_count integer NOT NULL DEFAULT 0,
            geom geometry(Point, 3006) NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX streets_name_fold_idx ON lookup.streets (name_fold)")
    # Each key row carries what ranking needs (name, size, place), so a one-letter prefix that
    # matches thousands of streets is ranked from the index alone before any street is read.
    op.execute(
        """
        CREATE TABLE lookup.street_keys (
            key text NOT NULL,
            street_uid text NOT NULL,
            word_start boolean NOT NULL,
            name_lower text NOT NULL,
            address_count integer NOT NULL,
            municipality_code text,
            e double precision NOT NULL,
            n double precision NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX street_keys_key_idx ON lookup.street_keys (key text_pattern_ops) "
        "INCLUDE (street_uid, word_start, name_lower, address_count, municipality_code, e, n)"
    )
    # Distinct folded names for typo tolerance: "Storgatan" in 200 towns is one trigram row.
    # GiST (not GIN) so the nearest spellings come straight from the index (KNN <->, <<->).
    op.execute("CREATE TABLE lookup.street_names (name_fold text PRIMARY KEY)")
    op.execute(
        "CREATE INDEX street_names_trgm_idx ON lookup.street_names "
        "USING gist (name_fold gist_trgm_ops)"
    )
    op.execute(
        """
        CREATE TABLE lookup.properties (
            id bigserial PRIMARY KEY,
            uid text NOT NULL UNIQUE,
            designation text NOT NULL,
            designation_fold text GENERATED ALWAYS AS (lookup.fold(designation)) STORED,
            municipality_code text,
            municipality_name text,
            district text NOT NULL,
            block integer NOT NULL,
            unit integer,
            fictional boolean NOT NULL,
            source text NOT NULL,
            geom geometry(MultiPolygon, 3006) NOT NULL,
            point geometry(Point, 3006) NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX properties_geom_idx ON lookup.properties USING gist (geom)")
    op.execute(
        """
        CREATE TABLE lookup.property_keys (
            key text NOT NULL,
            property_id bigint NOT NULL REFERENCES lookup.properties (id) ON DELETE CASCADE,
            word_start boolean NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX property_keys_key_idx ON lookup.property_keys "
        "(key text_pattern_ops) INCLUDE (property_id, word_start)"
    )
    op.execute("CREATE INDEX property_keys_property_idx ON lookup.property_keys (property_id)")


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS lookup CASCADE")
