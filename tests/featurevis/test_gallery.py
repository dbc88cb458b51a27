"""gallery(): files, manifest, skipping on re-runs, argument checks, real headless Chromium."""

import importlib
import io
import json
import math
import os
import re
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from tests.conftest import assert_unchanged, snapshot
from tfxai import viz
from tfxai.featurevis import _html, objectives

SIZE = 32
STEPS = 8
FAST = {"size": SIZE, "steps": STEPS, "batch_size": 4, "progress": False}
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

render_lib = importlib.import_module("tfxai.featurevis.render")
gallery_lib = importlib.import_module("tfxai.featurevis.gallery")


def tiny_model(seed=0, name="tiny"):
    """Two conv layers (8 and 4 channels) on 32 x 32 RGB, seeded weights."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x), name=name)


def nested_model():
    """A functional model around a Sequential backbone (a model used as a layer)."""
    keras.utils.set_random_seed(7)
    backbone = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="inner_conv"),
            keras.layers.Conv2D(5, 3, strides=2, activation="relu", name="inner_conv2"),
        ],
        name="backbone",
    )
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.GlobalAveragePooling2D()(backbone(inputs))
    return keras.Model(inputs, keras.layers.Dense(2)(x), name="outer")


def load(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def read_manifest(out):
    return json.loads((Path(out) / "gallery.json").read_text(encoding="utf-8"))


def png_mtimes(out):
    return {p: p.stat().st_mtime_ns for p in Path(out).glob("*/channel_*.png")}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One gallery of both layers of the tiny model (conv1 in two chunks of 4)."""
    model = tiny_model()
    before = snapshot(model)
    out = tmp_path_factory.mktemp("gallery")
    summary = gallery_lib.gallery(model, ["conv1", "conv2"], out_dir=out, **FAST)
    return model, before, out, summary


# --------------------------------------------------------------------------- outputs


def test_files_and_summary(built):
    _, _, out, summary = built
    assert summary["rendered"] == 12 and summary["skipped"] == 0
    assert summary["index"] == str(out / "index.html")
    for path, count in (("conv1", 8), ("conv2", 4)):
        layer = summary["layers"][path]
        assert (layer["slug"], layer["count"], layer["channels"]) == (
            path,
            count,
            list(range(count)),
        )
        assert (layer["rendered"], layer["skipped"]) == (count, 0)
        for c in range(count):
            image = load(out / path / f"channel_{c:04d}.png")
            assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8
        assert load(out / path / "grid.png").shape[1] > 2 * SIZE
        assert Path(layer["page"]) == out / f"{path}.html" and Path(layer["page"]).is_file()
    written = {Path(f) for f in summary["files"]}
    assert written == {p for p in out.rglob("*") if p.is_file()}
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".*"))


def test_manifest_values_are_finite_and_match_render(built):
    model, _, out, _ = built
    manifest = read_manifest(out)
    layer = manifest["layers"]["conv1"]
    assert (layer["slug"], layer["count"]) == ("conv1", 8)
    keys = {entry["key"] for entry in layer["channels"].values()}
    assert len(keys) == 1 and manifest["settings"][keys.pop()]["steps"] == STEPS
    for c, entry in layer["channels"].items():
        assert math.isfinite(entry["value"]) and entry["png"] == f"conv1/channel_{int(c):04d}.png"
    # The second chunk of conv1 is channels 4..7, rendered from the same seed.
    direct = render_lib.render(
        model, objectives.channel("conv1", [4, 5, 6, 7]), size=SIZE, steps=STEPS, progress=False
    )
    stored = [layer["channels"][str(c)]["value"] for c in (4, 5, 6, 7)]
    np.testing.assert_allclose(stored, direct.values, rtol=1e-5, atol=1e-7)
    for i, c in enumerate((4, 5, 6, 7)):
        np.testing.assert_array_equal(
            load(out / f"conv1/channel_{c:04d}.png"), viz.to_uint8_image(direct.images[i])
        )


def test_pages_list_every_channel_value_and_setting(built):
    _, _, out, _ = built
    manifest = read_manifest(out)
    index = (out / "index.html").read_text(encoding="utf-8")
    for path, count in (("conv1", 8), ("conv2", 4)):
        assert f'href="{path}.html"' in index and f'src="{path}/grid.png"' in index
        assert f"{count} of {count}" in index
        page = (out / f"{path}.html").read_text(encoding="utf-8")
        for c, entry in manifest["layers"][path]["channels"].items():
            assert f'src="{path}/channel_{int(c):04d}.png"' in page
            assert f"channel {c}<br>value {_html.value(entry['value'])}<" in page
        assert f"<th>steps</th><td><code>{STEPS}</code>" in page
        assert "<th>seed</th><td><code>0</code>" in page
    for text in [index] + [(out / f"{p}.html").read_text() for p in ("conv1", "conv2")]:
        assert "<script" not in text and "http" not in text  # static, nothing external


def test_model_unchanged(built):
    model, before, _, _ = built
    assert_unchanged(before, model)


# --------------------------------------------------------------------------- re-runs


