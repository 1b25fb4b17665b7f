"""Reading numbers from query strings, with the same clear refusals on every endpoint."""

from __future__ import annotations

import math
import re

from layers.errors import InvalidInput

# ASCII digits only: int() also takes "1_000", " 12 " and other scripts' digits ("١٢"), and
# str.isdigit() takes "²", which int() refuses. One rule for every query, form and JSON field.
_WHOLE = re.compile(r"-?[0-9]{1,19}")  # up to 2**63 - 1, PostgreSQL's bigint


def number(name: str, text: str | None) -> float:
    """A finite number; :class:`InvalidInput` naming the parameter when missing or not one."""
    if text is None or not text.strip():
        raise InvalidInput(f"The parameter {name} is missing.")
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"The parameter {name} must be a number, not {text[:20]!r}.") from None
    if not math.isfinite(value):
        raise InvalidInput(f"The parameter {name} must be a finite number.")
    return value


def parse_whole_number(text: str, low: int, high: int) -> int | None:
    """``text`` as a whole number between ``low`` and ``high`` inclusive, or None when it is not
    one (for forms, which show their own field error)."""
    if not _WHOLE.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def whole_number(name: str, text: str, low: int, high: int) -> int:
    """A whole number between ``low`` and ``high`` inclusive; :class:`InvalidInput` otherwise."""
    if not _WHOLE.fullmatch(text):
        raise InvalidInput(f"The parameter {name} must be a whole number.")
    value = int(text)
    if not low <= value <= high:
        raise InvalidInput(f"The parameter {name} must be between {low} and {high}.")
    return value


def optional_whole_number(name: str, text: str | None, low: int, high: int) -> int | None:
    """Like :func:`whole_number`, but a missing or empty value is None."""
    if text is None or not text.strip():
        return None
    return whole_number(name, text.strip(), low, high)
