"""The /demo/bygglov receipt draws the area that was chosen, not only its centre (issue 10 §3):
the static map's URL carries the geometry, its alt text says an area is drawn, and the PNG the
page shows has the outline's pixels. Debian's Chromium, the real app, axe."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.picker_helpers import open_demo, run_axe
from tiles.staticmap_shape import OUTLINE

pytestmark = pytest.mark.browser


def test_the_receipt_draws_the_chosen_area(desktop: Page, live_server: str) -> None:
    page = desktop
    picker = open_demo(page, live_server, "/bygglov")
    for step in ("pan-east", "pan-south", None):
        picker.locator("[data-action=add-vertex]").click()
        if step:
            picker.locator(f"[data-action={step}]").click()
            page.wait_for_timeout(350)
    picker.locator("[data-action=finish]").click()
    expect(picker.locator("#chosen-text")).to_contain_text("Område på cirka", timeout=10_000)
    drawn = picker.evaluate("el => el.value")["geometry"]
    page.locator("#submit").click()
    image = page.locator("#received-map")
    expect(image).to_have_attribute(
        "alt", f"Karta där det valda området är inritat: {picker_label(page)}"
    )
    src = image.get_attribute("src") or ""
    query = parse_qs(urlsplit(src).query)
    sent = json.loads(query["geometry"][0])
    assert sent["type"] == "Polygon" and len(sent["coordinates"][0]) == len(drawn["coordinates"][0])
    assert int(query["zoom"][0]) >= 15  # fitted to a block-sized area, not the world
    # The PNG the page shows: the outline's dark pixels, well away from the centre too.
    response = page.request.get(src if src.startswith("http") else f"{live_server}{src}")
    assert response.status == 200
    png = Image.open(io.BytesIO(response.body())).convert("RGB")
    dark = tuple(int(OUTLINE[i : i + 2], 16) for i in (1, 3, 5))
    hits = [
        (x, y)
        for x in range(0, png.width, 2)
        for y in range(0, png.height, 2)
        if all(abs(a - b) <= 40 for a, b in zip(png.getpixel((x, y)), dark, strict=True))
    ]
    assert len(hits) > 100
    xs = [x for x, _ in hits]
    assert max(xs) - min(xs) > png.width / 4, "an outline, not a dot"
    assert run_axe(page) == []


def picker_label(page: Page) -> str:
    return page.locator("#received-label").inner_text()
