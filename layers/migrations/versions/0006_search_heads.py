"""Street search at a million addresses: ranked heads for one- and two-letter prefixes, and a
point index on the key rows for ``near``.

Revision ID: 0006_search_heads
Revises: 0005_prerender

A one-letter prefix ("s") matches a sixth of all key rows, so ranking them all means reading them
all (the planner's sequential scan of ``street_keys``). These btree indexes deliver the biggest
streets of a head first (``WHERE left(key, 1) = 's' ORDER BY address_count DESC LIMIT 200``), so
such a prefix reads a few hundred index entries whatever the register's size. With ``near`` the
nearest ones come from the GiST index on the key rows' points (KNN ``<->`` inside a box), so a
small street next door still outranks a big one far away. Longer prefixes keep using
``street_keys_key_idx`` (a range of at most a few per cent of the rows), see
``layers/lookup/search_sql.py``.
"""

from alembic import op

revision = "0006_search_heads"
down_revision = "0005_prerender"
branch_labels = None
depends_on = None

_COVERING = "INCLUDE (key, street_uid, word_start, name_lower, municipality_code, e, n)"


def upgrade() -> None:
    for length in (1, 2):
        op.execute(
            f"CREATE INDEX street_keys_head{length}_idx ON lookup.street_keys "
            f"(left(key, {length}), address_count) {_COVERING}"
        )
    op.execute("CREATE INDEX street_keys_point_idx ON lookup.street_keys USING gist (point(e, n))")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS lookup.street_keys_point_idx")
    op.execute("DROP INDEX IF EXISTS lookup.street_keys_head2_idx")
    op.execute("DROP INDEX IF EXISTS lookup.street_keys_head1_idx")
