"""/demo/eplatform's HTTP side: the Open ePlatform-shaped step and its receipt, which applies the
platform's own checks (PUDMapQuery); the projection parameter of the demo and viewer pages.

Malformed input gets RFC 9457 problem JSON with a 4xx status, never a 500.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from webmap.pages.eplatform import drawing_verdict, platform_verdict

COMPLETE = {
    "propertyUnitDesignation": "Stockholm Fiktiva Rönnen 2",
    "xCoordinate": "674891.058",
    "yCoordinate": "6581727.937",
    "extent": "674700,6581600,675100,6581850",
    "epsg": "EPSG:3006",
    "baseLayer": "webmap#webmap",
}


def _form(fields: dict[str, str]) -> dict[str, str]:
    return {f"q12_{key}": value for key, value in fields.items()}


@pytest.mark.parametrize(
    ("change", "required", "verdict"),
    [
        ({}, True, None),
        ({"propertyUnitDesignation": ""}, True, "RequiredQuery"),
        ({"propertyUnitDesignation": ""}, False, None),  # optional: left unanswered
        ({"epsg": ""}, True, "InCompleteMapQuerySubmit"),
        ({"extent": ""}, True, "InCompleteMapQuerySubmit"),
        ({"baseLayer": ""}, True, "InCompleteMapQuerySubmit"),
        ({"xCoordinate": ""}, True, "InCompleteMapQuerySubmit"),
        ({"yCoordinate": "6 581 727,9"}, True, "InCompleteMapQuerySubmit"),  # Swedish format
        ({"xCoordinate": "NaN"}, True, "InCompleteMapQuerySubmit"),
    ],
)
def test_the_platforms_checks(change: dict[str, str], required: bool, verdict: str | None) -> None:
    assert platform_verdict({**COMPLETE, **change}, required=required) == verdict


def test_the_step_has_the_platforms_markup(client: FlaskClient) -> None:
    html = client.get("/demo/eplatform").get_data(as_text=True)
    assert '<webmap-picker name="q12" fields="open-eplatform" required' in html
    for suffix in COMPLETE:
        assert f'<input id="q12_{suffix}" type="hidden" name="q12_{suffix}" value="">' in html
    assert 'name="q12_propertyUnitDesignation" autocomplete="off" required' in html  # fallback
    bare = client.get("/demo/eplatform?platform-inputs=0").get_data(as_text=True)
    assert 'id="q12_xCoordinate"' not in bare


def test_receipt_accepts_complete_fields(client: FlaskClient) -> None:
    html = client.post("/demo/eplatform", data=_form(COMPLETE)).get_data(as_text=True)
    assert 'data-verdict="accepted"' in html
    assert '<dd id="field-xCoordinate">674891.058</dd>' in html


def test_receipt_reads_the_first_value_as_the_platform_does(client: FlaskClient) -> None:
    # The fallback's typed designation comes before the platform's empty hidden input.
    data = MultiDict(
        [("q12_propertyUnitDesignation", "Karlavägen 10"), ("q12_propertyUnitDesignation", "")]
    )
    html = client.post("/demo/eplatform", data=data).get_data(as_text=True)
    assert '<dd id="field-propertyUnitDesignation">Karlavägen 10</dd>' in html
    assert 'data-verdict="InCompleteMapQuerySubmit"' in html
    assert 'id="resolved-sweref"' in html  # webmap's resolve found the address


def test_receipt_problems(client: FlaskClient) -> None:
    response = client.post("/demo/eplatform", data={"q12_extent": "1," * 600})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert client.get("/demo/eplatform?platform-inputs=2").status_code == 400
    assert client.get("/demo/eplatform?lang=fi").status_code == 400


SQUARE = "POLYGON((674800 6581700,674820 6581700,674820 6581720,674800 6581720,674800 6581700))"
EXTENT, EPSG = "674700,6581600,675100,6581850", "EPSG:3006"


@pytest.mark.parametrize(
    ("geometries", "extent", "required", "verdict"),
    [
        ([SQUARE], EXTENT, True, None),
        (
            [SQUARE + "#{'fill':'red'}", "LINESTRING(674800 6581700,674900 6581700)"],
            EXTENT,
            True,
            None,
        ),
        ([], EXTENT, True, "GeometryRequired"),
        ([], EXTENT, False, None),
        ([""], EXTENT, True, "GeometryNotValid"),  # why the picker never posts an empty one
        (["POLYGON((1 2,3"], EXTENT, True, "GeometryNotValid"),
        ([SQUARE], "", True, "InCompleteMapQuerySubmit"),
    ],
)
def test_the_drawing_querys_checks(
    geometries: list[str], extent: str, required: bool, verdict: str | None
) -> None:
    assert drawing_verdict(geometries, extent, EPSG, required=required)[0] == verdict


def test_the_area_step_and_its_receipt(client: FlaskClient) -> None:
    html = client.get("/demo/eplatform?query=area").get_data(as_text=True)
    assert 'mode="polygon"' in html and 'name="step" value="area"' in html
    for suffix in ("extent", "epsg", "baseLayer"):
        assert f'<input id="q12_{suffix}" type="hidden" name="q12_{suffix}" value="">' in html
    assert 'id="q12_propertyUnitDesignation" type="hidden"' not in html
    form = {"step": "area", "q12_geometry": SQUARE, "q12_extent": EXTENT, "q12_epsg": EPSG}
    receipt = client.post("/demo/eplatform", data=form).get_data(as_text=True)
    assert 'data-verdict="accepted"' in receipt
    assert '<li data-kind="Polygon" data-area="400">' in receipt
    broken = client.post("/demo/eplatform", data={**form, "q12_geometry": "POLYGON((x"})
    assert broken.status_code == 200 and 'data-verdict="GeometryNotValid"' in broken.text
    nothing = client.post("/demo/eplatform", data={"step": "area", "q12_extent": EXTENT})
    assert 'data-verdict="GeometryRequired"' in nothing.text
    huge = client.post("/demo/eplatform", data={**form, "q12_geometry": "1," * 60_000})
    assert huge.status_code == 400 and huge.mimetype == "application/problem+json"
    assert client.get("/demo/eplatform?query=line").status_code == 400


@pytest.mark.parametrize("path", ["/demo", "/demo/bygglov", "/"])
def test_projection_parameter(client: FlaskClient, path: str) -> None:
    html = client.get(f"{path}?projection=EPSG:3006").get_data(as_text=True)
    assert 'projection="EPSG:3006"' in html or 'data-projection="EPSG:3006"' in html
    response = client.get(f"{path}?projection=EPSG:4326")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
