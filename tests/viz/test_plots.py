"""The plots: each figure is rendered to pixels and read back.

Checked on every plot: the number of axes, that the rendered figure is not blank (pixel
spread, distinct colors), the data drawn (Line2D arrays equal the result's arrays, the
AUC printed equals the result's to the digits shown, the x ticks are the layer names)
and the image tiles (the mean color of a tile's center equals the image's), and that
nothing goes through pyplot.
"""

import re

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

import tfxai
from tfxai.featurevis import Rendering
from tfxai.metrics import CausalCurves, SanityCheckResult
from tfxai.metrics.causal import area_under_curve
from tfxai.viz import plot_curves, plot_explanations, plot_rendering, plot_sanity

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _pixels(figure):
    """The figure rendered by its Agg canvas: uint8 (height, width, 3), top row first."""
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()


def _center(figure, pixels, axes, part=0.5):
    """The pixels of the central `part` of `axes`'s box, as (n, 3) float64."""
    box = axes.get_window_extent()
    height = pixels.shape[0]
    dx, dy = box.width * (1 - part) / 2, box.height * (1 - part) / 2
    x0, x1 = int(box.x0 + dx), int(box.x1 - dx)
    y0, y1 = int(height - box.y1 + dy), int(height - box.y0 - dy)  # display y points up
    return pixels[y0:y1, x0:x1].reshape(-1, 3).astype(np.float64)


def _assert_not_blank(pixels, colors=20):
    assert pixels.std() > 20, pixels.std()
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) >= colors


def _solid_images(colors, size=12):
    return np.stack([np.broadcast_to(np.uint8(c), (size, size, 3)) for c in colors])


