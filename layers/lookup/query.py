"""Reading what a citizen typed into the search box: street, number, letter, town, postcode.

"storg. 12 a, malmö" → street "storgatan", number 12, letter "A", town "malmö". The last number
typed is a prefix ("Storgatan 1" may become 1, 1A, 10, 12 …) unless something follows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from layers.errors import InvalidInput
from layers.lookup.normalize import (
    clean_spaces,
    expand_abbreviations,
    has_control_characters,
    is_entrance,
)

MAX_QUERY_LENGTH = 100
_NUMBER = re.compile(r"^(\d{1,5})([a-zåäö]{1,2})?$")
_FICTIONAL_MARK = re.compile(r"\s*\((?:fiktiv|fictional)\)\s*$", re.IGNORECASE)
_POSTCODE_ANYWHERE = re.compile(r"(?<!\d)(\d{3}) ?(\d{2})(?!\d)")
_TRAILING_POSTCODE = re.compile(
    r"^(?P<head>.*\s\d{1,5}[a-zåäö]?(?:\s\S+)*?)\s+(?P<a>\d{3}) ?(?P<b>\d{2})$"
)


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query; text fields are lower case with abbreviations expanded, not yet folded."""

    text: str
    street: str
    number: int | None = None
    number_prefix: bool = False
    letter: str | None = None
    entrance: str | None = None
    town: str | None = None
    postcode: str | None = None
    street_complete: bool = False

    @property
    def wants_addresses(self) -> bool:
        """True when the query names numbers ("Storgatan 1") or a whole street ("Storgatan ")."""
        return self.number is not None or self.street_complete


def check_query(raw: str | None) -> str:
    """The raw query when usable; :class:`InvalidInput` when empty, too long or with controls."""
    if raw is None or not raw.strip():
        raise InvalidInput("The search text q is empty; type part of an address or property.")
    if len(raw) > MAX_QUERY_LENGTH:
        raise InvalidInput(f"The search text q is longer than {MAX_QUERY_LENGTH} characters.")
    if has_control_characters(raw):
        raise InvalidInput("The search text q contains control characters.")
    return raw


def _split_rest(rest: str) -> tuple[str | None, str | None]:
    """The part after a comma: ("malmö", None), (None, "21225") or both ("212 25 Malmö")."""
    postcode = None
    match = _POSTCODE_ANYWHERE.search(rest)
    if match:
        postcode = match.group(1) + match.group(2)
        rest = rest[: match.start()] + rest[match.end() :]
    town = clean_spaces(rest.replace(",", " ")) or None
    return town, postcode


def parse_query(raw: str) -> SearchQuery:
    """Parse a checked query (see :func:`check_query`).

    A label this service gave ("Stockholm Fiktiva Rosen 1 (fiktiv)") reads back as the same
    place, so a client may put the chosen label in the box and search it again.
    """
    raw = _FICTIONAL_MARK.sub("", raw) or raw
    trailing_space = raw[-1:].isspace()
    text = expand_abbreviations(clean_spaces(raw).lower())
    main, comma, rest = text.partition(",")
    town, postcode = _split_rest(rest) if comma else (None, None)
    main = main.strip()
    trailing = _TRAILING_POSTCODE.match(main)
    if trailing and postcode is None:
        main, postcode = trailing.group("head"), trailing.group("a") + trailing.group("b")
    tokens = main.split(" ") if main else []
    at = next((i for i, t in enumerate(tokens) if i > 0 and t[:1].isdigit()), None)
    if at is None or not _NUMBER.match(tokens[at]):
        street = main if tokens and not tokens[0][:1].isdigit() else ""
        complete = trailing_space and bool(street) and not comma
        return SearchQuery(main, street, town=town, postcode=postcode, street_complete=complete)
    number_match = _NUMBER.match(tokens[at])
    assert number_match is not None  # checked above
    number = int(number_match.group(1))
    letter = number_match.group(2)
    after = tokens[at + 1 :]
    if letter is None and after and len(after[0]) == 1 and after[0].isalpha():
        letter, after = after[0], after[1:]
    entrance = None
    if after and is_entrance(after[0]):
        entrance, after = after[0].upper(), after[1:]
    elif len(after) >= 2 and is_entrance(after[0] + after[1]):
        entrance, after = f"{after[0]} {after[1]}".upper(), after[2:]
    if after and town is None:
        town = " ".join(after)
    prefix = (
        letter is None and entrance is None and not after and not comma
        and postcode is None and not trailing_space
    )  # fmt: skip
    return SearchQuery(
        text=main,
        street=" ".join(tokens[:at]),
        number=number,
        number_prefix=prefix,
        letter=letter.upper() if letter else None,
        entrance=entrance,
        town=town,
        postcode=postcode,
    )
