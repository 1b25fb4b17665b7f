"""Loading Lantmäteriet's address register into the lookup tables: full loads and change extracts.

Both run in ONE transaction: rows are COPYed into a temporary staging table batch by batch
(bounded memory), then placed with a few set-based statements, and the street search tables are
rebuilt. Until COMMIT every reader keeps seeing the previous register (PostgreSQL's MVCC), and a
failed or killed import (the server rolls back when its client disappears) changes nothing.
A change extract updates rows in place and never blocks readers; a full load builds a new table
and renames it into place at the end, so readers wait for that rename alone. A second writer
waits on :func:`lock_lookups`.

Address ids are the object identity ("a" + the UUID's 32 hex digits), so an address keeps its id
when its street is renamed, and a change extract finds it again.

The entry points the CLI (``webmap addresses import [--changes]``) calls, one module for both;
the work is in :mod:`layers.registers.lm_stage` (what both share),
:mod:`layers.registers.lm_full_load` and :mod:`layers.registers.lm_changes`.
"""

from __future__ import annotations

from layers.registers.lm_changes import apply_changes
from layers.registers.lm_full_load import load_register
from layers.registers.lm_stage import RegisterReport

__all__ = ["RegisterReport", "apply_changes", "load_register"]