def _half_maps(count, size=12):
    """Maps whose left half is their minimum and right half their maximum, per image at
    a different scale: normalized, each is 0 on the left and 1 on the right."""
    maps = np.zeros((count, size, size))
    maps[:, :, size // 2 :] = 1.0
    scales = 10.0 ** -np.arange(count)  # 1, 0.1, 0.01, ...
    return maps * scales[:, None, None] * 7 + 3 * scales[:, None, None]


def _image_axes(figure):
    return [axes for axes in figure.axes if axes.images]


# plot_explanations


def test_explanations_grid_has_methods_times_images_axes_and_a_colorbar():
    images = _solid_images([RED, GREEN, BLUE])
    maps = {"a": _half_maps(3), "b": _half_maps(3)[:, ::-1], "c": _half_maps(3)}
    figure = plot_explanations(images, maps, titles=["r", "g", "b"])
    assert isinstance(figure, Figure)
    assert len(figure.axes) == (3 + 1) * 3 + 1  # image row + 3 methods, and the colorbar
    assert len(_image_axes(figure)) == 12
    colorbar = figure.axes[-1]
    assert not colorbar.images and colorbar.get_ylim() == (0.0, 1.0)
    assert [axes.get_title() for axes in figure.axes[:3]] == ["r", "g", "b"]
    assert [figure.axes[3 * row].get_ylabel() for row in range(4)] == ["image", "a", "b", "c"]
    _assert_not_blank(_pixels(figure))
    without = plot_explanations(images, maps, show_images=False)
    assert len(without.axes) == 3 * 3 + 1


def test_explanations_show_the_images_and_the_normalized_maps():
    images = _solid_images([RED, GREEN])
    figure = plot_explanations(images, {"m": _half_maps(2)}, alpha=1.0, colormap="gray")
    pixels = _pixels(figure)
    image_row, map_row = figure.axes[:2], figure.axes[2:4]
    for axes, color in zip(image_row, [RED, GREEN]):
        np.testing.assert_allclose(_center(figure, pixels, axes).mean(0), color, atol=2)
    for axes in map_row:  # each map at its own scale: 0 on the left, 1 on the right
        box = axes.get_window_extent()
        left = pixels[int(pixels.shape[0] - box.y1 + 10), int(box.x0 + box.width * 0.25)]
        right = pixels[int(pixels.shape[0] - box.y1 + 10), int(box.x0 + box.width * 0.75)]
        np.testing.assert_array_equal(left, [0, 0, 0])
        np.testing.assert_array_equal(right, [255, 255, 255])


def test_explanations_undo_the_preprocessing():
    images = np.full((1, 8, 8, 3), -1.0, np.float32)
    images[..., 2] = 1.0  # "tf" mode: (-1, -1, 1) is blue
    figure = plot_explanations(images, {"m": np.ones((1, 4, 4))}, preprocessing="tf")
    center = _center(figure, _pixels(figure), figure.axes[0])
    np.testing.assert_allclose(center.mean(0), BLUE, atol=2)


def test_explanations_without_normalize_require_unit_maps():
    images = _solid_images([RED])
    plot_explanations(images, {"m": np.full((1, 4, 4), 0.5)}, normalize=False)
    with pytest.raises(ValueError, match=r"^maps_by_method\['m'\]: map 0: heatmap: expected"):
        plot_explanations(images, {"m": np.full((1, 4, 4), 2.0)}, normalize=False)


@pytest.mark.parametrize(
    ("images", "maps", "kwargs", "error", "message"),
    [
        (
            _solid_images([RED, GREEN, BLUE]),
            {"a": np.zeros((2, 8, 8))},
            {},
            ValueError,
            r"^maps_by_method\['a'\]: expected 3 maps \(one per image\) of shape \(3, H, W\), "
            r"got shape \(2, 8, 8\)",
        ),
        (
            _solid_images([RED]),
            np.zeros((1, 8, 8)),
            {},
            TypeError,
            r"^maps_by_method: expected a non-empty dict \{method name: maps \(B, H, W\)\}, "
            r"got ndarray",
        ),
        (_solid_images([RED]), {}, {}, TypeError, r"^maps_by_method: expected a non-empty dict"),
        (
            _solid_images([RED]),
            {"a": np.full((1, 8, 8), np.nan)},
            {},
            ValueError,
            r"^maps_by_method\['a'\]: contains NaN",
        ),
        (
            np.zeros((8, 8, 3, 2)),
            {"a": np.zeros((8, 8, 8))},
            {},
            ValueError,
            r"^images: expected a batch of images of shape \(B, H, W\) or \(B, H, W, C\) "
            r"with C 1 or 3, got shape \(8, 8, 3, 2\)",
        ),
        (
            np.full((1, 8, 8, 3), 300.0),
            {"a": np.zeros((1, 8, 8))},
            {},
            ValueError,
            r"^images: image: float values must lie in \[0, 1\] or \[0, 255\]",
        ),
        (
            _solid_images([RED, GREEN]),
            {"a": np.zeros((2, 8, 8))},
            {"titles": ["one"]},
            ValueError,
            r"^titles: expected 2 strings \(one per image\), got 1",
        ),
        (
            _solid_images([RED]),
            {"a": np.zeros((1, 8, 8))},
            {"preprocessing": "keras"},
            ValueError,
            r"^preprocessing: expected one of 'caffe', 'tf' or 'torch', got 'keras'",
        ),
    ],
)
def test_explanations_bad_input_is_named(images, maps, kwargs, error, message):
    with pytest.raises(error, match=message):
        plot_explanations(images, maps, **kwargs)


# plot_curves


def _curves(count=3, steps=10, rise=False):
    fractions = np.arange(steps + 1) / steps
    rates = np.arange(1, count + 1)[:, None] * 1.7
    curves = np.exp(-fractions[None] * rates).astype(np.float32)
    if rise:
        curves = 1.0 - curves
    return CausalCurves(area_under_curve(curves, fractions).astype(np.float32), curves, fractions)


def _labeled_lines(axes):
    return [line for line in axes.get_lines() if not line.get_label().startswith("_")]


def test_curves_draw_the_result_arrays_with_their_auc():
    result = _curves()
    figure = plot_curves(result)
    assert len(figure.axes) == 1
    axes = figure.axes[0]
    lines = _labeled_lines(axes)
    assert len(lines) == 3 + 1  # one per image and the mean
    for line, curve in zip(lines, result.curves):
        np.testing.assert_array_equal(line.get_xdata(), result.fractions)
        np.testing.assert_array_equal(line.get_ydata(), curve)
    np.testing.assert_allclose(lines[-1].get_ydata(), result.curves.mean(0), rtol=1e-6)
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    printed = [float(re.search(r"AUC (\d\.\d{3})$", text).group(1)) for text in legend]
    assert printed == [round(float(a), 3) for a in result.auc] + [
        round(float(result.auc.mean()), 3)
    ]
    title = re.fullmatch(r"mean AUC (\d\.\d{3})", axes.get_title())
    assert title and float(title.group(1)) == round(float(result.auc.mean()), 3)
    _assert_not_blank(_pixels(figure), colors=10)


def test_curves_of_a_dict_get_one_titled_axes_each():
    results = {"deletion": _curves(), "insertion": _curves(rise=True)}
    figure = plot_curves(results, labels=["cat", "dog", "car"])
    assert len(figure.axes) == 2
    for axes, (name, result) in zip(figure.axes, results.items()):
        assert axes.get_title() == f"{name}: mean AUC {result.auc.mean():.3f}"
        lines = _labeled_lines(axes)
        np.testing.assert_array_equal(lines[1].get_ydata(), result.curves[1])
        assert lines[1].get_label() == f"dog: AUC {result.auc[1]:.3f}"
    _assert_not_blank(_pixels(figure), colors=10)


def test_curves_of_many_images_label_only_the_mean():
    result = _curves(count=12)
    axes = plot_curves(result).axes[0]
    assert len(axes.get_lines()) == 13
    assert [t.get_text() for t in axes.get_legend().get_texts()] == [
        f"mean: AUC {result.auc.mean():.3f}"
    ]


def test_curves_bad_input_is_named():
    with pytest.raises(
        TypeError, match=r"^result: expected a CausalCurves .*return_curves=True, got ndarray"
    ):
        plot_curves(_curves().auc)
    bad = CausalCurves(np.zeros(3), np.zeros((3, 11)), np.zeros(5))
    with pytest.raises(ValueError, match=r"^result\['x'\]: expected curves \(B, steps \+ 1\)"):
        plot_curves({"x": bad})
    with pytest.raises(ValueError, match=r"^labels: expected 3 strings"):
        plot_curves(_curves(), labels=["a"])


# plot_sanity

LAYERS = ("logits", "conv2", "conv1")


def _sanity(start, stop, images=4, seed=0):
    rows = np.linspace(start, stop, len(LAYERS))[:, None]
    noise = np.random.default_rng(seed).uniform(-0.05, 0.05, (len(LAYERS), images))
    return SanityCheckResult(LAYERS, rows + noise, "spearman")


def test_sanity_draws_one_line_per_method_over_the_layers():
    results = {"Grad-CAM": _sanity(0.8, 0.0), "Guided BP": _sanity(0.95, 0.9, seed=1)}
    figure = plot_sanity(results)
    assert len(figure.axes) == 1
    axes = figure.axes[0]
    lines = _labeled_lines(axes)
    assert [line.get_label() for line in lines] == ["Grad-CAM", "Guided BP"]
    for line, result in zip(lines, results.values()):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(len(LAYERS)))
        np.testing.assert_allclose(line.get_ydata(), result.similarities.mean(axis=1))
    assert [tick.get_text() for tick in axes.get_xticklabels()] == list(LAYERS)
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["Grad-CAM", "Guided BP"]
    assert "spearman" in axes.get_ylabel()
    _assert_not_blank(_pixels(figure), colors=10)


