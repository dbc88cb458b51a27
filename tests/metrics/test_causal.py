"""Deletion and insertion: hand-computed curves on a toy head, then a trained classifier."""

import functools
import math

import numpy as np
import pytest
import tensorflow as tf

import tfxai
import tfxai.metrics  # until tfxai/__init__ imports it
from tests.metrics.conftest import toy_model
from tfxai.metrics import causal, scoring


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


# --------------------------------------------------------------------------- hand computed
# A 3x3 one-channel image with two object pixels (value 1) on a black background, and a
# head whose class-0 logit is 8 * mean(x) (class 1: 0): p0 = sigmoid(8 * object_left / 9).
# steps=4 over 9 pixels changes floor(k * 9 / 4) = 0, 2, 4, 6, 9 pixels: uneven widths.

OBJECT = np.zeros((3, 3), dtype=bool)
OBJECT[1, 1] = OBJECT[1, 2] = True
IMAGE = OBJECT.astype(np.float32)[None, :, :, None]  # (1, 3, 3, 1)
FULL = sigmoid(8 * 2 / 9)  # both object pixels present
EMPTY = 0.5  # none present: logits (0, 0)
FRACTIONS = [0, 2 / 9, 4 / 9, 6 / 9, 1]


def hand_trapezoid(curve):
    return sum((FRACTIONS[i + 1] - FRACTIONS[i]) * (curve[i] + curve[i + 1]) / 2 for i in range(4))


@pytest.mark.parametrize("softmax", [False, True])
def test_deletion_of_a_perfect_map_matches_the_hand_computed_trapezoid(softmax):
    model = toy_model([[8.0, 0.0]], softmax=softmax)
    perfect = OBJECT.astype(np.float32)[None]

    result = tfxai.metrics.deletion(model, IMAGE, perfect, steps=4, return_curves=True)

    # step 1 removes the two most salient pixels, i.e. the whole object
    np.testing.assert_allclose(result.curves[0], [FULL, EMPTY, EMPTY, EMPTY, EMPTY], rtol=1e-6)
    np.testing.assert_allclose(result.fractions, FRACTIONS)
    expected = (2 / 9) * (FULL + EMPTY) / 2 + (7 / 9) * EMPTY
    np.testing.assert_allclose(result.auc, [expected], rtol=1e-6)
    # the area is the uneven-width trapezoid rule over the library's own curve
    np.testing.assert_allclose(result.auc, [hand_trapezoid(result.curves[0])], rtol=1e-6)


@pytest.mark.parametrize("softmax", [False, True])
def test_deletion_of_an_inverted_map_removes_the_object_last(softmax):
    model = toy_model([[8.0, 0.0]], softmax=softmax)
    inverted = 1.0 - OBJECT.astype(np.float32)[None]

    result = tfxai.metrics.deletion(model, IMAGE, inverted, steps=4, return_curves=True)

    np.testing.assert_allclose(result.curves[0], [FULL, FULL, FULL, FULL, EMPTY], rtol=1e-6)
    expected = (6 / 9) * FULL + (3 / 9) * (FULL + EMPTY) / 2
    np.testing.assert_allclose(result.auc, [expected], rtol=1e-6)


@pytest.mark.parametrize("softmax", [False, True])
def test_insertion_of_a_perfect_map_from_a_black_baseline(softmax):
    model = toy_model([[8.0, 0.0]], softmax=softmax)
    perfect = OBJECT.astype(np.float32)[None]

    result = tfxai.metrics.insertion(
        model, IMAGE, perfect, steps=4, baseline=0.0, return_curves=True
    )

    np.testing.assert_allclose(result.curves[0], [EMPTY, FULL, FULL, FULL, FULL], rtol=1e-6)
    expected = (2 / 9) * (EMPTY + FULL) / 2 + (7 / 9) * FULL
    np.testing.assert_allclose(result.auc, [expected], rtol=1e-6)


