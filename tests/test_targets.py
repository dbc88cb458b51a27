"""Targets: hand-checked scores, shorthands and arithmetic that returns new objects."""

import numpy as np
import pytest
import tensorflow as tf

from tfxai import targets

LOGITS = np.array([[1.0, 5.0, -2.0], [0.5, -1.0, 3.0]], np.float32)


def _score(target, outputs, batch=2):
    return target.score(
        tf.constant(outputs), tf.nest.map_structure(tf.constant, target.bind(batch))
    ).numpy()


def test_shorthands():
    np.testing.assert_array_equal(_score(targets.to_target(None), LOGITS), [5.0, 3.0])
    np.testing.assert_array_equal(_score(targets.to_target(0), LOGITS), [1.0, 0.5])
    np.testing.assert_array_equal(_score(targets.to_target([2, 1]), LOGITS), [-2.0, -1.0])
    np.testing.assert_array_equal(_score(targets.to_target(np.array([1, 0])), LOGITS), [5.0, 0.5])
    np.testing.assert_array_equal(
        _score(targets.to_target(lambda y: y[:, 0] - y[:, 2]), LOGITS), [3.0, -2.5]
    )


def test_arithmetic_returns_new_targets_and_combines_scores():
    a, b = targets.class_score(1), targets.class_score([0, 2])
    combined = 2 * a - b / 4 + 1
    assert combined is not a and combined is not b
    np.testing.assert_allclose(_score(combined, LOGITS), [2 * 5 - 1 / 4 + 1, 2 * -1 - 3 / 4 + 1])
    np.testing.assert_array_equal(_score(a, LOGITS), [5.0, -1.0])  # a is unchanged
    np.testing.assert_allclose(_score(-a, LOGITS), [-5.0, 1.0])
    np.testing.assert_allclose(_score(1 - a, LOGITS), [-4.0, 2.0])
    assert targets.class_score(1).key == targets.class_score([4, 4]).key  # shared graph


def test_mask_score_sums_the_class_logit_over_the_mask():
    outputs = np.arange(2 * 2 * 2 * 3, dtype=np.float32).reshape(2, 2, 2, 3)
    mask = np.array([[1, 0], [0, 1]], bool)
    expected = [
        outputs[0, 0, 0, 2] + outputs[0, 1, 1, 2],
        outputs[1, 0, 0, 2] + outputs[1, 1, 1, 2],
    ]
    np.testing.assert_allclose(_score(targets.mask_score(2, mask), outputs), expected)
    per_sample = np.stack([mask, ~mask])
    expected[1] = outputs[1, 0, 1, 0] + outputs[1, 1, 0, 0]
    np.testing.assert_allclose(_score(targets.mask_score([2, 0], per_sample), outputs), expected)


def test_predicted_on_dense_outputs_uses_the_pixels_of_the_predicted_class():
    outputs = np.zeros((1, 2, 2, 2), np.float32)
    outputs[0, :, :, 1] = [[3.0, -1.0], [2.0, -5.0]]  # class 1 mean -0.25
    outputs[0, :, :, 0] = [[0.0, 0.0], [0.0, 1.0]]  # class 0 mean 0.25 wins
    # class 0 is predicted at pixels where it beats class 1: (0,1) and (1,1)
    np.testing.assert_allclose(_score(targets.predicted(), outputs, batch=1), [0.0 + 1.0])


def test_bad_targets():
    with pytest.raises(TypeError, match="target: expected None"):
        targets.to_target("cat")
    with pytest.raises(ZeroDivisionError):
        targets.class_score(1) / 0
    with pytest.raises(ValueError, match=r"mask: expected one mask per sample \(3\)"):
        targets.mask_score(0, np.ones((2, 4, 4))).bind(3)
    with pytest.raises(ValueError, match="target: class index 5 is out of range"):
        targets.class_score([1, 5]).check((None, 5), 2)
