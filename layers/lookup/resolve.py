"""Turn what a person typed (an address or a property designation) into a picker value.

This is the server half of progressive enhancement: without JavaScript the picker's fallback is
a plain text field, and the e-service (or ``/api/resolve``) resolves it on submit into the same
GeoJSON Feature the widget would have sent: point, SWEREF 99 TM, address, property,
municipality. The best search hit wins; a reverse lookup at its point fills in what the hit
itself does not carry (a property for an address, an address for a property).
"""

from __future__ import annotations

from typing import Any

import psycopg

from layers.crs import SWEREF99_TM, WGS84
from layers.lookup.query import check_query, parse_query
from layers.lookup.reverse import ReverseResult, reverse
from layers.lookup.search import SearchHit, SearchOptions, search


def _address(hit: SearchHit, found: ReverseResult) -> dict[str, Any] | None:
    if hit.kind in {"address", "street"}:
        return {
            "label": hit.label,
            "street": hit.street,
            "number": hit.number,
            "letter": hit.letter,
            "postcode": hit.postcode,
            "city": hit.city,
            "distance_m": 0,
        }
    if found.address is None:
        return None
    a = found.address
    return {
        "label": a.label,
        "street": a.street,
        "number": a.number,
        "letter": a.letter,
        "postcode": a.postcode,
        "city": a.city,
        "distance_m": a.distance_m,
    }


def _property(hit: SearchHit, found: ReverseResult) -> dict[str, Any] | None:
    if hit.kind == "property" and hit.designation:
        return {
            "designation": hit.designation,
            "fictional": bool(hit.fictional),
            "attribution": hit.attribution,
        }
    if found.designation is None:
        return None
    return {
        "designation": found.designation,
        "fictional": bool(found.fictional),
        "attribution": found.property_attribution,
    }


def resolve_text(conn: psycopg.Connection[Any], text: str) -> dict[str, Any] | None:
    """The best match for ``text`` as a picker value (GeoJSON Feature), or None.

    Raises ``InvalidInput`` for text that cannot be searched (empty, too long, control chars).
    """
    query = parse_query(check_query(text))
    hits = search(conn, query, SearchOptions(limit=1, srid=SWEREF99_TM))
    if not hits:
        return None
    hit = hits[0]
    found = reverse(conn, hit.lon, hit.lat, WGS84)
    address = _address(hit, found)
    found_property = _property(hit, found)
    municipality = None
    if hit.municipality_code or found.municipality_code:
        municipality = {
            "code": hit.municipality_code or found.municipality_code,
            "name": hit.municipality or found.municipality_name,
        }
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(hit.lon, 7), round(hit.lat, 7)]},
        "properties": {
            "label": hit.label,  # webmap words it (webmap.i18n.with_place_label)
            "sweref99tm": {"srid": SWEREF99_TM, "e": round(hit.e, 3), "n": round(hit.n, 3)},
            "address": address,
            "property": found_property,
            "municipality": municipality,
            "source": "text",
            "zoom": None,
        },
    }
