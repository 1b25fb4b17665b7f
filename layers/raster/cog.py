"""Writing a published raster as a Cloud Optimized GeoTIFF under the raster storage folder.

The COG keeps the source's own grid and coordinate system: rio-tiler warps each 256 px tile to
Web Mercator on the fly (cheap: it reads only the overview level it needs), while reprojecting on
upload would resample every pixel once more and turn a SWEREF 99 TM orthophoto into something
staff cannot download and use as delivered. How to draw the raster (its kind and value range) is
written into the COG's own tags, so the tile path needs nothing but the file.

Files are named ``<layer>_v<version>_<token>.tif`` and never rewritten: a version is immutable,
and the random token keeps a re-created layer from ever meeting an old file of the same version.
"""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path
from typing import Any, TextIO

from rasterio.enums import Resampling
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rio_cogeo.cogeo import cog_translate
from rio_cogeo.profiles import cog_profiles

from layers.errors import InvalidInput
from layers.raster.inspect import RasterFacts
from layers.store import check_layer_name

TAG_KIND = "WEBMAP_KIND"
TAG_MIN = "WEBMAP_VALUE_MIN"
TAG_MAX = "WEBMAP_VALUE_MAX"
COG_SUFFIX = ".tif"


def storage_name(name: str, version: int) -> str:
    """A fresh file name for one version of a raster layer (relative to the storage folder)."""
    return f"{check_layer_name(name)}_v{version}_{secrets.token_hex(4)}{COG_SUFFIX}"


def stored_path(storage_dir: Path, relative: str) -> Path:
    """The absolute path of a stored COG; refuses anything that would leave ``storage_dir``."""
    root = storage_dir.resolve()
    path = (root / relative).resolve()
    if path.parent != root or path.suffix != COG_SUFFIX:
        raise InvalidInput(f"{relative!r} is not a raster stored by this service.")
    return path


def _cog_profile(facts: RasterFacts) -> dict[str, Any]:
    profile: dict[str, Any] = dict(cog_profiles.get("deflate"))  # type: ignore[no-untyped-call]
    # Horizontal differencing (integers) / floating-point prediction roughly halves DEM files.
    profile["predictor"] = 3 if facts.dtype.startswith("float") else 2
    if facts.kind == "rgb":
        profile["predictor"] = 2
    return profile


def write_cog(
    src: DatasetReader, facts: RasterFacts, target: Path, progress: TextIO | None = None
) -> None:
    """Convert ``src`` to a COG at ``target`` (a new file; the caller renames it into place).

    When the coordinate system is overridden (``srid`` given, or a 3-D CRS reduced to 2-D) the
    source is wrapped in a same-grid VRT that only declares the CRS: no pixel is resampled.
    """
    tags = {TAG_KIND: facts.kind}
    if facts.value_range is not None:
        tags[TAG_MIN] = repr(facts.value_range[0])
        tags[TAG_MAX] = repr(facts.value_range[1])
    options: dict[str, Any] = {
        "overview_resampling": facts.overview_resampling,
        "additional_cog_metadata": tags,
        # rio-cogeo draws its own progress bar (block by block) on ``progress`` when given.
        "quiet": progress is None,
        "progress_out": progress,
        "in_memory": False,
    }
    with contextlib.ExitStack() as stack:
        source: DatasetReader | WarpedVRT = src
        if facts.crs_overridden:
            source = stack.enter_context(
                WarpedVRT(
                    src,
                    src_crs=facts.crs,
                    crs=facts.crs,
                    transform=src.transform,
                    width=src.width,
                    height=src.height,
                    resampling=Resampling.nearest,
                )
            )
        cog_translate(source, str(target), _cog_profile(facts), **options)


def remove_stored(storage_dir: Path, relative: str) -> None:
    """Delete a stored COG (a pruned or failed version); missing files are fine."""
    stored_path(storage_dir, relative).unlink(missing_ok=True)
