"""`tfxai gallery` on the bundled classifier: files, re-run skipping, errors."""

import json

from tfxai import cli


def test_gallery_command_writes_the_site_and_skips_on_rerun(tmp_path, capsys):
    out = tmp_path / "site"
    argv = [
        "gallery",
        "shapes-classifier",
        "--layers",
        "block4_out",
        "--channels",
        "3",
        "--out",
        str(out),
        "--size",
        "32",
        "--steps",
        "4",
        "--no-progress",
    ]
    assert cli.main(argv) == 0
    assert "rendered 3 channels, skipped 0" in capsys.readouterr().out
    manifest = json.loads((out / "gallery.json").read_text())
    assert "block4_out" in json.dumps(manifest)
    assert (out / "index.html").is_file() and len(list(out.glob("*/channel_*.png"))) == 3
    assert cli.main(argv) == 0
    assert "rendered 0 channels, skipped 3" in capsys.readouterr().out


def test_gallery_command_reports_bad_input(tmp_path, capsys):
    assert cli.main(["gallery", "no-such-model", "--layers", "x", "--out", str(tmp_path)]) == 2
    assert "model: expected one of" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "gallery",
                "shapes-classifier",
                "--layers",
                "blok4_out",
                "--out",
                str(tmp_path),
                "--no-progress",
            ]
        )
        == 2
    )
    assert "blok4_out" in capsys.readouterr().err