def reference_curves(mode, images, maps, baseline, kernel, bias, target, steps):
    """Numpy re-derivation, one image and one step at a time (no tfxai code)."""
    count, height, width, _ = images.shape
    pixels = height * width
    counts = [k * pixels // steps for k in range(steps + 1)]
    curves = np.zeros((count, steps + 1))
    for b in range(count):
        order = sorted(range(pixels), key=lambda p: (-maps[b].ravel()[p], p))
        for k, n in enumerate(counts):
            changed = np.zeros(pixels, dtype=bool)
            changed[order[:n]] = True
            changed = changed.reshape(height, width, 1)
            if mode == "deletion":
                x = np.where(changed, baseline, images[b])
            else:
                x = np.where(changed, images[b], baseline)
            logits = x.reshape(pixels, -1).mean(axis=0) @ kernel + bias
            probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
            curves[b, k] = probs[target[b]]
    fractions = np.array(counts) / pixels
    aucs = [
        sum((fractions[i + 1] - fractions[i]) * (c[i] + c[i + 1]) / 2 for i in range(steps))
        for c in curves
    ]
    return curves, np.array(aucs)


@pytest.mark.parametrize("mode", ["deletion", "insertion"])
@pytest.mark.parametrize("softmax", [False, True])
def test_random_case_against_a_step_by_step_reference(mode, softmax):
    rng = np.random.default_rng(7)
    kernel = np.array([[3.0, -1.0], [-2.0, 1.0]])
    bias = np.array([0.1, -0.2])
    images = rng.uniform(0, 1, (3, 5, 4, 2)).astype(np.float32)
    maps = rng.uniform(0, 1, (3, 5, 4)).astype(np.float32)
    baseline = np.array([0.2, 0.7], dtype=np.float32)  # one value per channel
    target = [0, 1, 1]
    model = toy_model(kernel, bias, size=(5, 4), softmax=softmax)
    metric = getattr(tfxai.metrics, mode)

    result = metric(
        model, images, maps, target, steps=3, baseline=baseline, return_curves=True, batch_size=5
    )

    curves, aucs = reference_curves(mode, images, maps, baseline, kernel, bias, target, 3)
    np.testing.assert_allclose(result.curves, curves, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result.auc, aucs, rtol=1e-5, atol=1e-6)
    assert result.auc.dtype == np.float32 and result.auc.shape == (3,)


def test_target_is_fixed_on_the_intact_image_not_re_predicted():
    # bias favours class 1 once the object is gone: re-predicting would switch classes
    model = toy_model([[8.0, 0.0]], bias=[0.0, 1.0])
    perfect = OBJECT.astype(np.float32)[None]

    fixed = tfxai.metrics.deletion(model, IMAGE, perfect, steps=4, return_curves=True)
    class_0 = tfxai.metrics.deletion(model, IMAGE, perfect, target=0, steps=4, return_curves=True)
    class_1 = tfxai.metrics.deletion(model, IMAGE, perfect, target=1, steps=4, return_curves=True)
    predicted = tfxai.metrics.deletion(
        model, IMAGE, perfect, target=tfxai.predicted(), steps=4, return_curves=True
    )

    np.testing.assert_array_equal(fixed.curves, class_0.curves)
    np.testing.assert_array_equal(predicted.curves, class_0.curves)
    assert fixed.curves[0, -1] == pytest.approx(sigmoid(-1.0), rel=1e-6)  # class 0 stays
    np.testing.assert_allclose(class_0.curves + class_1.curves, 1.0, rtol=1e-6)
    np.testing.assert_allclose(class_0.auc + class_1.auc, 1.0, rtol=1e-6)


def test_blur_is_rise_s_11x11_gaussian_with_sigma_5():
    delta = np.zeros((1, 21, 21, 1), dtype=np.float32)
    delta[0, 10, 10, 0] = 1.0

    blurred = causal.blur(delta)[0, :, :, 0]

    support = np.argwhere(blurred > 0)
    assert support.min(axis=0).tolist() == [5, 5] and support.max(axis=0).tolist() == [15, 15]
    assert blurred.sum() == pytest.approx(1.0, rel=1e-5)
    assert blurred[10, 10] == blurred.max()
    constant = np.full((2, 8, 8, 3), 0.3, dtype=np.float32)
    np.testing.assert_allclose(causal.blur(constant), constant, rtol=1e-6)


# --------------------------------------------------------------------------- trained model


def test_perfect_map_beats_a_random_map_on_the_trained_classifier(trained_classifier):
    model, images, _, masks = trained_classifier
    perfect = masks.astype(np.float32)
    rng = np.random.default_rng(0)
    random = rng.uniform(0, 1, masks.shape).astype(np.float32)
    cams = tfxai.grad_cam(model, images, layer="conv2")

    deletion = {
        name: tfxai.metrics.deletion(model, images, maps, steps=16)
        for name, maps in [("perfect", perfect), ("random", random), ("cam", cams)]
    }
    insertion = {
        (name, str(baseline)): tfxai.metrics.insertion(
            model, images, maps, steps=16, baseline=baseline
        ).mean()
        for name, maps in [("perfect", perfect), ("random", random)]
        for baseline in ("blur", 0.0)
    }

    assert deletion["perfect"].mean() < deletion["random"].mean() - 0.2
    assert np.mean(deletion["perfect"] < deletion["random"]) >= 0.9
    assert deletion["cam"].mean() < deletion["random"].mean()
    assert insertion[("perfect", "blur")] > insertion[("random", "blur")]
    assert insertion[("perfect", "0.0")] > insertion[("random", "0.0")] + 0.05


def test_curve_ends_are_the_intact_image_and_the_baseline(trained_classifier):
    model, images, labels, masks = trained_classifier
    probs = model.predict(images, verbose=0)
    at_label = probs[np.arange(len(labels)), labels]
    maps = masks.astype(np.float32)

    deleted = tfxai.metrics.deletion(model, images, maps, steps=8, return_curves=True)
    inserted = tfxai.metrics.insertion(model, images, maps, steps=8, return_curves=True)

    blurred = model.predict(causal.blur(images), verbose=0)[np.arange(len(labels)), labels]
    black = model.predict(np.zeros_like(images), verbose=0)[np.arange(len(labels)), labels]
    np.testing.assert_allclose(deleted.curves[:, 0], at_label, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(deleted.curves[:, -1], black, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(inserted.curves[:, 0], blurred, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(inserted.curves[:, -1], at_label, rtol=1e-5, atol=1e-6)
    assert deleted.curves.shape == (len(images), 9)


@pytest.mark.parametrize("metric", ["deletion", "insertion"])
def test_batch_size_does_not_change_the_result(trained_classifier, metric):
    model, images, _, _ = trained_classifier
    maps = np.random.default_rng(1).uniform(0, 1, images.shape[:3]).astype(np.float32)
    run = functools.partial(
        getattr(tfxai.metrics, metric), model, images, maps, steps=8, return_curves=True
    )

    one, many = run(batch_size=1), run(batch_size=32)

    np.testing.assert_array_equal(one.curves, many.curves)
    np.testing.assert_array_equal(one.auc, many.auc)


def test_altered_images_run_in_batched_compiled_passes(trained_classifier, monkeypatch):
    model, images, _, _ = trained_classifier
    maps = np.random.default_rng(2).uniform(0, 1, images.shape[:3]).astype(np.float32)
    scorer = scoring.scorer_for(model)
    tfxai.metrics.deletion(model, images, maps, steps=8)  # traces what it needs
    traces = scorer.engine.traces
    sizes = []
    original = scoring.ProbabilityScorer.score_batch

    def counting(self, batch, target, params):
        sizes.append(len(batch))
        return original(self, batch, target, params)

    monkeypatch.setattr(scoring.ProbabilityScorer, "score_batch", counting)
    tfxai.metrics.deletion(model, images, maps, steps=8, batch_size=32)

    # 12 images x 9 steps = 108 altered images in ceil(108 / 32) = 4 passes (+1 to predict)
    assert sorted(sizes) == sorted([12, 32, 32, 32, 12])
    assert scorer.engine.traces == traces  # no retrace on a repeated call


def test_explainer_callable_gets_the_fixed_classes_and_matches_its_maps(trained_classifier):
    model, images, _, _ = trained_classifier
    seen = []

    def explainer(model_, inputs, target=None):
        seen.append(target)
        return tfxai.grad_cam(model_, inputs, target=target, layer="conv2")

    from_callable = tfxai.metrics.deletion(model, images, explainer, steps=8)
    predicted = model.predict(images, verbose=0).argmax(-1)
    precomputed = tfxai.metrics.deletion(
        model, images, tfxai.grad_cam(model, images, layer="conv2"), steps=8
    )

    assert seen == [[int(c) for c in predicted]]
    np.testing.assert_array_equal(from_callable, precomputed)


def test_dataset_and_tensor_inputs_give_the_array_result(trained_classifier):
    model, images, _, masks = trained_classifier
    maps = masks.astype(np.float32)
    expected = tfxai.metrics.deletion(model, images, maps, steps=4)

    dataset = tf.data.Dataset.from_tensor_slices(images).batch(5)
    np.testing.assert_array_equal(tfxai.metrics.deletion(model, dataset, maps, steps=4), expected)
    np.testing.assert_array_equal(
        tfxai.metrics.deletion(model, tf.constant(images), tf.constant(maps), steps=4), expected
    )


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"maps": np.zeros((1, 3, 4), np.float32)}, ValueError, r"maps: .*\(1, 3, 3\)"),
        ({"maps": np.zeros((2, 3, 3), np.float32)}, ValueError, r"maps: .*\(1, 3, 3\)"),
        ({"maps": np.zeros((3, 3), np.float32)}, ValueError, r"maps: .*maps\[None\]"),
        ({"maps": np.zeros((1, 3, 3, 1), np.float32)}, ValueError, r"maps: .*maps\[\.\.\., 0\]"),
        ({"maps": np.full((1, 3, 3), np.nan, np.float32)}, ValueError, r"maps: .*NaN"),
        ({"maps": np.array([[["a"] * 3] * 3])}, TypeError, r"maps: "),
        ({"steps": 0}, ValueError, r"steps: .*\[1, 9\].*got 0"),
        ({"steps": 10}, ValueError, r"steps: .*\[1, 9\]"),
        ({"steps": 2.0}, ValueError, r"steps: "),
        ({"steps": True}, ValueError, r"steps: "),
        ({"baseline": "noise"}, ValueError, r"baseline: .*'blur'"),
        ({"baseline": np.zeros((2, 2))}, ValueError, r"baseline: .*broadcastable"),
        ({"baseline": np.nan}, ValueError, r"baseline: .*NaN"),
        ({"batch_size": 0}, ValueError, r"batch_size: "),
        ({"target": 5}, ValueError, r"target: class index 5"),
        (
            {"maps": lambda model, inputs, target=None: np.zeros((1, 2, 2))},
            ValueError,
            r"maps \(returned by <lambda>\): .*\(1, 3, 3\)",
        ),
    ],
)
@pytest.mark.parametrize("metric", ["deletion", "insertion"])
def test_bad_arguments_are_named(metric, kwargs, error, match):
    model = toy_model([[8.0, 0.0]])
    arguments = {"maps": OBJECT.astype(np.float32)[None], "steps": 4}
    arguments.update(kwargs)
    maps = arguments.pop("maps")

    with pytest.raises(error, match=match):
        getattr(tfxai.metrics, metric)(model, IMAGE, maps, **arguments)


def test_bad_inputs_are_named():
    model = toy_model([[8.0, 0.0]])
    with pytest.raises(ValueError, match=r"inputs: .*\(3, 3, 1\)"):
        tfxai.metrics.deletion(
            model, np.zeros((1, 4, 4, 1), np.float32), np.zeros((1, 4, 4), np.float32)
        )
