"""`tfxai explain`, `methods`, `layers`: real runs on the bundled classifier and a nested
ResNet50, and the errors that need the model (in-process: TensorFlow is loaded)."""

import re

import numpy as np
import pytest
from PIL import Image

import tfxai
from tests.cli.helpers import one_error_line, run_bare, run_cli, user_lines
from tfxai import cli
from tfxai.datasets import CLASSES, make_shapes


@pytest.fixture(scope="module")
def shapes_files(tmp_path_factory):
    """Two shapes images: a 96 px RGB PNG and a 150x120 grayscale JPEG (resized by the CLI)."""
    tmp = tmp_path_factory.mktemp("shapes")
    data = make_shapes(2, size=96, seed=7)
    pictures = (np.asarray(data.images) * 255).round().astype("uint8")
    Image.fromarray(pictures[0]).save(tmp / "one.png")
    Image.fromarray(pictures[1]).convert("L").resize((150, 120)).save(tmp / "two.jpg")
    return tmp


def _check_overlay(png, source):
    overlay = np.asarray(Image.open(png).convert("RGB"), np.float64)
    original = np.asarray(Image.open(source).convert("RGB"), np.float64)
    assert overlay.shape == original.shape  # the image's own size
    assert overlay.std() > 10  # not blank
    assert np.abs(overlay - original).mean() > 5  # the map is drawn over it


