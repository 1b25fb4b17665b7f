"""The admin upload form: read the fields, say what is wrong with each, call the ingest domain.

The form posts the same field names as ``POST /api/layers`` (file, name, title, srid,
description, attribution, public, layer, geometry_type) and publishes through the same domain
entry points (:func:`layers.ingest.publish_vector`, :func:`layers.raster.publish_raster`); only
the messages differ: they are per field, in the page's language, for an error summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import request

from layers.crs import UnknownSrid
from layers.errors import InvalidInput
from layers.ingest import (
    ChooseLayer,
    ImplausibleCrs,
    LayerExists,
)
from layers.publishing import LayerChanges
from layers.schema import LAYER_NAME_PATTERN
from layers.store import RESERVED_NAMES, LayerSpec
from webmap.http.params import parse_whole_number
from webmap.http.uploads import UploadChoices, publish_upload, replace_upload
from webmap.i18n import gettext
from webmap.settings import Settings

TEXT_LIMIT = 2000
GEOMETRY_TYPES = ("point", "line", "polygon")
#: Which form field a refusal from the domain is about, for the error summary's link.
_FIELD_OF_REFUSAL: dict[type[Exception], str] = {
    ImplausibleCrs: "srid",
    UnknownSrid: "srid",
    ChooseLayer: "layer",
    LayerExists: "name",
}


class FormInvalid(InvalidInput):
    """Fields of the admin form are missing or wrong (400; ``errors`` lists them per field)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.text for e in errors))
        self.extensions = {"errors": [{"field": e.field, "message": e.text} for e in errors]}


@dataclass(frozen=True)
class FieldError:
    """One message of the error summary, linked to the field it is about."""

    field: str
    message: str
    #: Why the domain refused the upload, and how to fix it: English, marked so in the page.
    detail: str | None = None
    hint: str | None = None

    @property
    def text(self) -> str:
        return " ".join(part for part in (self.message, self.detail, self.hint) if part)


@dataclass
class UploadForm:
    """What was sent (to fill the form again) and what is wrong with it."""

    values: dict[str, str]
    errors: list[FieldError] = field(default_factory=list)
    #: A refused upload's report (``NoUsableFeatures`` carries one): why each feature failed.
    report: dict[str, Any] | None = None

    def error(self, name: str) -> FieldError | None:
        return next((e for e in self.errors if e.field == name), None)


_FIELDS = ("name", "title", "srid", "description", "attribution", "public", "layer", "municipality")


def read_form(current: dict[str, Any] | None) -> UploadForm:
    """The posted fields, checked; ``current`` is the layer when this is a new version."""
    values = {key: request.form.get(key, "").strip() for key in _FIELDS}
    values["geometry_type"] = request.form.get("geometry_type", "")
    if current is not None:
        values["name"] = str(current["name"])
    form = UploadForm(values)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.errors.append(FieldError("file", gettext("Choose a file to upload.")))
    name = values["name"]
    if current is None:
        if not re.fullmatch(LAYER_NAME_PATTERN, name):
            form.errors.append(
                FieldError(
                    "name",
                    gettext(
                        "Enter a name of 1–48 characters: lower-case a–z, digits and "
                        "_, starting with a letter."
                    ),
                )
            )
        elif name in RESERVED_NAMES:
            form.errors.append(
                FieldError(
                    "name", gettext("The name %(name)s is reserved. Choose another.", name=name)
                )
            )
    if not values["title"] and current is None:
        form.errors.append(FieldError("title", gettext("Enter a title.")))
    for key in ("title", "description", "attribution", "layer"):
        if len(values[key]) > TEXT_LIMIT:
            form.errors.append(
                FieldError(
                    key, gettext("The text may be at most %(limit)s characters.", limit=TEXT_LIMIT)
                )
            )
    if values["srid"] and parse_whole_number(values["srid"], 1024, 999_999) is None:
        form.errors.append(
            FieldError(
                "srid",
                gettext(
                    "Enter the EPSG code as a whole number, for example 3006, or leave it empty."
                ),
            )
        )
    if values["public"] not in ("true", "false", "") or (not values["public"] and not current):
        form.errors.append(FieldError("public", gettext("Choose who may see the layer.")))
    if values["geometry_type"] not in ("", *GEOMETRY_TYPES):
        form.errors.append(
            FieldError("geometry_type", gettext("Choose points, lines or polygons."))
        )
    return form


def spec_of(
    form: UploadForm, current: dict[str, Any] | None, owner: str | None = None
) -> LayerSpec:
    """The layer's description; a new version keeps what the form leaves empty. ``owner``: a
    new layer's municipality (checked by the view, :mod:`staff.tenancy`)."""
    values = form.values
    base = current or {"title": "", "description": "", "attribution": "", "public": True}
    return LayerSpec(
        name=values["name"],
        title=values["title"] or str(base["title"]),
        description=values["description"] or str(base["description"] or ""),
        attribution=values["attribution"] or str(base["attribution"] or ""),
        public=values["public"] == "true" if values["public"] else bool(base["public"]),
        minzoom=int(current["minzoom"]) if current else 0,
        maxzoom=int(current["maxzoom"]) if current else 22,
        municipality=owner,
    )


def refusal(error: InvalidInput) -> FieldError:
    """A domain refusal as a summary entry on the field it is about (the file by default)."""
    target = next(
        (f for cls, f in _FIELD_OF_REFUSAL.items() if isinstance(error, cls)),
        "file",
    )
    extensions: dict[str, Any] = getattr(error, "extensions", {})
    hint = extensions.get("hint")
    layers = extensions.get("layers")
    if isinstance(layers, list) and layers:
        hint = ", ".join(str(x) for x in layers)
    detail = getattr(error, "detail", str(error))
    return FieldError(
        target,
        gettext("The file could not be published:"),
        detail=detail,
        hint=str(hint) if hint and str(hint) not in detail else None,
    )


def changes_of(form: UploadForm) -> LayerChanges:
    """What a new version's form changes: the fields it does not leave empty."""
    values = form.values
    texts = {k: values[k] for k in ("title", "description", "attribution") if values[k]}
    public = values["public"] == "true" if values["public"] else None
    return LayerChanges(**texts, public=public)


def publish(
    form: UploadForm, current: dict[str, Any] | None, settings: Settings, owner: str | None = None
) -> tuple[int, dict[str, Any]]:
    """Publish the form's upload the way the API does (a new layer, or a new version of
    ``current``); returns (version, report)."""
    choices = UploadChoices(
        srid=int(form.values["srid"]) if form.values["srid"] else None,
        source_layer=form.values["layer"] or None,
        geometry_type=form.values["geometry_type"] or None,
    )
    if current is None:
        spec = spec_of(form, None, owner)
        return publish_upload(request.files["file"], spec, choices, settings)
    name = str(current["name"])
    return replace_upload(request.files["file"], name, changes_of(form), choices, settings)