def test_rerun_skips_and_changed_settings_rerender(tmp_path):
    model = tiny_model()
    first = gallery_lib.gallery(model, "conv2", out_dir=tmp_path, **FAST)
    assert (first["rendered"], first["skipped"]) == (4, 0)
    mtimes = png_mtimes(tmp_path)
    key = read_manifest(tmp_path)["layers"]["conv2"]["channels"]["0"]["key"]

    again = gallery_lib.gallery(model, "conv2", out_dir=tmp_path, **FAST)
    assert (again["rendered"], again["skipped"]) == (0, 4)
    assert png_mtimes(tmp_path) == mtimes
    assert (tmp_path / "conv2.html").is_file() and (tmp_path / "index.html").is_file()

    (tmp_path / "conv2" / "channel_0002.png").unlink()
    missing = gallery_lib.gallery(model, "conv2", out_dir=tmp_path, **FAST)
    assert (missing["rendered"], missing["skipped"]) == (1, 3)

    changed = gallery_lib.gallery(model, "conv2", out_dir=tmp_path, **{**FAST, "steps": 9})
    assert (changed["rendered"], changed["skipped"]) == (4, 0)
    manifest = read_manifest(tmp_path)
    new_key = manifest["layers"]["conv2"]["channels"]["0"]["key"]
    assert new_key != key and list(manifest["settings"]) == [new_key]  # old settings pruned

    retrained = tiny_model(seed=1)  # same name and layers, other weights
    assert (
        gallery_lib.gallery(retrained, "conv2", out_dir=tmp_path, **{**FAST, "steps": 9})[
            "rendered"
        ]
        == 4
    )


def test_unreadable_manifest_warns_and_renders_again(tmp_path):
    model = tiny_model()
    gallery_lib.gallery(model, "conv2", [0], out_dir=tmp_path, **FAST)
    (tmp_path / "gallery.json").write_text("{not json", encoding="utf-8")
    with pytest.warns(UserWarning, match="out_dir: ignoring the unreadable manifest"):
        summary = gallery_lib.gallery(model, "conv2", [0], out_dir=tmp_path, **FAST)
    assert summary["rendered"] == 1 and read_manifest(tmp_path)["format"] == 1


# --------------------------------------------------------------------------- layers


def test_nested_model_paths(tmp_path):
    model = nested_model()
    before = snapshot(model)
    summary = gallery_lib.gallery(
        model,
        ["backbone/inner_conv", "inner_conv2"],
        {"backbone/inner_conv": [1, 3], "backbone/inner_conv2": 2},
        out_dir=tmp_path,
        **FAST,
    )
    assert list(summary["layers"]) == ["backbone/inner_conv", "backbone/inner_conv2"]
    first, second = summary["layers"].values()
    assert (first["slug"], first["count"], first["channels"]) == ("backbone--inner_conv", 6, [1, 3])
    assert (second["count"], second["channels"]) == (5, [0, 1])
    assert sorted(p.name for p in (tmp_path / "backbone--inner_conv").iterdir()) == [
        "channel_0001.png",
        "channel_0003.png",
        "grid.png",
    ]
    page = (tmp_path / "backbone--inner_conv.html").read_text(encoding="utf-8")
    assert "<code>backbone/inner_conv</code>" in page and "channel 3<br>" in page
    assert "channel 0<br>" not in page
    assert_unchanged(before, model)


def test_channel_selection_forms():
    model = tiny_model()

    def chosen(channels, layers=("conv1", "conv2")):
        return [item.channels for item in gallery_lib._plan(model, list(layers), channels)]

    assert chosen(None) == [list(range(8)), list(range(4))]
    assert chosen(6) == [list(range(6)), list(range(4))]  # clamped to the layer's count
    assert chosen([3, 1]) == [[3, 1], [3, 1]]
    assert chosen(np.array([2])) == [[2], [2]]
    assert chosen({"conv2": [0], "conv1": None}) == [list(range(8)), [0]]
    assert chosen(None, layers=[model.get_layer("conv2")]) == [list(range(4))]


class _Plain(keras.Model):
    """Subclassed, with a conv layer called eagerly: its `output` is unknown statically."""

    def __init__(self):
        super().__init__(name="plain")
        self.conv = keras.layers.Conv2D(7, 3, name="conv")
        self.pool = keras.layers.GlobalAveragePooling2D()

    def call(self, inputs):
        return self.pool(self.conv(inputs))


def test_channel_count_by_tracing_when_the_output_is_unknown():
    model = _Plain()
    model(np.zeros((1, SIZE, SIZE, 3), np.float32))
    with pytest.raises((AttributeError, ValueError, RuntimeError)):
        model.conv.output  # noqa: B018
    before = snapshot(model)
    [item] = gallery_lib._plan(model, "conv", None)
    assert (item.path, item.count) == ("conv", 7)
    assert_unchanged(before, model)


