"""The tf-keras-vis claims of docs/differences.md, checked on small models.

- Grad-CAM, Grad-CAM++, Layer-CAM: the gap to tf-keras-vis is its corner-aligned resize
  (`scipy.ndimage.zoom(order=1)`); tfxai switched to that resize (the benchmark's
  `with_convention`) matches it, while tfxai's default does not.
- Grad-CAM++: tf-keras-vis' exp(score) cancels out of its normalized alphas and only scales
  each map, so reproducing it changes nothing in a normalized map; but it overflows float32
  once a logit passes ~88.7, and tf-keras-vis then returns a non-finite map.
- Guided backprop: tf-keras-vis' `GuidedBackpropagation` modifier guides only layers whose
  `activation` is relu, so on `keras.layers.ReLU` layers it returns the plain gradient.
"""

import importlib.util
import os

import keras
import numpy as np
import pytest
from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
from tf_keras_vis.saliency import Saliency
from tf_keras_vis.utils.model_modifiers import GuidedBackpropagation
from tf_keras_vis.utils.scores import CategoricalScore

import tfxai
from tests.attribution import models
from tests.cam.test_parity import (
    TEST_CLASSES,
    correlations,
    downsampling_case,  # noqa: F401 (a fixture)
    reference_maps,
    tfxai_maps,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:The structure of `inputs` doesn't match:UserWarning"
)

_PATH = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "compare_peers.py")
_SPEC = importlib.util.spec_from_file_location("compare_peers", _PATH)
compare_peers = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(compare_peers)

CLASSES = {
    "grad_cam": tfxai.GradCAM,
    "grad_cam_plus_plus": tfxai.GradCAMPlusPlus,
    "layer_cam": tfxai.LayerCAM,
}


def converted(method, case, **options):
    cls = compare_peers.with_convention(CLASSES[method], **options)
    return cls(case["model"], layer=case["layer"])(case["images"], TEST_CLASSES)


@pytest.mark.parametrize("method", list(CLASSES))
def test_the_resize_convention_accounts_for_the_gap(method, downsampling_case):  # noqa: F811
    expected = reference_maps(method, downsampling_case)
    default = correlations(tfxai_maps(method, downsampling_case), expected)
    switched = correlations(
        converted(method, downsampling_case, resize=compare_peers.resize_corner_aligned),
        expected,
    )
    print(f"\n{method}: default {np.round(default, 4)}, zoom resize {np.round(switched, 6)}")
    assert default.min() < 0.999, default  # the default differs...
    assert np.all(switched >= 0.9999), switched  # ...and the resize is the whole difference


def test_exp_score_cancels_in_normalized_grad_cam_plus_plus(downsampling_case):  # noqa: F811
    default = tfxai_maps("grad_cam_plus_plus", downsampling_case)
    with_exp = converted(
        "grad_cam_plus_plus", downsampling_case, weights=compare_peers.tkv_plus_plus_weights
    )
    np.testing.assert_allclose(with_exp, default, atol=1e-5)
    with_both = converted(
        "grad_cam_plus_plus",
        downsampling_case,
        weights=compare_peers.tkv_plus_plus_weights,
        resize=compare_peers.resize_corner_aligned,
    )
    expected = reference_maps("grad_cam_plus_plus", downsampling_case)
    np.testing.assert_allclose(with_both, expected, atol=1e-4)


def test_exp_score_overflows_in_tf_keras_vis_for_large_logits(downsampling_case):  # noqa: F811
    """Logits scaled past 88.7: exp(score) is inf in float32 and tf-keras-vis' map is not
    finite; tfxai's (no exponential) is finite, and equal to tf-keras-vis' where the score
    does not overflow."""
    model = downsampling_case["model"]
    logits = model.get_layer("logits")
    scaled = keras.layers.Dense(logits.units, name="scaled_logits")
    outputs = scaled(model.get_layer(logits.name).input)
    big = keras.Model(model.inputs, outputs)
    kernel, bias = logits.get_weights()
    scaled.set_weights([kernel * 1000.0, bias * 1000.0])
    images = downsampling_case["images"]
    picked = np.asarray(big(images))[np.arange(len(TEST_CLASSES)), TEST_CLASSES]
    assert picked.max() > 89.0, picked  # at least one score overflows exp in float32
    theirs = np.asarray(
        GradcamPlusPlus(big, clone=False)(
            CategoricalScore(TEST_CLASSES), images, penultimate_layer=downsampling_case["layer"]
        )
    )
    overflowed = picked > 89.0
    assert not np.all(np.isfinite(theirs[overflowed]))
    ours = tfxai.grad_cam_plus_plus(big, images, TEST_CLASSES, layer=downsampling_case["layer"])
    assert np.all(np.isfinite(ours)) and np.all(ours.std(axis=(1, 2)) > 0.05)
    if not np.all(overflowed):
        kept = correlations(ours[~overflowed], theirs[~overflowed])
        assert np.all(kept > 0.95), kept  # only the resize differs there


def test_tf_keras_vis_guided_backprop_is_the_plain_gradient_on_relu_layers():
    inputs = keras.Input((models.H, models.W, models.C))
    x = keras.layers.Flatten()(inputs)
    for units in models.RELU_SIZES[1:-1]:
        x = keras.layers.ReLU()(keras.layers.Dense(units)(x))
    model = keras.Model(inputs, keras.layers.Dense(models.CLASSES)(x))
    model.set_weights([w.astype(np.float32) for pair in models.relu_weights() for w in pair])
    x = models.images(4)
    classes = [0, 1, 2, 0]
    guided = Saliency(model, model_modifier=GuidedBackpropagation(), clone=True)
    theirs = guided(CategoricalScore(classes), x, normalize_map=False)
    plain = tfxai.saliency(model, x, classes, normalize=False)
    np.testing.assert_allclose(theirs, plain, rtol=1e-5, atol=1e-6 * np.abs(plain).max())
    ours = tfxai.guided_backprop(model, x, classes, normalize=False)
    assert np.abs(ours - plain).max() > 0.1 * np.abs(plain).max()  # tfxai does guide them


def test_tf_keras_vis_guides_a_dense_relu_activation():
    """The counterpart: with `Dense(activation="relu")` both libraries guide."""
    model = models.relu_net(style="activation")
    x = models.images(4)
    classes = [0, 1, 2, 0]
    guided = Saliency(model, model_modifier=GuidedBackpropagation(), clone=True)
    theirs = guided(CategoricalScore(classes), x, normalize_map=False)
    ours = tfxai.guided_backprop(model, x, classes, normalize=False)
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-6 * np.abs(ours).max())
