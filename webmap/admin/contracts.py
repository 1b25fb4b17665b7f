"""The admin pages' contracts: their query, path and form models, and the replies every page
and form post shares (HTML for browsers, problem JSON for other clients, 303 to the login)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from webmap.http.contracts import (
    HTML_PAGE,
    REDIRECT,
    STAFF_SESSION_FIRST,
    Schema,
    contract,
    problems,
)
from webmap.http.models import LayerName

F = TypeVar("F", bound=Callable[..., Any])
URLENCODED = "application/x-www-form-urlencoded"


class AdminLanguage(BaseModel):
    """``?lang=`` of the admin pages."""

    lang: Literal["sv", "en"] | None = Field(
        None, description="Language of the admin pages (remembered in the session)."
    )


class ReportAddress(LayerName):
    """A version's report."""

    version: int = Field(ge=0, description="The version.")


class UploadPost(BaseModel):
    """The upload form (a new version needs only the file)."""

    csrf_token: str | None = None
    file: str | None = Field(
        None, json_schema_extra={"contentMediaType": "application/octet-stream"}
    )
    name: str | None = None
    title: str | None = None
    municipality: str | None = Field(
        None, description="A new layer's municipality (SCB code) or `instance`."
    )


class VisibilityForm(BaseModel):
    """Publish or unpublish."""

    csrf_token: str | None = None
    public: Literal["true", "false"] | None = None


class RollbackForm(BaseModel):
    """Which version to roll back to."""

    csrf_token: str | None = None
    version: int | None = Field(None, ge=1)


class ConfirmForm(BaseModel):
    """A confirmation with the session's CSRF token."""

    csrf_token: str | None = None


def page_contract(
    operation_id: str, summary: str, path: type[BaseModel] | None = LayerName
) -> Callable[[F], F]:
    """The contract of an admin page (GET)."""
    return contract(
        operation_id,
        summary,
        tags=("admin",),
        description="Browsers without a session are redirected (303) to `/login`; other "
        "clients get 401 problem JSON.",
        security=STAFF_SESSION_FIRST,
        path=path,
        query=AdminLanguage,
        responses={
            200: HTML_PAGE,
            303: REDIRECT,
            **problems(400, 401, 403, 404, html=True),
            **problems(503),
        },
    )


def post_contract(
    operation_id: str,
    summary: str,
    body: tuple[str, Schema],
    statuses: tuple[int, ...] = (409,),
    path: type[BaseModel] | None = LayerName,
) -> Callable[[F], F]:
    """The contract of an admin form post."""
    return contract(
        operation_id,
        summary,
        tags=("admin",),
        description="An HTML form post; needs the session's CSRF token. Answers with a 303 "
        "redirect to the page that says what happened.",
        security=STAFF_SESSION_FIRST,
        path=path,
        query=AdminLanguage,
        body={body[0]: body[1]},
        responses={
            200: HTML_PAGE,
            303: REDIRECT,
            **problems(400, 401, 403, 404, *statuses, html=True),
            **problems(503),
        },
    )