def test_html_escapes_layer_names(tmp_path):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(2, 3, padding="same", name="odd>name")(inputs)
    model = keras.Model(inputs, x, name="odd")  # TF allows few characters in names: > is one
    summary = gallery_lib.gallery(
        model, "odd>name", [1], out_dir=tmp_path, steps=1, size=SIZE, progress=False, title="T<&>"
    )
    slug = summary["layers"]["odd>name"]["slug"]
    assert re.fullmatch(r"odd_name-[0-9a-f]{6}", slug)
    page = (tmp_path / f"{slug}.html").read_text(encoding="utf-8")
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    for text in (page, index):
        assert "odd&gt;name" in text and "odd>name" not in text
        assert "T&lt;&amp;&gt;" in text and "T<&>" not in text


# --------------------------------------------------------------------------- errors

BAD = [
    ({"model": "tiny"}, TypeError, "model"),
    ({"layers": "nope"}, ValueError, "layers"),
    ({"layers": []}, ValueError, "layers"),
    ({"layers": ["conv1", "conv1"]}, ValueError, "layers"),
    ({"layers": 1.5}, TypeError, "layers"),
    ({"channels": [8]}, ValueError, "channels"),
    ({"channels": [-1]}, ValueError, "channels"),
    ({"channels": [1, 1]}, ValueError, "channels"),
    ({"channels": []}, ValueError, "channels"),
    ({"channels": 0}, ValueError, "channels"),
    ({"channels": "all"}, ValueError, "channels"),
    ({"channels": {"conv2": None}}, ValueError, "channels"),
    ({"channels": {"conv1": None, "conv2": None}}, ValueError, "channels"),
    ({"channels": {"nope": None}}, ValueError, "channels"),
    ({"size": 0}, ValueError, "size"),
    ({"size": (32,)}, ValueError, "size"),
    ({"steps": -1}, ValueError, "steps"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"param": "wavelet"}, ValueError, "param"),
    ({"decorrelate": "yes"}, TypeError, "decorrelate"),
    ({"transforms": "fancy"}, ValueError, "transforms"),
    ({"preprocess": "keras"}, ValueError, "preprocess"),
    ({"seed": -1}, ValueError, "seed"),
    ({"title": 3}, TypeError, "title"),
]


@pytest.mark.parametrize(
    "change, error, name", BAD, ids=[f"{n}-{i}" for i, (_, _, n) in enumerate(BAD)]
)
def test_bad_arguments_name_the_argument(tmp_path, change, error, name):
    change = dict(change)
    model = change.pop("model", None) or tiny_model()
    args = {"layers": "conv1", "channels": None, **change}
    out = tmp_path / "never"
    with pytest.raises(error, match=rf"^{name}: "):
        gallery_lib.gallery(
            model, args.pop("layers"), args.pop("channels"), out_dir=out, **{**FAST, **args}
        )
    assert not out.exists()


# --------------------------------------------------------------------------- Chromium


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A real headless Chromium (Debian's package), driven by Selenium, offline."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if missing:
        reason = (
            f"needs Debian's chromium and chromium-driver packages; missing "
            f"{', '.join(missing)} (.ci/run installs them)"
        )
        if os.environ.get("CI", "").lower() == "true":  # CI must not hide a broken gallery
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # with the driver path: Selenium Manager stays off
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1000,800",
        "--force-device-scale-factor=1",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


_IMAGES = (
    "return Array.from(document.images, i => [i.getAttribute('src'), i.complete, "
    "i.naturalWidth, i.naturalHeight]);"
)
_FIRST_IMAGE_BOX = (
    "const r = document.images[0].getBoundingClientRect(); "
    "return [r.left, r.top, r.width, r.height];"
)


def test_pages_load_every_image_in_headless_chromium(built, browser):
    _, _, out, summary = built
    pages = {out / "index.html": ("conv1/grid.png", "conv2/grid.png")}
    for layer in summary["layers"].values():
        pages[Path(layer["page"])] = tuple(
            f"{layer['slug']}/channel_{c:04d}.png" for c in layer["channels"]
        )
    for page, expected in pages.items():
        browser.get(page.resolve().as_uri())
        images = browser.execute_script(_IMAGES)
        assert tuple(src for src, *_ in images) == expected
        for src, complete, width, height in images:
            assert complete and width > 0, f"{page.name}: {src} did not load"
            assert (height, width) == load(out / src).shape[:2]
        shot = np.asarray(
            Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
        ).astype(np.float64)
        colors = len(np.unique(shot.reshape(-1, 3), axis=0))
        left, top, width, height = (round(v) for v in browser.execute_script(_FIRST_IMAGE_BOX))
        first = shot[top + 1 : top + height - 1, left + 1 : left + width - 1]  # inside the border
        source = load(out / expected[0]).astype(np.float64)
        error = np.abs(first - source).mean() if first.shape == source.shape else np.inf
        print(
            f"chromium {page.name}: {len(images)} images loaded, screenshot "
            f"{shot.shape[1]}x{shot.shape[0]} std {shot.std():.1f}, {colors} colours; "
            f"first image on screen {first.shape[1]}x{first.shape[0]} std "
            f"{first.std():.2f}, mean |screen - PNG| {error:.2f}"
        )
        assert shot.std() > 5 and colors > 16, f"{page.name}: the screenshot looks blank"
        assert error < 3, f"{page.name}: {expected[0]} is not what the screenshot shows"
