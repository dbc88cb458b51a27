"""Models whose input is not 3-channel or not square: `render`, `Renderer`, `gallery`, CLI.

The image size and channel count come from the model's input shape; color decorrelation
and the RGB preprocessing modes apply only to 3-channel models.
"""

import importlib
import json

import keras
import numpy as np
import pytest
from PIL import Image

from tests.conftest import assert_unchanged, snapshot
from tfxai import cli
from tfxai.featurevis import objectives
from tfxai.featurevis import param as param_lib

render_lib = importlib.import_module("tfxai.featurevis.render")
gallery_lib = importlib.import_module("tfxai.featurevis.gallery")


def conv_model(shape, seed, name):
    """Two 'same' convolutions (6 and 8 channels) and a 4-way head on `shape` inputs."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.ReLU()(x))
    return keras.Model(inputs, keras.layers.Dense(4, name="logits")(x), name=name)


@pytest.fixture(scope="module")
def gray():
    return conv_model((24, 24, 1), 21, "gray")


@pytest.fixture(scope="module")
def wide():
    return conv_model((48, 80, 3), 22, "wide")


def channel_means(model, images, layer, channels):
    """The `channel` objective by hand: each image's channel mean of `layer`."""
    activations = keras.Model(model.input, model.get_layer(layer).output)(images).numpy()
    return np.array([activations[i, ..., c].mean() for i, c in enumerate(channels)])


def render(model, objective, **options):
    options.setdefault("progress", False)
    return render_lib.render(model, objective, **options)


# --------------------------------------------------------------------------- grayscale


def test_grayscale_model_renders_one_channel_images_by_gradient_ascent(gray):
    before = snapshot(gray)
    objective = objectives.channel("conv2", [0, 3])
    start = render(gray, objective, steps=0, seed=2)
    end = render(gray, objective, steps=40, seed=2)
    assert end.images.shape == (2, 24, 24, 1) and end.images.dtype == np.float32
    assert end.images.min() >= 0.0 and end.images.max() <= 1.0
    assert end.settings["decorrelate"] is False and end.settings["size"] == [24, 24]
    assert np.all(end.values - start.values > 0.05 * np.abs(start.values) + 1e-6), (
        start.values,
        end.values,
    )
    np.testing.assert_allclose(
        end.values, channel_means(gray, end.images, "conv2", [0, 3]), rtol=1e-4, atol=1e-6
    )
    assert_unchanged(before, gray)


def test_grayscale_renderer_matches_render(gray):
    objective = objectives.channel("conv1", [1, 4])
    renderer = render_lib.Renderer(gray, objective, param="pixel")
    first = renderer(steps=6, seed=3)
    direct = render(gray, objective, param="pixel", steps=6, seed=3)
    assert first.images.shape == (2, 24, 24, 1)
    np.testing.assert_allclose(first.images, direct.images, atol=1e-6)


@pytest.mark.parametrize(
    "options, match",
    [
        (dict(decorrelate=True), r"decorrelate: .*1 channel.*expected .*False"),
        (dict(preprocess="caffe"), r"preprocess: 'caffe' .*RGB.*1 channel"),
        (dict(preprocess="torch"), r"preprocess: 'torch' .*RGB.*1 channel"),
        (dict(param=param_lib.image(24, 1, param="pixel")), r"param: .*3-channel.*1 channel"),
    ],
)
def test_grayscale_model_refuses_rgb_only_options(gray, options, match):
    with pytest.raises(ValueError, match=match):
        render(gray, objectives.channel("conv2", 0), steps=1, **options)


def test_grayscale_gallery_writes_grayscale_pngs_of_the_rendered_images(gray, tmp_path):
    before = snapshot(gray)
    summary = gallery_lib.gallery(
        gray,
        "conv2",
        channels=[0, 2, 5],
        out_dir=tmp_path,
        steps=6,
        batch_size=3,
        seed=1,
        progress=False,
    )
    assert summary["rendered"] == 3
    direct = render(gray, objectives.channel("conv2", [0, 2, 5]), steps=6, seed=1)
    for i, c in enumerate([0, 2, 5]):
        with Image.open(tmp_path / "conv2" / f"channel_{c:04d}.png") as png:
            assert png.mode == "L" and png.size == (24, 24)
            pixels = np.asarray(png)
        expected = np.rint(255 * direct.images[i, ..., 0])
        assert np.abs(pixels.astype(int) - expected).max() <= 1
    with Image.open(tmp_path / "conv2" / "grid.png") as grid:
        grid.load()
    manifest = json.loads((tmp_path / "gallery.json").read_text())
    settings = next(iter(manifest["settings"].values()))
    assert settings["decorrelate"] is False and settings["size"] == 24  # square: an int
    assert_unchanged(before, gray)


