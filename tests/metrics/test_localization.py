"""Pointing game, energy pointing game and IoU on hand-checked tiny maps and masks."""

import numpy as np
import pytest
import tensorflow as tf

import tfxai
import tfxai.metrics  # until tfxai/__init__ imports it

MASK = np.zeros((6, 6), dtype=bool)
MASK[1:3, 1:4] = True  # a 2x3 object in the top-left corner


def peak_at(row, col, shape=(6, 6)):
    saliency = np.full(shape, 0.1, dtype=np.float32)
    saliency[row, col] = 1.0
    return saliency


# --------------------------------------------------------------------------- pointing game


def test_pointing_game_hits_a_perfect_map_and_misses_an_off_object_peak():
    maps = np.stack([MASK.astype(np.float32), peak_at(2, 2), peak_at(5, 5)])

    hits = tfxai.metrics.pointing_game(maps, np.stack([MASK] * 3), tolerance=0)

    assert hits.dtype == bool and hits.tolist() == [True, True, False]
    assert tfxai.metrics.pointing_game(maps[:1], MASK[None], tolerance=0).mean() == 1.0
    assert tfxai.metrics.pointing_game(maps[2:], MASK[None], tolerance=0).mean() == 0.0


def test_pointing_game_tolerance_is_a_euclidean_distance_to_the_mask():
    maps = peak_at(5, 3)[None]  # 3 rows below the mask's last row (2), inside its columns
    diagonal = peak_at(5, 5)[None]  # (5, 5) to the nearest mask pixel (2, 3): sqrt(9 + 4)

    assert tfxai.metrics.pointing_game(maps, MASK[None], tolerance=3).tolist() == [True]
    assert tfxai.metrics.pointing_game(maps, MASK[None], tolerance=2.9).tolist() == [False]
    assert tfxai.metrics.pointing_game(diagonal, MASK[None], tolerance=np.sqrt(13)).tolist() == [
        True
    ]
    assert tfxai.metrics.pointing_game(diagonal, MASK[None], tolerance=3.6).tolist() == [False]
    assert tfxai.metrics.pointing_game(diagonal, MASK[None]).tolist() == [True]  # 15 px


def test_pointing_game_ties_and_constant_maps():
    tie = peak_at(5, 5)
    tie[1, 1] = 1.0  # a second maximum, on the object
    constant = np.zeros((6, 6), dtype=np.float32)  # e.g. an all-zero CAM: points nowhere

    hits = tfxai.metrics.pointing_game(np.stack([tie, constant]), MASK, tolerance=0)

    assert hits.tolist() == [True, False]


def test_pointing_game_accepts_shared_integer_and_tensor_masks():
    maps = np.stack([peak_at(1, 1), peak_at(4, 4)])
    expected = [True, False]

    assert tfxai.metrics.pointing_game(maps, MASK, tolerance=0).tolist() == expected
    assert (
        tfxai.metrics.pointing_game(maps, MASK.astype(np.uint8), tolerance=0).tolist() == expected
    )
    assert (
        tfxai.metrics.pointing_game(
            tf.constant(maps), tf.constant(np.stack([MASK] * 2)), tolerance=0
        ).tolist()
        == expected
    )


def test_pointing_game_on_trained_grad_cam(trained_classifier):
    model, images, _, masks = trained_classifier
    cams = tfxai.grad_cam(model, images, layer="conv2")

    assert tfxai.metrics.pointing_game(cams, masks, tolerance=0).mean() >= 0.75


# --------------------------------------------------------------------------- energy

L_MASK = np.zeros((4, 4), dtype=bool)
L_MASK[0:3, 0] = True
L_MASK[2, 0:3] = True  # an L: its bounding box rows 0-2, cols 0-2 has 9 pixels, mask 5
ENERGY_MAP = np.arange(16, dtype=np.float32).reshape(4, 4) / 15.0  # values 0..15 / 15


def test_energy_pointing_game_by_hand():
    total = sum(range(16))  # 120
    box = sum([0, 1, 2, 4, 5, 6, 8, 9, 10])  # rows 0-2, cols 0-2: 45
    mask = sum([0, 4, 8, 9, 10])  # 31

    energy_box = tfxai.metrics.energy_pointing_game(ENERGY_MAP[None], L_MASK[None])
    energy_mask = tfxai.metrics.energy_pointing_game(ENERGY_MAP[None], L_MASK[None], region="mask")

    np.testing.assert_allclose(energy_box, [box / total], rtol=1e-6)
    np.testing.assert_allclose(energy_mask, [mask / total], rtol=1e-6)
    assert energy_box.dtype == np.float32


def test_energy_pointing_game_extremes():
    inside = np.where(L_MASK, 1.0, 0.0)[None].astype(np.float32)
    zero = np.zeros((1, 4, 4), dtype=np.float32)
    maps = np.concatenate([inside, zero, 1.0 - inside])

    energy = tfxai.metrics.energy_pointing_game(maps, L_MASK, region="mask")

    np.testing.assert_allclose(energy, [1.0, 0.0, 0.0])


# --------------------------------------------------------------------------- IoU


def test_iou_by_hand():
    maps = np.zeros((2, 4, 4), dtype=np.float32)
    maps[0, 0:2, 0:2] = 0.9  # 4 pixels, 2 on the L (0,0), (1,0): union 5 + 4 - 2 = 7
    maps[1] = np.where(L_MASK, 0.5, 0.49)  # exactly the L at threshold 0.5 (>=)

    scores = tfxai.metrics.iou(maps, L_MASK)

    np.testing.assert_allclose(scores, [2 / 7, 1.0], rtol=1e-6)
    np.testing.assert_allclose(
        tfxai.metrics.iou(maps, L_MASK, threshold=0.45), [2 / 7, 5 / 16], rtol=1e-6
    )
    assert scores.dtype == np.float32


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("metric", ["pointing_game", "energy_pointing_game", "iou"])
@pytest.mark.parametrize(
    "maps, masks, match",
    [
        (np.zeros((2, 6, 6)), np.zeros((3, 6, 6), bool), r"masks: .*\(2, 6, 6\)"),
        (np.zeros((2, 6, 6)), np.zeros((2, 5, 6), bool), r"masks: .*\(2, 6, 6\)"),
        (np.zeros((2, 6, 6)), np.full((2, 6, 6), 2), r"masks: .*0/1"),
        (np.zeros((2, 6, 6)), np.zeros((2, 6, 6), bool), r"masks: mask 0 is empty"),
        (np.full((2, 6, 6), np.nan), np.stack([MASK] * 2), r"maps: .*NaN"),
        (np.zeros((6, 6)), MASK, r"maps: .*maps\[None\]"),
        (np.array([[["x"] * 6] * 6]), MASK, r"maps: "),
    ],
)
def test_bad_maps_and_masks_are_named(metric, maps, masks, match):
    with pytest.raises((TypeError, ValueError), match=match):
        getattr(tfxai.metrics, metric)(maps, masks)


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: tfxai.metrics.pointing_game(peak_at(1, 1)[None], MASK, tolerance=-1),
            r"tolerance: ",
        ),
        (
            lambda: tfxai.metrics.energy_pointing_game(-peak_at(1, 1)[None], MASK),
            r"maps: expected non-negative",
        ),
        (
            lambda: tfxai.metrics.energy_pointing_game(peak_at(1, 1)[None], MASK, region="disk"),
            r"region: ",
        ),
        (
            lambda: tfxai.metrics.iou(peak_at(1, 1)[None], MASK, threshold=float("nan")),
            r"threshold: ",
        ),
    ],
)
def test_bad_options_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
