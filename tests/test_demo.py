"""`tfxai demo`, the main job, end to end on a tiny setting (and its console script)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tfxai import cli

IOU_FLOOR = 0.2  # the max-pooled shapes-classifier's Grad-CAM IoU is 0.335 at 500 images


def test_demo_writes_grids_and_metrics(tmp_path, capsys):
    out = tmp_path / "demo"
    status = cli.main(
        [
            "demo",
            "--out",
            str(out),
            "--images",
            "3",
            "--methods",
            "grad_cam",
            "score_cam",
            "--top-n",
            "8",
            "--steps",
            "6",
            "--no-progress",
        ]
    )
    assert status == 0
    results = json.loads((out / "metrics.json").read_text())
    assert set(results["classifier"]) == {"grad_cam", "score_cam"}
    for row in results["classifier"].values():
        assert 0.0 <= row["pointing_game"] <= 1.0 and 0.0 <= row["iou"] <= 1.0
        assert 0.0 <= row["deletion"] <= 1.0 and 0.0 <= row["insertion"] <= 1.0
        assert 0.0 <= row["average_drop"] <= 100.0
    assert results["classifier"]["grad_cam"]["pointing_game"] >= 2 / 3
    # the default classifier is the conventional GAP one: its Grad-CAM covers a region
    assert results["settings"]["classifier"] == "shapes-gap-classifier"
    assert results["settings"]["classifier_layer"] == "block4_out"
    assert results["classifier"]["grad_cam"]["iou"] >= IOU_FLOOR
    assert set(results["unet"]["grad_cam"]) == {"pointing_game", "energy_pointing_game", "iou"}
    markdown = (out / "metrics.md").read_text()
    assert "| grad_cam |" in markdown and "Bundled U-Net" in markdown
    assert "`shapes-gap-classifier` at layer `block4_out`" in markdown
    grid = np.asarray(Image.open(out / "classifier_cams.png"))
    assert grid.shape[0] > 3 * 96 and grid.shape[1] > 3 * 96 and grid.std() > 10
    unet_grid = np.asarray(Image.open(out / "unet_cams.png"))
    assert unet_grid.shape[1] > 5 * 96
    assert "wrote" in capsys.readouterr().out


def test_demo_rejects_an_unknown_classifier(tmp_path, capsys):
    out = tmp_path / "demo"
    status = cli.main(["demo", "--classifier", "shapes-unet", "--out", str(out), "--no-progress"])
    assert status == 2 and not out.exists()  # refused before anything is written
    assert (
        "--classifier: expected one of shapes-gap-classifier, shapes-classifier, got "
        "'shapes-unet'" in capsys.readouterr().err
    )


def test_demo_rejects_unknown_methods(capsys):
    assert cli.main(["demo", "--methods", "grad_came", "--no-progress"]) == 2
    assert "methods: unknown ['grad_came']" in capsys.readouterr().err


def test_console_script_is_installed():
    """`pip install -e .` puts the `tfxai` script beside the interpreter."""
    script = Path(sys.executable).parent / "tfxai"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "0.1.0"