def test_explain_writes_the_overlay_and_the_map_that_grad_cam_gives(shapes_files, tmp_path, capsys):
    out = tmp_path / "maps"
    images = [shapes_files / "one.png", shapes_files / "two.jpg"]
    assert cli.main(["explain", "shapes-classifier", *map(str, images), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    model = tfxai.models.load("shapes-classifier")
    pixels = np.stack(
        [
            np.asarray(Image.open(p).convert("RGB").resize((96, 96), Image.BILINEAR), "float32")
            / 255
            for p in images
        ]
    )
    predicted = np.asarray(model(pixels)).argmax(axis=1)
    expected = tfxai.grad_cam(model, pixels, target=list(predicted))
    for i, (stem, image) in enumerate(zip(("one", "two"), images)):
        raw = np.load(out / f"{stem}.grad_cam.npy")
        assert raw.shape == (96, 96) and raw.dtype == np.float32
        np.testing.assert_allclose(raw, expected[i], atol=1e-5)
        _check_overlay(out / f"{stem}.grad_cam.png", image)
        name = CLASSES[predicted[i]]
        assert f"{image}: grad_cam at layer " in printed
        assert f"explained class {predicted[i]} ({name})" in printed
    assert printed.count("  5. ") == 2  # the top 5 of each image


def test_explain_with_a_target_per_image(shapes_files, tmp_path, capsys):
    images = [str(shapes_files / "one.png"), str(shapes_files / "two.jpg")]
    argv = ["explain", "shapes-classifier", *images, "--target", "1,4", "--out", str(tmp_path)]
    assert cli.main(argv + ["--method", "layer_cam", "--layer", "block3_out"]) == 0
    printed = capsys.readouterr().out
    assert "explained class 1 (square)" in printed and "explained class 4 (cross)" in printed
    assert "at layer block3_out" in printed
    assert (tmp_path / "two.layer_cam.png").is_file()


@pytest.mark.parametrize(
    "argv, pattern",
    [
        (
            ["--layer", "blok4_out"],
            r"--layer: no layer 'blok4_out' in model .*Closest names: .*block4_out",
        ),
        (["--target", "7"], r"--target: class 7 is out of range; the model has 5 classes"),
    ],
)
def test_explain_errors_that_need_the_model(argv, pattern, shapes_files, tmp_path, capsys):
    base = ["explain", "shapes-classifier", str(shapes_files / "one.png"), "--out", str(tmp_path)]
    assert cli.main(base + argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("tfxai explain: error: ") and re.search(pattern, line), line


def test_explain_refuses_a_segmentation_model(shapes_files, tmp_path, capsys):
    argv = ["explain", "shapes-unet", str(shapes_files / "one.png"), "--out", str(tmp_path)]
    assert cli.main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "model: expected a classifier with one (batch, classes) output" in line


def test_layers_lists_paths_shapes_and_the_default(capsys):
    assert cli.main(["layers", "shapes-classifier"]) == 0
    rows = capsys.readouterr().out.splitlines()
    block4 = next(row for row in rows if row.startswith("block4_out "))
    assert "(None, 24, 24, 64)" in block4 and block4.rstrip().endswith("*")
    assert sum(row.rstrip().endswith("default") for row in rows) == 1


@pytest.mark.slow
def test_console_runs_each_command(shapes_files, tmp_path):
    """`python -m tfxai.cli` for each command, as users run it (slow: each run starts
    TensorFlow)."""
    out = tmp_path / "maps"
    result = run_cli("explain", "shapes-classifier", shapes_files / "two.jpg", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "explained class" in result.stdout and "  5. " in result.stdout
    assert not user_lines(result.stderr), result.stderr
    _check_overlay(out / "two.grad_cam.png", shapes_files / "two.jpg")

    result = run_cli("methods")
    assert result.returncode == 0 and "https://arxiv.org/abs/1610.02391" in result.stdout
    assert all(name in result.stdout for name in tfxai.methods.METHODS)

    result = run_cli("layers", "shapes-classifier", "--spatial")
    assert result.returncode == 0 and "block4_out" in result.stdout

    result = run_cli("explain", "shapes-classifier", shapes_files / "one.png", "--layer", "blok4")
    line = one_error_line(result.stderr)
    assert result.returncode == 2 and line.startswith("tfxai explain: error: --layer: "), line
    assert "block4_out" in line

    result = run_cli(
        "gallery", "shapes-classifier", "--layers", "block4_out", "--channels", "999",
        "--out", tmp_path / "g", "--steps", "1", "--no-progress",
    )  # fmt: skip
    line = one_error_line(result.stderr)
    assert result.returncode == 2 and line.startswith("tfxai gallery: error: --channels: got 999")


@pytest.mark.slow
def test_explain_a_saved_nested_resnet50(tmp_path, capsys):
    import keras

    backbone = tfxai.models.resnet50(weights=None, input_shape=(96, 96, 3))
    inputs = keras.Input((96, 96, 3))
    trunk = keras.Model(
        backbone.input, backbone.get_layer("conv5_block3_out").output, name="resnet50"
    )
    outputs = keras.layers.Dense(3, activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(trunk(inputs))
    )
    model = keras.Model(inputs, outputs, name="nested")
    path = tmp_path / "nested.keras"
    model.save(path)
    rng = np.random.default_rng(0)
    image = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (200, 160, 3), dtype=np.uint8)).save(image)

    assert cli.main(["layers", str(path), "--spatial"]) == 0
    assert "resnet50/conv5_block3_out" in capsys.readouterr().out
    result = run_cli(
        "explain", path, image, "--layer", "resnet50/conv5_block3_out", "--out", tmp_path / "o"
    )
    assert result.returncode == 0, result.stderr
    assert "at layer resnet50/conv5_block3_out" in result.stdout
    raw = np.load(tmp_path / "o" / "photo.grad_cam.npy")
    assert raw.shape == (96, 96) and raw.max() == pytest.approx(1.0) and raw.std() > 0
    _check_overlay(tmp_path / "o" / "photo.grad_cam.png", image)


@pytest.mark.slow
def test_start_up_lines_are_kept_out(shapes_files, tmp_path):
    """When the command is what imports TensorFlow, none of its start-up lines show."""
    result, report = run_bare(
        "explain", "shapes-classifier", shapes_files / "one.png", "--out", tmp_path,
        unset=["TF_CPP_MIN_LOG_LEVEL"],
    )  # fmt: skip
    assert report["status"] == 0 and report["tensorflow"], result.stderr
    assert result.stderr == "", result.stderr
