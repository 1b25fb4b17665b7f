"""Reading the multipart form of an upload to ``/api/layers`` into what the domain takes.

A new layer's description (:class:`~layers.store.LayerSpec`), a new version's metadata changes
(:class:`~layers.publishing.LayerChanges`), the file and what the publisher said about it
(:class:`~webmap.http.uploads.UploadChoices`). Malformed fields raise :class:`InvalidInput`
(400 problem JSON) with the field's name.
"""

from __future__ import annotations

from flask import request
from werkzeug.datastructures import FileStorage

from layers.errors import InvalidInput
from layers.publishing import LayerChanges
from layers.store import LayerSpec
from webmap.api.layers.models import TEXT_LIMIT
from webmap.http.params import optional_whole_number
from webmap.http.uploads import UploadChoices

_TRUE = {"1", "true", "yes", "on", "ja"}
_FALSE = {"0", "false", "no", "off", "nej"}


def _flag(value: str | None, default: bool | None) -> bool | None:
    if value is None or value == "":
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise InvalidInput(f"public must be true or false, not {value[:20]!r}.")


def _text(name: str, default: str = "") -> str:
    value = request.form.get(name)
    if value is None:
        return default
    if len(value) > TEXT_LIMIT:
        raise InvalidInput(f"{name} is longer than {TEXT_LIMIT} characters.")
    return value.strip()


def new_layer_spec(name: str, municipality: str | None) -> LayerSpec:
    """A new layer's description from the form."""
    title = _text("title")
    if not title:
        raise InvalidInput("Give the layer a title.")
    return LayerSpec(
        municipality=municipality,
        name=name,
        title=title,
        description=_text("description"),
        attribution=_text("attribution"),
        public=_flag(request.form.get("public"), True) is not False,
    )


def version_changes() -> LayerChanges:
    """What a new version's form changes; unsent fields keep their value (read under the
    layer's lock when the version goes live, not now)."""
    sent = {key: request.form.get(key) for key in ("title", "description", "attribution")}
    texts = {key: _text(key) for key, value in sent.items() if value is not None}
    if "title" in texts and not texts["title"]:
        raise InvalidInput("Give the layer a title.")
    return LayerChanges(**texts, public=_flag(request.form.get("public"), None))


def uploaded_file() -> FileStorage:
    """The multipart field ``file`` (400 when it is missing or has no name)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("Send the data as the multipart field 'file'.")
    return upload


def upload_choices() -> UploadChoices:
    """What the form says about the file: its CRS, layer, encoding and geometry type."""
    return UploadChoices(
        srid=optional_whole_number("srid", request.form.get("srid"), 1024, 999_999),
        source_layer=request.form.get("layer") or None,
        encoding=request.form.get("encoding") or None,
        geometry_type=request.form.get("geometry_type") or None,
    )