def test_grayscale_gallery_refuses_rgb_preprocessing(gray, tmp_path):
    with pytest.raises(ValueError, match="preprocess: 'tf'"):
        gallery_lib.gallery(
            gray, "conv2", channels=1, out_dir=tmp_path, steps=1, preprocess="tf", progress=False
        )
    assert not list(tmp_path.glob("*/channel_*.png"))


def test_gallery_command_on_a_grayscale_keras_file(gray, tmp_path, capsys):
    path = tmp_path / "gray.keras"
    gray.save(path)
    out = tmp_path / "site"
    argv = [
        "gallery",
        str(path),
        "--layers",
        "conv1",
        "--channels",
        "2",
        "--out",
        str(out),
        "--steps",
        "3",
        "--no-progress",
    ]
    assert cli.main(argv) == 0
    assert "rendered 2 channels" in capsys.readouterr().out
    for png in sorted(out.glob("conv1/channel_*.png")):
        with Image.open(png) as image:
            assert image.mode == "L" and image.size == (24, 24)
    assert cli.main(argv[:-1] + ["--preprocess", "caffe", "--no-progress"]) == 2
    assert "preprocess: 'caffe'" in capsys.readouterr().err


def test_other_channel_counts_render_without_decorrelation_but_make_no_gallery(tmp_path):
    model = conv_model((16, 16, 4), 24, "four")
    result = render(model, objectives.channel("conv2", 1), steps=2)
    assert result.images.shape == (1, 16, 16, 4) and result.settings["decorrelate"] is False
    with pytest.raises(
        ValueError,
        match=r"model: 'four' takes 4-channel inputs; .*expects "
        r"a 1-channel \(grayscale\) or 3-channel",
    ):
        gallery_lib.gallery(model, "conv2", channels=1, out_dir=tmp_path, steps=1, progress=False)


# --------------------------------------------------------------------------- sizes


def test_non_square_model_renders_at_its_own_input_size_by_default(wide):
    objective = objectives.channel("conv2", [1, 6])
    result = render(wide, objective, steps=4, seed=4)
    assert result.images.shape == (2, 48, 80, 3)
    assert result.settings["size"] == [48, 80]
    # At the model's own size nothing is resized: the values are the model's own.
    np.testing.assert_allclose(
        result.values, channel_means(wide, result.images, "conv2", [1, 6]), rtol=1e-4, atol=1e-6
    )


def test_explicit_sizes_stay_as_given(wide):
    objective = objectives.channel("conv2", 2)
    assert render(wide, objective, size=32, steps=1).images.shape == (1, 32, 32, 3)
    tall = render(wide, objective, size=(40, 24), steps=1, transforms=None)
    assert tall.images.shape == (1, 40, 24, 3)
    resized = keras.ops.image.resize(tall.images, (48, 80))  # what the model is fed
    np.testing.assert_allclose(
        tall.values, channel_means(wide, resized, "conv2", [2]), rtol=1e-4, atol=1e-6
    )


def test_gallery_on_a_non_square_model_defaults_to_its_size(wide, tmp_path):
    gallery_lib.gallery(wide, "conv1", channels=2, out_dir=tmp_path, steps=2, progress=False)
    pngs = sorted(tmp_path.glob("conv1/channel_*.png"))
    assert len(pngs) == 2
    for png in pngs:
        with Image.open(png) as image:
            assert image.size == (80, 48)


def test_gallery_command_size_takes_one_or_two_integers(wide, tmp_path, capsys):
    path = tmp_path / "wide.keras"
    wide.save(path)
    argv = [
        "gallery",
        str(path),
        "--layers",
        "conv1",
        "--channels",
        "1",
        "--steps",
        "1",
        "--no-progress",
        "--out",
        str(tmp_path / "site"),
        "--size",
    ]
    assert cli.main(argv + ["20", "36"]) == 0
    with Image.open(tmp_path / "site" / "conv1" / "channel_0000.png") as image:
        assert image.size == (36, 20)
    capsys.readouterr()
    assert cli.main(argv + ["20", "36", "4"]) == 2
    assert "--size: expected S or H W, got 3 values" in capsys.readouterr().err


def test_models_of_unknown_input_size_keep_the_128_default():
    keras.utils.set_random_seed(23)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
    result = render(model, objectives.channel("conv", 1), steps=1)
    assert result.images.shape == (1, 128, 128, 3)