def test_sanity_of_one_result_draws_one_line_without_legend():
    result = _sanity(0.9, 0.1)
    axes = plot_sanity(result).axes[0]
    assert len(axes.get_lines()) == 1 and axes.get_legend() is None
    np.testing.assert_allclose(axes.get_lines()[0].get_ydata(), result.mean)


def test_sanity_bad_input_is_named():
    other = SanityCheckResult(("logits", "conv2"), np.zeros((2, 4)), "spearman")
    with pytest.raises(ValueError, match=r"^result\['b'\]: expected the layers of result\['a'\]"):
        plot_sanity({"a": _sanity(1, 0), "b": other})
    ssim = SanityCheckResult(LAYERS, np.zeros((3, 4)), "ssim")
    with pytest.raises(
        ValueError, match=r"^result\['b'\]: expected the similarity .*'spearman', got 'ssim'"
    ):
        plot_sanity({"a": _sanity(1, 0), "b": ssim})
    with pytest.raises(TypeError, match=r"^result\['a'\]: expected a SanityCheckResult"):
        plot_sanity({"a": np.zeros((3, 4))})
    wrong = SanityCheckResult(LAYERS, np.zeros((2, 4)), "spearman")
    with pytest.raises(ValueError, match=r"^result.similarities: expected shape \(3, B\)"):
        plot_sanity(wrong)


# plot_rendering


def _rendering(colors, snapshot_colors=None, channels=3):
    images = _solid_images(colors).astype(np.float32) / 255.0
    if channels == 1:
        images = images[..., :1]
    snapshots = {}
    if snapshot_colors:
        snapshots = {8: _solid_images(snapshot_colors).astype(np.float32) / 255.0}
    values = np.array([1.25, -0.5, 3.0][: len(colors)])
    return Rendering(images, values, snapshots, {})


