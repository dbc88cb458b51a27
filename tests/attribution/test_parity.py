"""Parity with tf-keras-vis: vanilla saliency, and guided backprop through its model modifier.

tf-keras-vis `Saliency` takes `|gradient|` (its default `gradient_modifier`), the max over
the channels (`keepdims=False`) and normalizes each map with
`(m - min) / (max - min + K.epsilon())`, epsilon 1e-7 (`tf_keras_vis.utils.normalize`).
tfxai normalizes without the epsilon, so the test applies tf-keras-vis's normalization to
tfxai's raw maps (`normalize=False`); the raw maps are compared as well.
"""

import keras
import numpy as np
import pytest
from tf_keras_vis.saliency import Saliency
from tf_keras_vis.utils.model_modifiers import GuidedBackpropagation
from tf_keras_vis.utils.scores import CategoricalScore

import tfxai.attribution as A
from tests.attribution import models

pytestmark = pytest.mark.filterwarnings(
    "ignore:The structure of `inputs` doesn't match:UserWarning"
)

EPSILON = 1e-7  # keras.backend.epsilon(), as tf_keras_vis.utils.normalize uses it


def tkv_normalize(maps):
    """`tf_keras_vis.utils.normalize` re-written: per-map min-max with epsilon."""
    maps = np.asarray(maps, np.float64)
    low = maps.min(axis=(1, 2), keepdims=True)
    high = maps.max(axis=(1, 2), keepdims=True)
    return (maps - low) / (high - low + EPSILON)


@pytest.fixture(scope="module")
def case():
    model, x, y = models.trained_classifier()
    return model, x, [int(c) for c in y]


def test_saliency_matches_tf_keras_vis(case):
    model, x, classes = case
    expected = Saliency(model, clone=False)(CategoricalScore(classes), x)
    got = tkv_normalize(A.saliency(model, x, classes, normalize=False))
    assert expected.shape == got.shape == x.shape[:3]
    assert expected.std() > 0.05
    assert np.abs(got - expected).max() <= 1e-5
    raw = Saliency(model, clone=False)(CategoricalScore(classes), x, normalize_map=False)
    np.testing.assert_allclose(
        A.saliency(model, x, classes, normalize=False),
        raw,
        rtol=1e-5,
        atol=1e-6 * np.abs(raw).max(),
    )
    # tfxai's own normalization differs only by the epsilon
    np.testing.assert_allclose(A.saliency(model, x, classes), expected, atol=1e-4)


def test_saliency_on_a_softmax_model_matches_tf_keras_vis_on_the_logits(case):
    """`logits=True` (default) scores the logits behind a softmax, the same gradient as
    tf-keras-vis on the linear-output model."""
    model, x, classes = case
    softmax = keras.Model(model.inputs, keras.layers.Activation("softmax")(model.output))
    expected = Saliency(model, clone=False)(CategoricalScore(classes), x)
    got = tkv_normalize(A.saliency(softmax, x, classes, normalize=False))
    assert np.abs(got - expected).max() <= 1e-5


def test_guided_backprop_matches_tf_keras_vis_guided_modifier(case):
    """tf-keras-vis clones the model and swaps each relu activation for a guided one."""
    model, x, classes = case
    reference = Saliency(model, model_modifier=GuidedBackpropagation(), clone=True)
    expected = reference(
        CategoricalScore(classes), x, keepdims=True, normalize_map=False, gradient_modifier=None
    )
    got = A.GuidedBackprop(model, keep_sign=True).attributions(x, classes)
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())
    plain = A.Saliency(model, keep_sign=True).attributions(x, classes)
    assert np.abs(plain - got).max() > 0.1 * np.abs(got).max()  # guided is not plain
