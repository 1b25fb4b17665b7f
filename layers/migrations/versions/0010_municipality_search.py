"""A municipality's own street heads: ``/api/search?municipality=`` with a short prefix.

Revision ID: 0010_municipality_search
Revises: 0009_property_register

A search biased to a municipality (issue 12 §2) ranks its own places first, so a one- or
two-letter prefix must also take the municipality's biggest streets of that head as candidates,
not only the country's. Filtering the country-wide head index by municipality reads the whole
head (22,000 key rows for "s" at 40,000 streets, tests/test_lookup_scale.py); this index is
split by municipality first, so the same candidates cost a few hundred entries. Two-letter
prefixes use it through the redundant one-letter condition the statement adds
(layers/lookup/search_sql.py), reading at most the municipality's one-letter head.
"""

from alembic import op

revision = "0010_municipality_search"
down_revision = "0009_property_register"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX street_keys_own_head_idx ON lookup.street_keys "
        "(municipality_code, left(key, 1), word_start, address_count) "
        "INCLUDE (key, street_uid, name_lower, e, n)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS lookup.street_keys_own_head_idx")
