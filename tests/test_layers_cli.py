"""``webmap layers …``: the same pipeline as the API, with advice in the command's own words."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner

from webmap.cli import main


def test_import_list_rollback_and_delete(runner: FlaskCliRunner, shared_data: Path) -> None:
    scb = shared_data / "scb" / "kommun_3006.geojson"
    refused = runner.invoke(
        main, ["layers", "import", str(scb), "--name", "cli_scb", "--title", "K"]
    )
    assert refused.exit_code == 1
    assert "--srid 3006" in refused.output and "srid=" not in refused.output
    assert "cli_scb" not in runner.invoke(main, ["layers", "list"]).output

    for _ in range(2):
        done = runner.invoke(
            main,
            [
                "layers",
                "import",
                str(scb),
                "--name",
                "cli_scb",
                "--title",
                "Kommuner",
                "--srid",
                "3006",
                "--private",
                "--report",
            ],
        )
        assert done.exit_code == 0, done.output
        assert "290 of 290 features stored" in done.output and '"features_read": 290' in done.output
    listing = runner.invoke(main, ["layers", "list"]).output
    assert "cli_scb\tv2\tvector\tprivate\tinstance\t290 features\tKommuner" in listing
    back = runner.invoke(main, ["layers", "rollback", "cli_scb"])
    assert back.exit_code == 0 and "cli_scb version 1 is live" in back.output
    assert runner.invoke(main, ["layers", "rollback", "cli_scb", "--to", "7"]).exit_code == 1
    gone = runner.invoke(main, ["layers", "delete", "cli_scb", "--yes"])
    assert gone.exit_code == 0 and "versions 1, 2" in gone.output
    missing = runner.invoke(
        main, ["layers", "import", str(scb), "--name", "cli_new", "--srid", "3006"]
    )
    assert missing.exit_code != 0 and "--title" in missing.output
