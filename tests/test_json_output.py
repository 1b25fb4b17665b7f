"""orjson answers of /api/search and /api/reverse (webmap/http/json_output.py) are the bytes
Flask's jsonify gives for the same document with this app's settings."""

from __future__ import annotations

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

from webmap.http.json_output import json_response


@pytest.mark.parametrize(
    "path",
    [
        "/api/search?q=grev%20tu",
        "/api/search?q=grev%20turegatan%2013&near=18.07,59.33&municipality=0180",
        "/api/search?q=rosen%201&limit=50",
        "/api/search?q=%C3%B6stermalmsg",
        "/api/reverse?lon=18.0745&lat=59.3405",
        "/api/reverse?lon=18.0745&lat=59.3405&municipality=0180",
    ],
)
def test_lookup_answers_are_jsonify_bytes(app: Flask, client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body  # a real answer, not an empty document
    with app.test_request_context():
        expected = jsonify(body)
    assert response.get_data() == expected.get_data()


def test_non_ascii_text_is_utf8_and_keys_are_sorted(app: Flask) -> None:
    with app.test_request_context():
        response = json_response({"ö": "Östermalm", "a": [1.5, None, True]}, "application/geo+json")
    assert response.get_data() == '{"a":[1.5,null,true],"ö":"Östermalm"}\n'.encode()
    assert response.mimetype == "application/geo+json"
