"""Reverse lookup: what is at a point — nearest address, property unit, municipality.

One statement, three index-assisted lookups: the nearest address by the GiST ``<->`` operator
(a KNN scan, so the table size hardly matters), the property unit and the municipality piece
containing the point (``ST_Intersects`` on GiST; municipalities are pre-cut into small pieces so
the exact point-in-polygon test is cheap).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import psycopg

from layers.errors import InvalidInput
from layers.lookup.normalize import address_label, format_postcode
from layers.lookup.properties import property_label

DEFAULT_RADIUS_M = 250.0
MAX_RADIUS_M = 2000.0

REVERSE_SQL = """
WITH p AS (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), %(srid)s), 3006) AS g)
SELECT ST_X(p.g), ST_Y(p.g), ST_X(ST_Transform(p.g, 4326)), ST_Y(ST_Transform(p.g, 4326)),
    a.street, a.number, a.letter, a.entrance, a.postcode, a.city, a.distance, a.district,
    pr.designation, pr.fictional, m.code, m.name, pr.attribution,
    coalesce((SELECT am.name FROM lookup.municipalities am WHERE am.code = %(municipality)s),
             (SELECT t.name FROM webmap.tenants t WHERE t.code = %(municipality)s))
FROM p
LEFT JOIN LATERAL (
    SELECT a.street, a.number, a.letter, a.entrance, a.postcode, a.city, a.district,
        ST_Distance(a.geom, p.g) AS distance
    FROM lookup.addresses a ORDER BY a.geom <-> p.g LIMIT 1
) a ON a.distance <= %(radius)s
LEFT JOIN LATERAL (
    SELECT pr.designation, pr.fictional, pr.attribution FROM lookup.properties pr
    WHERE ST_Intersects(pr.geom, p.g) ORDER BY pr.fictional, ST_Area(pr.geom) LIMIT 1
) pr ON true
LEFT JOIN LATERAL (
    SELECT mp.code, mm.name FROM lookup.municipality_parts mp
    JOIN lookup.municipalities mm ON mm.code = mp.code
    WHERE ST_Intersects(mp.geom, p.g) LIMIT 1
) m ON true
"""


class NotFound(StrEnum):
    """Reason codes for what a reverse lookup did not find."""

    #: The point lies in no Swedish municipality (at sea or abroad).
    OUTSIDE_MUNICIPALITIES = "outside-municipalities"
    #: No address within ``radius_m`` of the point.
    NO_ADDRESS_NEARBY = "no-address-nearby"


@dataclass(frozen=True)
class NearestAddress:
    """The address nearest the point, within the radius."""

    label: str
    street: str
    number: int
    letter: str | None
    entrance: str | None
    postcode: str | None
    city: str | None
    distance_m: float
    district: str | None = None


@dataclass(frozen=True)
class ReverseResult:
    """What lies at a point; ``None`` parts were not found."""

    lon: float
    lat: float
    e: float
    n: float
    address: NearestAddress | None
    designation: str | None
    fictional: bool | None
    municipality_code: str | None
    municipality_name: str | None
    radius_m: float = DEFAULT_RADIUS_M
    #: Whose property data this is, when its licence asks to say so ("© Lantmäteriet …").
    property_attribution: str | None = None
    #: The municipality the caller asked about (``?municipality=``): its code and name.
    asked: tuple[str, str] | None = None

    @property
    def inside_asked(self) -> bool | None:
        """Whether the point lies in the asked municipality (``None``: none was asked)."""
        if self.asked is None:
            return None
        return self.municipality_code == self.asked[0]

    @property
    def property_label(self) -> str | None:
        """The designation as shown ("… (fiktiv)" for the sample register)."""
        if self.designation is None:
            return None
        return property_label(self.designation, bool(self.fictional))

    @property
    def reason(self) -> NotFound | None:
        """Why part of the answer is missing (``None`` when everything was found).

        A code and the data behind it (``radius_m``), never a sentence: ``webmap`` words it
        in the reader's language from its gettext catalogues.
        """
        if self.municipality_code is None:
            return NotFound.OUTSIDE_MUNICIPALITIES
        if self.address is None:
            return NotFound.NO_ADDRESS_NEARBY
        return None


def reverse(
    conn: psycopg.Connection[Any],
    x: float,
    y: float,
    srid: int,
    radius: float = DEFAULT_RADIUS_M,
    municipality: str | None = None,
) -> ReverseResult:
    """What is at (x, y) in ``srid`` (x = lon or easting, y = lat or northing).

    ``municipality`` (a code): the answer also says whether the point is in it, by the same
    polygons that name the point's municipality; a code no municipality has is
    :class:`InvalidInput`, checked by the same statement.
    """
    values = {"x": x, "y": y, "srid": srid, "radius": radius, "municipality": municipality}
    row = conn.execute(REVERSE_SQL, values).fetchone()
    assert row is not None  # the statement always returns one row
    e, n, lon, lat, street, number, letter, entrance, postcode, city, distance = row[:11]
    district, designation, fictional, code, name, property_attribution, asked_name = row[11:]
    asked = None
    if municipality is not None:
        if asked_name is None:
            raise InvalidInput(
                f"No municipality has the code {municipality}: give an SCB kommunkod, "
                "e.g. 2281 (Sundsvall)."
            )
        asked = (municipality, str(asked_name))
    address = None
    if street is not None:
        address = NearestAddress(
            label=address_label(street, number, letter, entrance, postcode, city),
            street=street,
            number=number,
            letter=letter,
            entrance=entrance,
            postcode=format_postcode(postcode),
            city=city,
            distance_m=round(float(distance), 1),
            district=district,
        )
    return ReverseResult(
        lon=lon,
        lat=lat,
        e=e,
        n=n,
        address=address,
        designation=designation,
        fictional=fictional,
        municipality_code=code,
        municipality_name=name,
        radius_m=radius,
        property_attribution=property_attribution,
        asked=asked,
    )
