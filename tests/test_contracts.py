"""Contracts (webmap/http/contracts.py): query and body models parse input the project's one way
and refuse it as InvalidInput, never in pydantic's format; no database is needed."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from pydantic import BaseModel, ConfigDict, Field

from layers.errors import InvalidInput
from webmap.http.contracts import (
    FiniteNumber,
    WholeNumber,
    contract,
    contract_of,
    ok,
    parse_body,
    parse_query,
    problems,
)
from webmap.http.openapi import build_document


class Query(BaseModel):
    zoom: WholeNumber(0, 20) = Field(16, description="Zoom level.")  # type: ignore[valid-type]
    lon: FiniteNumber | None = None
    word: str = Field("a", pattern="^[a-z]+$")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public: bool = Field(None)  # type: ignore[assignment]


def _parse(query: str) -> Query:
    with Flask(__name__).test_request_context(f"/?{query}"):
        return parse_query(Query)


def test_defaults_and_whole_numbers_the_one_way() -> None:
    assert _parse("").zoom == 16
    assert _parse("zoom=7&lon=18.5").zoom == 7
    assert _parse("zoom=7&lon=18.5").lon == 18.5
    for bad, wording in (
        ("zoom=1_0", "whole number"),
        ("zoom=%C2%B2", "whole number"),  # "²": str.isdigit() says yes
        ("zoom=+7", "whole number"),
        ("zoom=21", "between 0 and 20"),
        ("lon=nan", "finite"),
        ("lon=", "missing"),
    ):
        with pytest.raises(InvalidInput, match=wording):
            _parse(bad)


def test_other_refusals_are_invalid_input_naming_the_parameter() -> None:
    with pytest.raises(InvalidInput, match="The parameter word is invalid"):
        _parse("word=A1")


def test_json_bodies_are_strict() -> None:
    assert parse_body(Body, {"public": True}, "public").public is True
    for data in ({"public": "true"}, {"public": None}, {"other": 1}, ["public"]):
        with pytest.raises(InvalidInput):
            parse_body(Body, data, "public")


def test_the_contract_is_recorded_on_the_view() -> None:
    @contract("example", "An example", tags=("service",), responses={200: ok(Query)})
    def view() -> str:
        return ""

    found = contract_of(view)
    assert found is not None and found.operation_id == "example"
    assert contract_of(lambda: "") is None


def test_problems_are_problem_json_and_html_for_the_admin() -> None:
    replies: dict[int, Any] = problems(400, 503, html=True)
    assert set(replies[400].content) == {"application/problem+json", "text/html"}
    assert set(replies[503].content) == {"application/problem+json"}
    assert "Retry-After" in replies[503].headers


def test_two_models_of_one_name_are_refused_not_merged() -> None:
    """Component schemas are named after their models: a second, different model of the same
    name (nested or not) would silently describe the wrong answer."""

    def outer(name: str, kind: type) -> type[BaseModel]:
        inner = type("Item", (BaseModel,), {"__annotations__": {"value": kind}})
        return type(name, (BaseModel,), {"__annotations__": {"item": inner}})

    app = Flask(__name__, static_folder=None)
    for path, model in (("/a", outer("A", int)), ("/b", outer("B", str))):
        reply = {200: ok(model)}
        view = contract(path.strip("/"), path, tags=("service",), responses=reply)(lambda: "")
        app.add_url_rule(path, endpoint=path, view_func=view)
    with pytest.raises(ValueError, match="two different schemas are called Item"):
        build_document(app)
