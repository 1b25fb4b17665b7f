"""The picker shows the credit Lantmäteriet's licence asks for when a place comes from its address
register, and carries it in the value. Real import into the session's database (removed again
afterwards), real app, Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Page, expect

from layers.lookup.store import lock_lookups, rebuild_streets
from layers.registers import lm_read, lm_store
from layers.registers.lm_fixture import lm_address, write_lm_addresses
from layers.registers.lm_schema import ATTRIBUTION, SOURCE
from tests.browser.picker_helpers import open_demo, tab_to

pytestmark = pytest.mark.browser


@pytest.fixture
def register_loaded(sample_database: str, tmp_path: Path) -> Iterator[None]:
    """Five addresses on Södermalm from a register file; gone again after the test."""
    path = tmp_path / "belagenhetsadresser_kn0180.gpkg"
    rows = [
        lm_address("Attributionsgränd", i, 672_500.0 + 10 * i, 6_578_000.0, kommunkod="0180",
                   kommunnamn="Stockholm", postnummer=11820, postort="STOCKHOLM")
        for i in range(1, 6)
    ]  # fmt: skip
    write_lm_addresses(path, rows)
    register = lm_read.recognise(path)
    assert register is not None
    with psycopg.connect(sample_database) as conn:
        lm_store.load_register(conn, lm_read.read_rows(register), path.name)
    try:
        yield
    finally:
        with psycopg.connect(sample_database) as conn, conn.transaction():
            lock_lookups(conn)
            conn.execute("DELETE FROM lookup.addresses WHERE source = %s", [SOURCE])
            conn.execute("DELETE FROM lookup.address_sources WHERE source = %s", [SOURCE])
            rebuild_streets(conn)


def test_a_place_from_the_register_shows_its_attribution(
    page: Page, live_server: str, register_loaded: None
) -> None:
    picker = open_demo(page, live_server)
    credit = picker.locator(".chosen-attribution")
    expect(credit).to_be_hidden()
    tab_to(page, "q")
    page.keyboard.type("Attributionsgränd 3")
    option = picker.locator("[role=option]").first
    expect(option).to_contain_text("Attributionsgränd 3", timeout=10_000)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(picker.locator("#chosen-text")).to_contain_text("Attributionsgränd 3", timeout=10_000)
    expect(credit).to_be_visible()
    expect(credit).to_have_text(f"Adressdata: {ATTRIBUTION}")
    value = picker.evaluate("el => el.value")
    assert value["properties"]["attribution"] == [ATTRIBUTION]
