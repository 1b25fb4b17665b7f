"""Contract 0009: drop ``lookup.property_keys``, the old index of every designation suffix.

Revision ID: 0011_drop_property_keys
Revises: 0010_municipality_search

Since 0009 no release reads or writes ``property_keys`` (search goes through the designation
heads); it was kept, unmaintained, only so nodes of the release before 0009 could still answer
during a rolling upgrade (docs/operations.md, "Writing migrations": expand now, contract a
release later). The previous release (the one with 0010) does not touch it, so it can go: at
national scale it holds six million rows that every backup and vacuum still carries.

``downgrade`` rebuilds it from ``lookup.properties`` with the statement that release used
(every word-start suffix of each folded designation, with its foreign key), so that going back
past 0009 finds the keys a property search of that release expects.
"""

from alembic import op

revision = "0011_drop_property_keys"
down_revision = "0010_municipality_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TABLE IF EXISTS lookup.property_keys")


def downgrade() -> None:
    op.execute(
        """
        CREATE TABLE lookup.property_keys (
            key text NOT NULL,
            property_id bigint NOT NULL,
            word_start boolean NOT NULL
        )
        """
    )
    op.execute(
        """
        INSERT INTO lookup.property_keys (key, property_id, word_start)
        SELECT substr(p.designation_fold, g.i), p.id, g.i = 1
        FROM lookup.properties p, generate_series(1, length(p.designation_fold)) AS g(i)
        WHERE g.i = 1 OR (substr(p.designation_fold, g.i - 1, 1) IN (' ', '-')
            AND substr(p.designation_fold, g.i, 1) ~ '[[:alpha:]]')
        """
    )
    op.execute(
        "CREATE INDEX property_keys_key_idx ON lookup.property_keys "
        "(key text_pattern_ops) INCLUDE (property_id, word_start)"
    )
    op.execute("CREATE INDEX property_keys_property_idx ON lookup.property_keys (property_id)")
