"""Swedish address text without a database: folding, numbers, postcodes, query parsing."""

from __future__ import annotations

import pytest

from layers.crs import OutsideSweden, UnknownSrid, check_lonlat, check_srid, check_sweref
from layers.errors import InvalidInput
from layers.lookup.normalize import (
    HouseNumber,
    address_label,
    expand_abbreviations,
    fold,
    format_postcode,
    natural_key,
    parse_house_number,
    parse_house_numbers,
    parse_postcode,
)
from layers.lookup.properties import parse_designation, property_label
from layers.lookup.query import MAX_QUERY_LENGTH, check_query, parse_query


def test_fold_removes_swedish_diacritics_and_case() -> None:
    assert fold("  Älggatan ") == "alggatan"
    assert fold("ÖSTERMALMSGATAN") == "ostermalmsgatan"
    assert fold("Skönsberg") == "skonsberg"
    assert fold("S:t  Göransgatan") == "s:t goransgatan"


def test_abbreviations_expand_only_with_a_dot() -> None:
    assert expand_abbreviations("drottningg. 5") == "drottninggatan 5"
    assert expand_abbreviations("grev tureg.3") == "grev turegatan3"
    assert expand_abbreviations("kungsv. 12") == "kungsvägen 12"
    assert expand_abbreviations("storg 5") == "storg 5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", HouseNumber(12)),
        ("12A", HouseNumber(12, "A")),
        ("12 a", HouseNumber(12, "A")),
        ("5 U2", HouseNumber(5, None, "U2")),
        ("16A U1", HouseNumber(16, "A", "U1")),
        ("75A UH", HouseNumber(75, "A", "UH")),
        ("1AB", HouseNumber(1, "AB")),
    ],
)
def test_house_numbers_from_registers(text: str, expected: HouseNumber) -> None:
    assert parse_house_number(text) == expected


@pytest.mark.parametrize("text", ["12-14", "3 tr", "", "A", "nr 5"])
def test_house_numbers_that_are_not_one(text: str) -> None:
    assert parse_house_number(text) is None


def test_osm_ranges_and_lists_are_one_address_per_number() -> None:
    assert parse_house_numbers("12-14") == [HouseNumber(12), HouseNumber(14)]
    assert parse_house_numbers("9 - 13") == [HouseNumber(9), HouseNumber(11), HouseNumber(13)]
    assert parse_house_numbers("3;5A") == [HouseNumber(3), HouseNumber(5, "A")]
    assert parse_house_numbers("12-15") == []  # both sides of the street: not one building
    assert parse_house_numbers("2-40") == []
    assert parse_house_numbers("7B") == [HouseNumber(7, "B")]


def test_natural_order_puts_letters_between_numbers() -> None:
    numbers = [(10, None), (7, "A"), (8, None), (7, None), (7, "B")]
    ordered = sorted(numbers, key=lambda n: natural_key(*n))
    assert ordered == [(7, None), (7, "A"), (7, "B"), (8, None), (10, None)]
    assert natural_key(1, None, "U2") < natural_key(1, None, "U10")


def test_postcodes_are_written_ddd_dd() -> None:
    assert parse_postcode("114 55") == "11455"
    assert parse_postcode("SE-21225") == "21225"
    assert parse_postcode("2410") is None
    assert format_postcode("11455") == "114 55"
    assert address_label("Storgatan", 12, "A", None, "11455", "Stockholm") == (
        "Storgatan 12A, 114 55 Stockholm"
    )
    assert address_label("Ågatan", None, None, None, None, "Malmö") == "Ågatan, Malmö"


def test_query_street_only_is_the_street_stage() -> None:
    query = parse_query("Grev Ture")
    assert query.street == "grev ture"
    assert query.number is None
    assert not query.wants_addresses


def test_query_trailing_space_after_a_street_asks_for_its_numbers() -> None:
    assert parse_query("Sturegatan ").street_complete
    assert parse_query("Sturegatan ").wants_addresses


def test_query_last_number_is_a_prefix_until_something_follows() -> None:
    typing = parse_query("Grev Turegatan 1")
    assert (typing.street, typing.number, typing.number_prefix) == ("grev turegatan", 1, True)
    done = parse_query("Grev Turegatan 1 ")
    assert done.number == 1 and not done.number_prefix


def test_query_letters_entrances_abbreviations_and_spacing() -> None:
    query = parse_query("  STORG.   12 a  ")
    assert (query.street, query.number, query.letter) == ("storgatan", 12, "A")
    entrance = parse_query("Östergårdsgatan 1 U12")
    assert (entrance.number, entrance.entrance) == (1, "U12")


def test_query_town_and_postcode_narrowing() -> None:
    town = parse_query("Storgatan 1, Malmö")
    assert (town.street, town.number, town.town, town.postcode) == ("storgatan", 1, "malmö", None)
    postcode = parse_query("Storgatan 1 212 25")
    assert (postcode.street, postcode.number, postcode.postcode) == ("storgatan", 1, "21225")
    both = parse_query("Ågatan 4, 212 25 Malmö")
    assert (both.town, both.postcode) == ("malmö", "21225")
    words = parse_query("Nybrogatan 5 Stockholm")
    assert (words.number, words.town) == (5, "stockholm")


@pytest.mark.parametrize(
    "raw", [None, "", "   ", "x" * (MAX_QUERY_LENGTH + 1), "Storgatan\x00 1", "Å\u200bgatan"]
)
def test_unusable_queries_are_refused(raw: str | None) -> None:
    with pytest.raises(InvalidInput):
        check_query(raw)


def test_designations() -> None:
    trakt = parse_designation("Sundsvall Skönsberg 1:23")
    assert trakt is not None
    assert (trakt.head, trakt.block, trakt.unit, trakt.number) == (
        "Sundsvall Skönsberg",
        1,
        23,
        "1:23",
    )
    kvarter = parse_designation("Stockholm Rosenbad 2")
    assert kvarter is not None and (kvarter.block, kvarter.unit) == (2, None)
    assert parse_designation("1:23") is None
    assert property_label("Stockholm Fiktiva Rosen 2", True) == "Stockholm Fiktiva Rosen 2 (fiktiv)"


def test_sweref_zones_and_swapped_coordinates() -> None:
    assert check_srid(3011) == 3011
    with pytest.raises(UnknownSrid):
        check_srid(3857)
    here = check_sweref(674032.0, 6580822.0, 3006)  # Stockholm, SWEREF 99 TM
    assert 18.0 < here.lon < 18.1 and 59.3 < here.lat < 59.4
    with pytest.raises(OutsideSweden) as swapped:
        check_sweref(6580822.0, 674032.0, 3006)
    assert swapped.value.hint and "swapped" in swapped.value.hint
    with pytest.raises(OutsideSweden) as lonlat:
        check_lonlat(59.33, 18.07)
    assert lonlat.value.hint and "swapped" in lonlat.value.hint
    with pytest.raises(OutsideSweden) as far:
        check_lonlat(2.35, 48.85)  # Paris: no hint, just not Sweden
    assert far.value.hint is None
