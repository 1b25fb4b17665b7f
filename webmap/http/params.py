"""Reading numbers from query strings, with the same clear refusals on every endpoint."""

from __future__ import annotations

import math

from layers.errors import InvalidInput


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


def whole_number(name: str, text: str, low: int, high: int) -> int:
    """A whole number between ``low`` and ``high`` inclusive."""
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"The parameter {name} must be a whole number.") from None
    if not low <= value <= high:
        raise InvalidInput(f"The parameter {name} must be between {low} and {high}.")
    return value
