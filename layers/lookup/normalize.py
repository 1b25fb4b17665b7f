"""Swedish address text: folding, abbreviations, house numbers, postcodes, natural order.

The database folds with ``lookup.fold`` (unaccent + lower + single spaces); :func:`fold` here is
the same rule for the few places Python needs it (de-duplicating before the database sees rows,
tests). Queries are normalised here but folded by the database, so both sides use one rule.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Control and format characters never belong in an address; a query containing them is refused.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"\s+")
# Abbreviations used on signs and in registers: "Drottningg. 5", "Storg 5" (a prefix anyway),
# "Kungsv." for Kungsvägen, "gat." for gatan. Only with the dot: without it "…g" is a prefix.
_ABBREVIATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<=\w)(?:g|gat)\.(?=\s|\d|,|$)"), "gatan"),
    (re.compile(r"(?<=\w)(?:v|vg)\.(?=\s|\d|,|$)"), "vägen"),
    (re.compile(r"(?<=\s)(?:g|gat)\.(?=\s|\d|,|$)"), "gatan"),
    (re.compile(r"(?<=\s)(?:v|vg)\.(?=\s|\d|,|$)"), "vägen"),
)
_HOUSE_NUMBER = re.compile(
    r"^(?P<number>\d{1,5})(?:(?P<letter>[A-ZÅÄÖ]{1,2})|\s(?P<spaced>[A-ZÅÄÖ]))?(?=\s|$)"
    r"(?:\s(?P<entrance>.+))?$"
)
# Lägestillägg: entrances and stairwells, "U1", "UH 1", "UV2", "LGH 1201" is not one (flat).
_ENTRANCE = re.compile(r"^(?:(?:uh|uv|ub)\s?\d{0,3}|(?:u|n|ö|v)\s?\d{1,3})$", re.IGNORECASE)
_POSTCODE = re.compile(r"^\s*(?:SE-?\s*)?(\d{3})\s?(\d{2})\s*$", re.IGNORECASE)
# Folding beyond what NFKD strips: letters that are not a base letter plus a mark.
_EXTRA_FOLD = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "þ": "th"})


def has_control_characters(text: str) -> bool:
    """True when ``text`` contains control or invisible format characters."""
    return bool(_CONTROL.search(text))


def clean_spaces(text: str) -> str:
    """NFC-normalised text with runs of white space collapsed and the ends trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Lower case without diacritics ("Älggatan" → "alggatan"), single spaces."""
    lowered = clean_spaces(text).lower().translate(_EXTRA_FOLD)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def expand_abbreviations(text: str) -> str:
    """Expand "Drottningg. 5" to "Drottninggatan 5", "Kungsv." to "Kungsvägen" (lower case)."""
    for pattern, replacement in _ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    return text


@dataclass(frozen=True)
class HouseNumber:
    """A Swedish house number: 12, letter "A", lägestillägg (entrance) "U1"."""

    number: int
    letter: str | None = None
    entrance: str | None = None

    def __str__(self) -> str:
        text = f"{self.number}{self.letter or ''}"
        return f"{text} {self.entrance}" if self.entrance else text


def parse_house_number(text: str) -> HouseNumber | None:
    """Parse "12A", "12 a", "5 U2"; None for ranges ("12-14"), words or empty text."""
    match = _HOUSE_NUMBER.match(clean_spaces(text or "").upper())
    if not match:
        return None
    entrance = match.group("entrance")
    letter = match.group("letter") or match.group("spaced")
    if entrance is not None and not _ENTRANCE.match(entrance):
        return None
    return HouseNumber(int(match.group("number")), letter, entrance)


_RANGE = re.compile(r"^(\d{1,5})\s*[-–]\s*(\d{1,5})$")
#: A range wider than this is more likely a typo than one building's entrances.
_MAX_RANGE_SPAN = 10


def parse_house_numbers(text: str) -> list[HouseNumber]:
    """Every number in "12", "12A", "12-14" (12 and 14: same side of the street) or "3;5".

    OSM tags a building with entrances 12 and 14 as ``addr:housenumber=12-14``; a citizen
    searches for either. Empty when nothing can be read.
    """
    parts = [p for p in re.split(r"\s*[;,]\s*", text or "") if p]
    if len(parts) > 1:
        found = [parse_house_number(p) for p in parts]
        return [n for n in found if n is not None] if all(found) else []
    match = _RANGE.match(clean_spaces(text or ""))
    if match:
        low, high = int(match.group(1)), int(match.group(2))
        if low < high <= low + _MAX_RANGE_SPAN and (high - low) % 2 == 0:
            return [HouseNumber(n) for n in range(low, high + 1, 2)]
        return []
    single = parse_house_number(text)
    return [single] if single else []


def is_entrance(token: str) -> bool:
    """True for a lägestillägg token such as "U1" or "UH2"."""
    return bool(_ENTRANCE.match(token))


def parse_postcode(text: str | None) -> str | None:
    """Five digits ("11455") from "114 55", "11455" or "SE-114 55"; None when not a postcode."""
    match = _POSTCODE.match(text or "")
    return f"{match.group(1)}{match.group(2)}" if match else None


def format_postcode(digits: str | None) -> str | None:
    """Write "11455" as "114 55", the way Swedish postcodes are written."""
    if not digits:
        return None
    return f"{digits[:3]} {digits[3:]}"


def natural_key(number: int, letter: str | None, entrance: str | None = None) -> tuple[int, ...]:
    """Sort key giving 7 < 7A < 7B < 8 < 10, and U2 < U10 within one number."""
    entrance_digits = int(re.sub(r"\D", "", entrance) or 0) if entrance else -1
    return (number, ord(letter) if letter else 0, entrance_digits)


def address_label(
    street: str,
    number: int | None,
    letter: str | None,
    entrance: str | None,
    postcode: str | None,
    city: str | None,
) -> str:
    """Label such as "Storgatan 12A, 114 55 Stockholm", as written on an envelope."""
    head = street
    if number is not None:
        head = f"{street} {number}{letter or ''}" + (f" {entrance}" if entrance else "")
    tail = " ".join(part for part in (format_postcode(postcode), city) if part)
    return f"{head}, {tail}" if tail else head
