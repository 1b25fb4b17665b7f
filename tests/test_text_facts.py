"""Domain code words nothing: the reverse lookup's reason codes and a static map's facts."""

from __future__ import annotations

from layers.lookup.reverse import NearestAddress, NotFound, ReverseResult
from tiles.alttext import PlaceWords, describe, stated_metres


def _result(code: str | None, address: NearestAddress | None) -> ReverseResult:
    return ReverseResult(
        lon=18.07, lat=59.34, e=674000.0, n=6581000.0, address=address, designation=None,
        fictional=None, municipality_code=code, municipality_name="Stockholm" if code else None,
        radius_m=250.0,
    )  # fmt: skip


def test_reverse_reason_codes() -> None:
    address = NearestAddress("Brahegatan 1", "Brahegatan", 1, None, None, None, None, 3.0)
    assert _result(None, None).reason is NotFound.OUTSIDE_MUNICIPALITIES
    assert _result("0180", None).reason is NotFound.NO_ADDRESS_NEARBY
    assert _result("0180", address).reason is None
    assert NotFound.NO_ADDRESS_NEARBY == "no-address-nearby"  # a stable code, not a sentence


def test_map_facts_name_the_place_or_fall_back_to_coordinates() -> None:
    named = describe(
        PlaceWords(address="Brahegatan 1", designation="Stockholm Rosen 1", fictional=True,
                   municipality="Stockholm", e=674000.4, n=6581000.6, lon=18.0, lat=59.0),
        1234.0, 856.0,
    )  # fmt: skip
    assert (named.address, named.designation, named.fictional) == (
        "Brahegatan 1",
        "Stockholm Rosen 1",
        True,
    )
    assert named.sweref is None and named.wgs84 is None
    assert (named.width_m, named.height_m) == (1200, 860)
    unnamed = describe(PlaceWords(e=674000.4, n=6581000.6, lon=18.0, lat=59.0), 90.0, 60.0)
    assert unnamed.sweref == (6581001, 674000) and unnamed.wgs84 is None
    abroad = describe(PlaceWords(lon=-70.6, lat=-33.9), 500.0, 500.0)
    assert abroad.sweref is None and abroad.wgs84 == (-33.9, -70.6)
    assert describe(PlaceWords(fictional=True), 10, 10).fictional is False  # no property, no mark


def test_stated_metres_rounds_as_said_aloud() -> None:
    assert [stated_metres(v) for v in (44.0, 995.0, 1049.0, 23456.0)] == [40, 1000, 1000, 23500]
