"""Folders an installed package uses: published rasters and the sample data (webmap/settings.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import webmap.settings
from webmap.cli import main
from webmap.settings import SampleDataMissing, Settings, raster_storage, sample_data_dir

CHECKOUT = Path(__file__).resolve().parent.parent


def test_raster_storage_is_the_setting_else_the_xdg_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert raster_storage(Settings(raster_dir=str(tmp_path))) == tmp_path
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert raster_storage(Settings()) == tmp_path / "share" / "webmap" / "rasters"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")  # the XDG spec says: ignore it
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "share" / "webmap" / "rasters"
    assert raster_storage(Settings()) == expected
    monkeypatch.delenv("XDG_DATA_HOME")
    assert raster_storage(Settings()) == expected


def test_sample_data_is_the_setting_else_the_checkout_data_folder(tmp_path: Path) -> None:
    assert sample_data_dir(Settings()) == CHECKOUT / "data"
    assert sample_data_dir(Settings(data_dir=str(tmp_path))) == tmp_path
    with pytest.raises(SampleDataMissing, match="is not a folder"):
        sample_data_dir(Settings(data_dir=str(tmp_path / "absent")))


def test_an_installed_package_without_sample_data_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Installed: webmap/ sits in site-packages, with neither setup.cfg nor data/ beside it.
    monkeypatch.setattr(webmap.settings, "_SOURCE_ROOT", tmp_path)
    with pytest.raises(SampleDataMissing, match="WEBMAP_DATA_DIR"):
        sample_data_dir(Settings())
    monkeypatch.delenv("WEBMAP_DATA_DIR", raising=False)
    result = CliRunner().invoke(main, ["data", "load-sample"])
    assert result.exit_code == 1
    assert "No sample data folder" in result.output and "WEBMAP_DATA_DIR" in result.output
