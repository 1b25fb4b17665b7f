"""Street search at a million addresses: ranked heads for one- and two-letter prefixes, and a
point index on the key rows for ``near``.

Revision ID: 0006_search_heads
Revises: 0005_prerender

A one-letter prefix ("s") matches a sixth of all key rows, so ranking them all means reading them
all (the planner's sequential scan of ``street_keys``). The btree head indexes deliver the
biggest streets of a head first, names starting with it before later words (``WHERE left(key, 1)
= 's' ORDER BY word_start DESC, address_count DESC LIMIT 200``, a backward scan), so such a
prefix reads a few hundred index entries whatever the register's size.

With ``near`` the nearest key rows of the head come from GiST indexes on (head, point) by KNN
``<->``. btree_gist lets a GiST index hold the head's text; the tree is split by head first, so
even a rare head is found in its own branch rather than by walking the whole country. The head
is written ``substr(key, 1, n)`` there so that the planner cannot take the btree head index
instead and sort a whole head by distance. Longer prefixes keep using ``street_keys_key_idx`` (a
range of at most a few per cent of the rows), see ``layers/lookup/search_sql.py``.
"""

from alembic import op

revision = "0006_search_heads"
down_revision = "0005_prerender"
branch_labels = None
depends_on = None

_COVERING = "INCLUDE (key, street_uid, name_lower, municipality_code, e, n)"


def upgrade() -> None:
    for length in (1, 2):
        op.execute(
            f"CREATE INDEX street_keys_head{length}_idx ON lookup.street_keys "
            f"(left(key, {length}), word_start, address_count) {_COVERING}"
        )
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public")
    for length in (1, 2):
        op.execute(
            f"CREATE INDEX street_keys_near{length}_idx ON lookup.street_keys "
            f"USING gist (substr(key, 1, {length}), point(e, n))"
        )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS lookup.street_keys_near2_idx")
    op.execute("DROP INDEX IF EXISTS lookup.street_keys_near1_idx")
    op.execute("DROP INDEX IF EXISTS lookup.street_keys_head2_idx")
    op.execute("DROP INDEX IF EXISTS lookup.street_keys_head1_idx")
