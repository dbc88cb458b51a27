"""Binary, multi-label and segmentation heads: what `target=None`, `class_score`, Score-CAM
and the metrics' probabilities mean for each (`tfxai.heads`), on hand-set models."""

import keras
import numpy as np
import pytest

import tfxai
import tfxai.demo
from tfxai.metrics import scoring


def _binary_model(activation="sigmoid"):
    """z = 20 (mean(R) - mean(G)): a 1x1 conv copies R and G into two channels, global
    average pooling, then one logit with weights [20, -20] (positive = "more red")."""
    inputs = keras.Input((8, 8, 3))
    features = keras.layers.Conv2D(2, 1, use_bias=False, name="features")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    outputs = keras.layers.Dense(1, activation=activation, name="decision")(pooled)
    model = keras.Model(inputs, outputs)
    kernel = np.zeros((1, 1, 3, 2), np.float32)
    kernel[0, 0, 0, 0] = kernel[0, 0, 1, 1] = 1.0
    model.get_layer("features").set_weights([kernel])
    model.get_layer("decision").set_weights(
        [np.array([[20.0], [-20.0]], np.float32), np.zeros(1, np.float32)]
    )
    return model


def _images():
    """Image 0: a red patch top-left (z > 0); image 1: a green patch bottom-right (z < 0)."""
    images = np.zeros((2, 8, 8, 3), np.float32)
    images[0, :3, :3, 0] = 1.0
    images[1, 5:, 5:, 1] = 1.0
    return images


RED, GREEN = (slice(0, 3), slice(0, 3)), (slice(5, 8), slice(5, 8))


@pytest.mark.parametrize("method", ["grad_cam", "score_cam", "layer_cam"])
def test_target_none_explains_the_decision_taken(method):
    model = _binary_model()
    maps = getattr(tfxai, method)(model, _images(), layer="features")
    # Image 1 is predicted NEGATIVE: its explanation must point at the green patch, where
    # explaining the positive logit would point at nothing green.
    assert maps[0][RED].min() == pytest.approx(1.0) and maps[0][GREEN].max() == 0
    assert maps[1][GREEN].min() == pytest.approx(1.0) and maps[1][RED].max() == 0


def test_class_score_0_and_1_are_negative_and_positive():
    model = _binary_model()
    images = _images()
    negative = tfxai.grad_cam(model, images[:1], target=0, layer="features", normalize=False)
    positive = tfxai.grad_cam(model, images[:1], target=1, layer="features", normalize=False)
    # Hand computed: d z / d A = [20, -20] / 64 at each of the 64 positions; Grad-CAM's
    # weights are their spatial mean. Positive: relu(20/64 A_R - 20/64 A_G) = 20/64 on red.
    np.testing.assert_allclose(positive[0][RED], 20 / 64, rtol=1e-5)
    np.testing.assert_allclose(positive[0][GREEN], 0, atol=1e-7)
    assert negative.max() == 0  # nothing green in image 0: no evidence for "negative"
    with pytest.raises(ValueError, match=r"target: class index 2 is out of range.*\[0, 1\]"):
        tfxai.grad_cam(model, images, target=2, layer="features")


def test_binary_probabilities_are_the_sigmoid():
    model = _binary_model()
    images = _images()
    logits = 20 * (images[..., 0].mean(axis=(1, 2)) - images[..., 1].mean(axis=(1, 2)))
    scorer = scoring.ProbabilityScorer(model)
    for cls, expected in ((1, 1 / (1 + np.exp(-logits))), (0, 1 / (1 + np.exp(logits)))):
        target = tfxai.class_score(cls)
        got = scorer.probabilities(images, target, target.bind(2), 8)
        np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert list(scorer.predicted_classes(images, 8)) == [1, 0]


def test_binary_deletion_is_not_a_constant():
    model = _binary_model(activation=None)
    images = _images()
    good = tfxai.grad_cam(model, images, layer="features")
    bad = 1.0 - good
    deletion_good = tfxai.metrics.deletion(model, images, good, steps=8, baseline=0.0)
    deletion_bad = tfxai.metrics.deletion(model, images, bad, steps=8, baseline=0.0)
    assert np.all(deletion_good < deletion_bad - 0.05)  # a softmax of one logit gave 1.0 both


def test_multi_label_sigmoid_uses_each_labels_sigmoid():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="sigmoid"),
        ]
    )
    images = np.random.default_rng(0).uniform(size=(4, 8, 8, 3)).astype(np.float32)
    scorer = scoring.ProbabilityScorer(model)
    target = tfxai.class_score([0, 1, 2, 2])
    got = scorer.probabilities(images, target, target.bind(4), 8)
    expected = model.predict(images, verbose=0)[np.arange(4), [0, 1, 2, 2]]
    np.testing.assert_allclose(got, expected, rtol=1e-5)  # not a softmax across labels


def test_segmentation_metrics_stay_in_unit_range():
    model = tfxai.models.load("shapes-unet")
    data = tfxai.datasets.make_shapes(3, seed=77, task="segmentation")
    truth = np.take_along_axis(data.masks, 1 + data.labels[:, None, None, None], -1)[..., 0]
    target = tfxai.mask_score(1 + data.labels, truth > 0.5)
    maps = tfxai.grad_cam(model, data.images, target, layer=tfxai.demo.decoder_layer(model))
    for metric in (tfxai.metrics.deletion, tfxai.metrics.insertion):
        curves = metric(model, data.images, maps, target, steps=6, return_curves=True)
        assert np.all((curves.curves >= 0) & (curves.curves <= 1))
        assert np.all((curves.auc > 0) & (curves.auc <= 1))
    # The mean probability over the mask: hand-computed from the model's softmax.
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(model(data.images), axis=-1))
    expected = [probs[i, ..., 1 + c][truth[i] > 0.5].mean() for i, c in enumerate(data.labels)]
    scorer = scoring.ProbabilityScorer(model)
    got = scorer.probabilities(data.images, target, target.bind(3), 8)
    np.testing.assert_allclose(got, expected, rtol=1e-4)
