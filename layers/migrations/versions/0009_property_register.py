"""Lantmäteriet's property register at national scale: register ids, attribution, and search by
designation head ("Sundsvall Skönsberg") instead of every suffix of every designation.

Revision ID: 0009_property_register
Revises: 0008_address_register

A designation is a head (register area + trakt or kvarter: "Sundsvall Skönsberg") and a number
("1:12", a kvarter's "2", a samfällighet's "s:3"). Three million designations share about a
hundred thousand heads, so search finds heads first (``property_head_keys``: word-start suffixes
of each head, one btree prefix scan; ``property_heads``: trigram KNN for typos) and then the units
of a head in natural order from ``properties_head_idx`` (head, block, unit). The old
``property_keys`` (every suffix of every designation, six million rows at national scale) is no
longer read or written by this release, but the previous release reads it during a rolling
upgrade (docs/operations.md, "Writing migrations": expand only), so it stays, unmaintained and
without its foreign key (the register import swaps ``lookup.properties``); the next release's
migration drops it. Old nodes then find the designations of the upgrade's moment, and no error.

``register_id`` is the register unit's UUID (``registerenhetsreferens``): the areas of a
multi-part unit share it and are stored as one row. ``attribution`` is what an answer built from
the row must carry ("© Lantmäteriet (CC BY 4.0)"); NULL for the sample's fictional register.
A samfällighet's block is a letter ("s:3"), so ``block`` may be NULL.
"""

from alembic import op

revision = "0009_property_register"
down_revision = "0008_address_register"
branch_labels = None
depends_on = None

#: The head of a designation: everything before its last word ("1:12", "2", "s:3").
HEAD_SQL = r"lookup.fold(regexp_replace(designation, '\s+\S+$', ''))"
NUMBER_SQL = r"lower(substring(designation from '(\S+)$'))"


def upgrade() -> None:
    op.execute(
        "ALTER TABLE lookup.property_keys DROP CONSTRAINT IF EXISTS property_keys_property_id_fkey"
    )
    op.execute("ALTER TABLE lookup.properties ALTER COLUMN block DROP NOT NULL")
    op.execute("ALTER TABLE lookup.properties ADD COLUMN register_id text")
    op.execute("ALTER TABLE lookup.properties ADD COLUMN attribution text")
    op.execute(
        f"ALTER TABLE lookup.properties ADD COLUMN head_fold text "
        f"GENERATED ALWAYS AS ({HEAD_SQL}) STORED"
    )
    op.execute(
        f"ALTER TABLE lookup.properties ADD COLUMN number_fold text "
        f"GENERATED ALWAYS AS ({NUMBER_SQL}) STORED"
    )
    op.execute("CREATE INDEX properties_head_idx ON lookup.properties (head_fold, block, unit)")
    op.execute(
        """
        CREATE TABLE lookup.property_heads (
            head_fold text PRIMARY KEY,
            municipality_code text
        )
        """
    )
    op.execute(
        "CREATE INDEX property_heads_trgm_idx ON lookup.property_heads "
        "USING gist (head_fold gist_trgm_ops)"
    )
    op.execute(
        """
        CREATE TABLE lookup.property_head_keys (
            key text NOT NULL,
            head_fold text NOT NULL,
            word_start boolean NOT NULL,
            municipality_code text
        )
        """
    )
    op.execute(
        "CREATE INDEX property_head_keys_key_idx ON lookup.property_head_keys "
        "(key text_pattern_ops) INCLUDE (head_fold, word_start, municipality_code)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS lookup.property_head_keys")
    op.execute("DROP TABLE IF EXISTS lookup.property_heads")
    op.execute("DROP INDEX IF EXISTS lookup.properties_head_idx")
    op.execute("ALTER TABLE lookup.properties DROP COLUMN number_fold")
    op.execute("ALTER TABLE lookup.properties DROP COLUMN head_fold")
    op.execute("ALTER TABLE lookup.properties DROP COLUMN attribution")
    op.execute("ALTER TABLE lookup.properties DROP COLUMN register_id")
    op.execute("DELETE FROM lookup.properties WHERE block IS NULL")
    op.execute("ALTER TABLE lookup.properties ALTER COLUMN block SET NOT NULL")
    op.execute(
        "DELETE FROM lookup.property_keys k WHERE NOT EXISTS "
        "(SELECT 1 FROM lookup.properties p WHERE p.id = k.property_id)"
    )
    op.execute(
        "ALTER TABLE lookup.property_keys ADD CONSTRAINT property_keys_property_id_fkey "
        "FOREIGN KEY (property_id) REFERENCES lookup.properties (id) ON DELETE CASCADE"
    )
