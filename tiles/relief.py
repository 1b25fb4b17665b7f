"""Drawing elevation models: a hillshade and a hypsometric colour ramp, with numpy.

Both work on a tile read with a one-pixel buffer (258 × 258 for a 256 px tile), so the slope at a
tile's edge is computed from real neighbours and adjacent tiles join without seams.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]

#: Light from the north-west, 45° above the horizon: the cartographic convention, which lets
#: readers see hills as raised rather than as valleys.
AZIMUTH = 315.0
ALTITUDE = 45.0
#: Lowland → highland: green, yellow, brown, light grey. Monotonic in lightness so the ramp still
#: reads in greyscale and for colour-blind users.
RAMP_STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (34, 94, 40)),
    (0.25, (120, 160, 70)),
    (0.5, (222, 214, 140)),
    (0.75, (170, 120, 70)),
    (1.0, (245, 242, 238)),
)


def _ramp_table() -> Array:
    positions = np.array([p for p, _ in RAMP_STOPS])
    colours = np.array([c for _, c in RAMP_STOPS], dtype="float64")
    steps = np.linspace(0.0, 1.0, 256)
    return np.stack(
        [np.interp(steps, positions, colours[:, band]) for band in range(3)], axis=0
    ).astype("uint8")


RAMP_TABLE = _ramp_table()


def exaggeration(zoom: int) -> float:
    """Vertical exaggeration: 1 from z12, doubling every two zooms out, so that gentle Swedish
    relief does not vanish when a 256 px tile covers tens of kilometres."""
    return float(max(1.0, 2.0 ** ((12 - zoom) / 2)))


def hillshade(
    elevation: Array, valid: Array, cell_size: float, z_factor: float = 1.0
) -> tuple[Array, Array]:
    """Horn's hillshade of a buffered elevation tile; returns (grey uint8, alpha uint8).

    ``elevation`` and ``valid`` are (h + 2) × (w + 2); the result is h × w. Nodata neighbours
    are filled with the tile's mean so one hole does not make a ring of black pixels; the hole
    itself stays transparent.
    """
    values = elevation.astype("float64")
    fill = float(values[valid].mean()) if valid.any() else 0.0
    z = np.where(valid, values, fill) * z_factor
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    dz_dx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * cell_size)
    dz_dy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8 * cell_size)
    slope = np.arctan(np.hypot(dz_dx, dz_dy))
    aspect = np.arctan2(dz_dy, -dz_dx)
    zenith = math.radians(90.0 - ALTITUDE)
    azimuth = math.radians((360.0 - AZIMUTH + 90.0) % 360.0)
    shade = math.cos(zenith) * np.cos(slope) + math.sin(zenith) * np.sin(slope) * np.cos(
        azimuth - aspect
    )
    grey = np.clip(shade * 255.0, 0, 255).astype("uint8")
    alpha = np.where(valid[1:-1, 1:-1], 255, 0).astype("uint8")
    return grey, alpha


def colour_ramp(values: Array, valid: Array, low: float, high: float) -> tuple[Array, Array]:
    """Values mapped through :data:`RAMP_STOPS` between ``low`` and ``high``; (RGB, alpha)."""
    scaled = (values.astype("float64") - low) / (high - low if high > low else 1.0)
    index = np.clip(np.nan_to_num(scaled, nan=0.0) * 255.0, 0, 255).astype("uint8")
    rgb = RAMP_TABLE[:, index]
    alpha = np.where(valid, 255, 0).astype("uint8")
    return rgb, alpha