def test_rendering_grid_shows_the_images_and_snapshots():
    colors, early = [(250, 120, 10), (20, 200, 90), (60, 60, 230)], [(128, 128, 128)] * 3
    rendering = _rendering(colors, early)
    figure = plot_rendering(rendering, titles=["a", "b", "c"])
    assert len(figure.axes) == (1 + 1) * 3  # a snapshot row and the final row
    pixels = _pixels(figure)
    for axes, color in zip(figure.axes, early + colors):
        np.testing.assert_allclose(_center(figure, pixels, axes).mean(0), color, atol=2)
    assert [axes.get_title() for axes in figure.axes[:3]] == ["a", "b", "c"]
    assert [axes.get_ylabel() for axes in figure.axes[::3]] == ["step 8", "final"]
    assert [axes.get_xlabel() for axes in figure.axes[3:]] == [
        "value 1.25",
        "value -0.5",
        "value 3",
    ]
    _assert_not_blank(pixels, colors=6)
    assert len(plot_rendering(rendering, snapshots=False).axes) == 3


def test_rendering_of_one_channel_images_is_gray():
    figure = plot_rendering(_rendering([(40, 0, 0), (200, 0, 0)], channels=1))
    pixels = _pixels(figure)
    for axes, level in zip(figure.axes, [40, 200]):
        np.testing.assert_allclose(_center(figure, pixels, axes).mean(0), [level] * 3, atol=2)


def test_rendering_bad_input_is_named():
    with pytest.raises(TypeError, match=r"^rendering: expected a tfxai.featurevis.Rendering"):
        plot_rendering(np.zeros((1, 8, 8, 3)))
    bad = Rendering(np.zeros((2, 8, 8, 3)), np.zeros(3), {}, {})
    with pytest.raises(ValueError, match=r"^rendering.values: expected 2 values"):
        plot_rendering(bad)
    snap = Rendering(np.zeros((2, 8, 8, 3)), np.zeros(2), {4: np.zeros((1, 8, 8, 3))}, {})
    with pytest.raises(ValueError, match=r"^rendering.snapshots\[4\]: expected the shape"):
        plot_rendering(snap)


# every plot: no pyplot, inline display


def _all_figures():
    return [
        plot_explanations(_solid_images([RED]), {"m": _half_maps(1)}),
        plot_curves(_curves()),
        plot_sanity(_sanity(1, 0)),
        plot_rendering(_rendering([RED])),
    ]


def test_plots_leave_pyplot_alone_and_display_inline():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    figures = _all_figures()
    assert plt.get_fignums() == before  # nothing registered with pyplot, nothing to show
    for figure in figures:
        png = figure._repr_png_()  # what Jupyter displays when a cell returns the figure
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert matplotlib.get_backend()  # the user's backend is untouched by the plots


@pytest.mark.slow
def test_a_returned_figure_displays_inline_in_a_notebook(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    source = (
        "import numpy as np\nfrom tfxai.viz import plot_sanity\n"
        "from tfxai.metrics import SanityCheckResult\n"
        "plot_sanity(SanityCheckResult(('a', 'b'), np.ones((2, 3))))"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    root = str(__import__("pathlib").Path(tfxai.__file__).parents[1])
    nbclient.NotebookClient(notebook, timeout=300, resources={"metadata": {"path": root}}).execute()
    outputs = notebook.cells[0].outputs
    # One image, once: not `<Figure size ...>` text, not a second copy from pyplot.
    assert [o.output_type for o in outputs] == ["execute_result"]
    assert "image/png" in outputs[0]["data"]


def test_end_to_end_on_real_results(images):
    from tests.conftest import sequential_model

    model = sequential_model()
    batch = images[:2]
    deletion = tfxai.metrics.deletion(model, batch, tfxai.grad_cam, steps=4, return_curves=True)
    sanity = tfxai.metrics.sanity_check(model, batch, tfxai.saliency, layers=["logits", "conv2"])
    figures = [
        plot_explanations(batch, {"Grad-CAM": tfxai.grad_cam(model, batch)}),
        plot_curves({"deletion": deletion}),
        plot_sanity({"Saliency": sanity}),
    ]
    np.testing.assert_array_equal(
        _labeled_lines(figures[1].axes[0])[0].get_ydata(), deletion.curves[0]
    )
    assert [t.get_text() for t in figures[2].axes[0].get_xticklabels()] == list(sanity.layers)
    for figure in figures:
        _assert_not_blank(_pixels(figure), colors=10)
