"""Average drop and increase in confidence on hand-computed probabilities."""

import math

import numpy as np
import pytest

import tfxai
import tfxai.metrics  # until tfxai/__init__ imports it
from tests.metrics.conftest import toy_model


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


# Two-channel 2x2 images and a head with class-0 logit 4 * (mean(ch0) - mean(ch1)), class-1
# logit 0: p0 = sigmoid(4 * (m0 - m1)). Channel 0 is the object, channel 1 a distractor.
KERNEL = [[4.0, 0.0], [-4.0, 0.0]]
IMAGES = np.zeros((2, 2, 2, 2), dtype=np.float32)
IMAGES[0, :, :, 0] = 1.0  # object everywhere: Y = sigmoid(4)
IMAGES[1, 0, :, 0] = 1.0  # object on the top row ...
IMAGES[1, 1, :, 1] = 1.0  # ... distractor on the bottom row: Y = 0.5
MAPS = np.array(
    [
        np.full((2, 2), 0.5),  # halves everything: O = sigmoid(2), a drop
        [[1.0, 1.0], [0.0, 0.0]],
    ],  # keeps the object, hides the distractor:
    dtype=np.float32,
)  # O = sigmoid(4 * 0.5) = sigmoid(2) > 0.5
TARGET = [0, 0]
Y = [sigmoid(4), 0.5]
O = [sigmoid(2), sigmoid(2)]


@pytest.mark.parametrize("softmax", [False, True])
def test_explanation_scores_are_the_hand_computed_probabilities(softmax):
    model = toy_model(KERNEL, size=(2, 2), softmax=softmax)

    full, explained = tfxai.metrics.explanation_scores(model, IMAGES, MAPS, TARGET)

    np.testing.assert_allclose(full, Y, rtol=1e-6)
    np.testing.assert_allclose(explained, O, rtol=1e-6)


@pytest.mark.parametrize("softmax", [False, True])
def test_average_drop_and_increase_by_hand(softmax):
    model = toy_model(KERNEL, size=(2, 2), softmax=softmax)

    drop = tfxai.metrics.average_drop(model, IMAGES, MAPS, TARGET)
    increase = tfxai.metrics.increase_in_confidence(model, IMAGES, MAPS, TARGET)

    # image 0 drops by (Y - O) / Y; image 1 rises, so it drops by max(0, .) = 0
    expected_drop = 100 * ((sigmoid(4) - sigmoid(2)) / sigmoid(4) + 0.0) / 2
    assert drop == pytest.approx(expected_drop, rel=1e-5)
    assert increase == pytest.approx(50.0)


def test_a_map_of_ones_neither_drops_nor_increases():
    model = toy_model(KERNEL, size=(2, 2))
    ones = np.ones((2, 2, 2), dtype=np.float32)

    assert tfxai.metrics.average_drop(model, IMAGES, ones, TARGET) == pytest.approx(0.0, abs=1e-6)
    assert tfxai.metrics.increase_in_confidence(model, IMAGES, ones, TARGET) == 0.0


def test_target_none_is_the_class_predicted_on_the_image(trained_classifier):
    model, images, labels, masks = trained_classifier
    maps = masks.astype(np.float32)

    by_default = tfxai.metrics.explanation_scores(model, images, maps)
    by_label = tfxai.metrics.explanation_scores(model, images, maps, list(labels))

    np.testing.assert_array_equal(by_default[0], by_label[0])
    np.testing.assert_array_equal(by_default[1], by_label[1])
    batched = tfxai.metrics.average_drop(model, images, maps, batch_size=1)
    assert batched == tfxai.metrics.average_drop(model, images, maps, batch_size=32)
    assert 0.0 <= batched <= 100.0


@pytest.mark.parametrize(
    "maps, match",
    [
        (np.full((2, 2, 2), 1.5, np.float32), r"maps: expected maps in \[0, 1\]"),
        (np.full((2, 2, 2), -0.1, np.float32), r"maps: expected maps in \[0, 1\]"),
        (np.zeros((2, 2, 3), np.float32), r"maps: .*\(2, 2, 2\)"),
        (np.full((2, 2, 2), np.nan, np.float32), r"maps: .*NaN"),
    ],
)
@pytest.mark.parametrize("metric", ["average_drop", "increase_in_confidence"])
def test_bad_maps_are_named(metric, maps, match):
    model = toy_model(KERNEL, size=(2, 2))
    with pytest.raises(ValueError, match=match):
        getattr(tfxai.metrics, metric)(model, IMAGES, maps, TARGET)
