"""`tfxai.viz.volume_slices`: a 3-D map over its volume, on evenly spaced slices.

The tiles drawn are read back from the figure and compared with the overlay of the
expected slice (cut across the right axis, at the right index, with the volume scaled to
[0, 1] over all its voxels), so a swapped axis or a per-slice rescaling would show.
"""

import numpy as np
import pytest
from matplotlib.figure import Figure

import tfxai
from tfxai.viz import overlay, volume_slices
from tfxai.viz.volumes import slice_indices

D, H, W = 5, 6, 7


def _volume_and_cam():
    """A CT-like volume (Hounsfield-like values) and a map in [0, 1], no two axes alike."""
    d, h, w = np.meshgrid(np.arange(D), np.arange(H), np.arange(W), indexing="ij")
    volume = -1000.0 + 100.0 * d + 10.0 * h + 1.0 * w  # (D, H, W), values in [-1000, -544]
    cam = (d / (D - 1)) * (h / (H - 1))  # in [0, 1]
    return volume, cam


def _expected_tile(volume, cam, axis, index):
    scaled = (volume - volume.min()) / (volume.max() - volume.min())
    image = np.rint(np.take(scaled, index, axis=axis) * 255).astype(np.uint8)
    return overlay(image[..., None], np.take(cam, index, axis=axis), alpha=0.5)


def test_slice_indices_are_evenly_spaced_with_both_ends():
    np.testing.assert_array_equal(slice_indices(10, 4), [0, 3, 6, 9])
    np.testing.assert_array_equal(slice_indices(5, 5), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(slice_indices(7, 1), [3])
    np.testing.assert_array_equal(slice_indices(6, 2), [0, 5])


@pytest.mark.parametrize("axis, count", [(0, 3), (1, 4), (2, 2), (-1, 7)])
def test_each_tile_is_the_overlay_of_its_slice(axis, count):
    volume, cam = _volume_and_cam()
    figure = volume_slices(volume, cam, axis=axis, count=count, title="case 1")
    assert isinstance(figure, Figure) and figure.get_suptitle() == "case 1"
    tiles = [axes for axes in figure.axes if axes.images]
    assert len(tiles) == count and len(figure.axes) == count + 1  # and the colorbar
    name = ("depth", "height", "width")[axis]
    indices = slice_indices(volume.shape[axis], count)
    for axes, index in zip(tiles, indices):
        assert axes.get_xlabel() == f"{name} {index}"
        drawn = np.asarray(axes.images[0].get_array())
        np.testing.assert_array_equal(drawn, _expected_tile(volume, cam, axis, index))
    assert figure.axes[-1].get_ylim() == (0.0, 1.0)


def test_a_volume_with_channels_and_an_explainer_map():
    volume, cam = _volume_and_cam()
    figure = volume_slices(volume[..., None], cam, count=2)  # (D, H, W, 1), as a model takes
    tiles = [axes for axes in figure.axes if axes.images]
    np.testing.assert_array_equal(
        tiles[1].images[0].get_array(), _expected_tile(volume, cam, 0, D - 1)
    )


def test_the_default_count_is_six_or_every_slice_of_a_shorter_axis():
    volume, cam = _volume_and_cam()
    figure = volume_slices(volume, cam)  # depth 5: every slice
    assert [axes.get_xlabel() for axes in figure.axes[:-1]] == [f"depth {i}" for i in range(D)]
    figure = volume_slices(volume, cam, axis=2)  # width 7: six of them
    assert [axes.get_xlabel() for axes in figure.axes[:-1]] == [
        f"width {i}" for i in (0, 1, 2, 4, 5, 6)
    ]


@pytest.mark.parametrize(
    "volume, cam, options, pattern",
    [
        (np.zeros((2, D, H, W, 1)), None, {}, r"^volume: expected one volume .*\(a batch\?"),
        (np.zeros((D, H, W, 2)), None, {}, r"^volume: expected one volume of shape"),
        (None, np.zeros((1, D, H, W)), {}, r"^cam: expected one map of the volume's shape"),
        (None, np.zeros((D, H, W + 1)), {}, r"^cam: expected one map .*got shape \(5, 6, 8\)"),
        (None, np.full((D, H, W), 2.0), {}, r"^cam: expected values in \[0.0, 1.0\]"),
        (None, None, {"axis": 3}, r"^axis: expected 0 \(depth\), 1 \(height\) or 2"),
        (None, None, {"count": 0}, r"^count: expected an integer in \[1, 5\] \(the depth"),
        (None, None, {"axis": 2, "count": 8}, r"^count: expected an integer in \[1, 7\]"),
        (None, None, {"alpha": 2}, r"^alpha: expected a number in \[0, 1\]"),
    ],
)
def test_bad_arguments_name_themselves(volume, cam, options, pattern):
    good_volume, good_cam = _volume_and_cam()
    volume = good_volume if volume is None else volume
    cam = good_cam if cam is None else cam
    with pytest.raises(ValueError, match=pattern):
        tfxai.viz.volume_slices(volume, cam, **options)
