import ast
import pathlib

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import ListedColormap

from tfxai.viz import apply_colormap
from tfxai.viz.colormaps import get_colormap

VIZ_DIR = pathlib.Path(__file__).resolve().parents[2] / "tfxai" / "viz"


def test_gray_endpoints_are_black_and_white():
    out = apply_colormap(np.array([[0.0, 1.0]]), "gray")
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[[0, 0, 0], [255, 255, 255]]])


def test_jet_endpoints():
    # jet(0) = (0, 0, 0.5), jet(1) = (0.5, 0, 0); 127.5 rounds half to even.
    out = apply_colormap(np.array([[0.0, 1.0]]))
    np.testing.assert_array_equal(out, [[[0, 0, 128], [128, 0, 0]]])


@pytest.mark.parametrize("name", ["jet", "viridis", "magma", "gray"])
def test_matches_matplotlib_rounded(name):
    heatmap = np.random.default_rng(0).random((5, 7))
    expected = np.rint(matplotlib.colormaps[name](heatmap)[..., :3] * 255)
    out = apply_colormap(heatmap, name)
    assert out.shape == (5, 7, 3)
    np.testing.assert_array_equal(out, expected.astype(np.uint8))


def test_accepts_colormap_object():
    cmap = ListedColormap(["red", "blue"])
    out = apply_colormap(np.array([[0.0, 1.0]]), cmap)
    np.testing.assert_array_equal(out, [[[255, 0, 0], [0, 0, 255]]])


def test_batch_heatmap_colors_each_map():
    heatmaps = np.stack([np.zeros((2, 2)), np.ones((2, 2))])
    out = apply_colormap(heatmaps, "gray")
    assert out.shape == (2, 2, 2, 3)
    assert (out[0] == 0).all() and (out[1] == 255).all()


def test_integer_and_bool_heatmaps_are_values_not_lut_indices():
    np.testing.assert_array_equal(
        apply_colormap(np.array([[0, 1]]), "gray"), [[[0] * 3, [255] * 3]]
    )
    np.testing.assert_array_equal(
        apply_colormap(np.array([[False, True]]), "gray"), [[[0] * 3, [255] * 3]]
    )


@pytest.mark.parametrize(
    "heatmap",
    [np.array([[0.0, 1.5]]), np.array([[-0.1, 0.5]]), np.array([[np.nan, 0.5]])],
)
def test_bad_heatmap_values_raise(heatmap):
    with pytest.raises(ValueError, match="heatmap"):
        apply_colormap(heatmap)


def test_bad_heatmap_rank_raises():
    with pytest.raises(ValueError, match=r"heatmap: expected shape .* got \(5,\)"):
        apply_colormap(np.zeros(5))


def test_unknown_colormap_name_suggests_close_names():
    with pytest.raises(ValueError, match=r"colormap: unknown .*'viridsi'.*viridis"):
        apply_colormap(np.zeros((2, 2)), "viridsi")


def test_colormap_of_wrong_type_raises():
    with pytest.raises(TypeError, match="colormap"):
        get_colormap(3)


def test_viz_never_imports_tensorflow_or_keras():
    for path in sorted(VIZ_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root not in {"tensorflow", "keras", "tf_keras"}, (path, name)
