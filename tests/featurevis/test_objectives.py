"""Objectives: hand-computed scores on fixed activations, composition, argument errors."""

import numpy as np
import pytest
import tensorflow as tf

from tfxai.featurevis import objectives
from tfxai.featurevis.objectives import Context

RNG = np.random.default_rng(0)
ACTS = RNG.normal(size=(3, 4, 5, 6)).astype(np.float32)  # (B, H, W, C) of layer "conv"
LOGITS = RNG.normal(size=(3, 7)).astype(np.float32)
MAP_LOGITS = RNG.normal(size=(3, 8, 8, 4)).astype(np.float32)
IMAGES = RNG.uniform(size=(3, 6, 6, 3)).astype(np.float32)


def score(objective, logits=LOGITS, batch=3):
    ctx = Context({"conv": tf.constant(ACTS)}, tf.constant(logits), tf.constant(IMAGES))
    params = tf.nest.map_structure(tf.constant, objective.bind(batch))
    return objective.score(ctx, params).numpy()


def test_channel_is_the_spatial_mean_of_each_images_channel():
    np.testing.assert_allclose(
        score(objectives.channel("conv", [0, 5, 2])),
        [ACTS[0, ..., 0].mean(), ACTS[1, ..., 5].mean(), ACTS[2, ..., 2].mean()],
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        score(objectives.channel("conv", 4)), ACTS[..., 4].mean(axis=(1, 2)), rtol=1e-5
    )


def test_neuron_is_one_unit_centre_by_default():
    np.testing.assert_allclose(score(objectives.neuron("conv", 3)), ACTS[:, 2, 2, 3])
    np.testing.assert_allclose(
        score(objectives.neuron("conv", [1, 2, 3], y=1, x=4)),
        [ACTS[0, 1, 4, 1], ACTS[1, 1, 4, 2], ACTS[2, 1, 4, 3]],
    )


def test_layer_energy_direction_and_class_logit():
    np.testing.assert_allclose(
        score(objectives.layer_energy("conv")), (ACTS**2).mean(axis=(1, 2, 3)), rtol=1e-5
    )
    vector = np.arange(6, dtype=np.float32) - 2.0
    expected = (ACTS @ (vector / np.linalg.norm(vector))).mean(axis=(1, 2))
    np.testing.assert_allclose(
        score(objectives.direction("conv", vector)), expected, rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(
        score(objectives.class_logit([6, 0, 3])), [LOGITS[0, 6], LOGITS[1, 0], LOGITS[2, 3]]
    )


def test_segmentation_class_averages_the_logit_over_the_region():
    whole = score(objectives.segmentation_class(2), logits=MAP_LOGITS)
    np.testing.assert_allclose(whole, MAP_LOGITS[..., 2].mean(axis=(1, 2)), rtol=1e-5)
    box = score(objectives.segmentation_class([0, 1, 3], region=(2, 1, 5, 4)), logits=MAP_LOGITS)
    np.testing.assert_allclose(
        box,
        [
            MAP_LOGITS[0, 2:5, 1:4, 0].mean(),
            MAP_LOGITS[1, 2:5, 1:4, 1].mean(),
            MAP_LOGITS[2, 2:5, 1:4, 3].mean(),
        ],
        rtol=1e-5,
    )
    mask = np.zeros((8, 8), bool)
    mask[0, 0] = mask[7, 7] = True
    np.testing.assert_allclose(
        score(objectives.segmentation_class(1, region=mask), logits=MAP_LOGITS),
        (MAP_LOGITS[:, 0, 0, 1] + MAP_LOGITS[:, 7, 7, 1]) / 2,
        rtol=1e-5,
    )


def test_diversity_is_minus_the_mean_gram_cosine_to_the_other_images():
    flat = ACTS.reshape(3, -1, 6)
    grams = np.stack([f.T @ f for f in flat]).reshape(3, -1)
    grams /= np.linalg.norm(grams, axis=1, keepdims=True)
    cos = grams @ grams.T
    expected = -(cos.sum(1) - np.diag(cos)) / 2
    np.testing.assert_allclose(score(objectives.diversity("conv")), expected, rtol=1e-4)


def test_regularizers_by_hand():
    np.testing.assert_allclose(
        score(objectives.l1()), np.abs(IMAGES - 0.5).mean((1, 2, 3)), rtol=1e-5
    )
    tv = np.abs(np.diff(IMAGES, axis=1)).mean((1, 2, 3)) + np.abs(np.diff(IMAGES, axis=2)).mean(
        (1, 2, 3)
    )
    np.testing.assert_allclose(score(objectives.total_variation()), tv, rtol=1e-5)
    flat = np.full((1, 6, 6, 3), 0.3, np.float32)
    ctx = Context({}, tf.constant(LOGITS[:1]), tf.constant(flat))
    assert objectives.blur().score(ctx, ()).numpy()[0] == pytest.approx(0.0, abs=1e-7)


def test_composition_returns_a_new_objective_with_both_layers_and_the_batch():
    first = objectives.channel("conv", [0, 1, 2])
    second = objectives.layer_energy("other")
    combined = first - 0.5 * second + objectives.class_logit(1)
    assert combined.layers == ("conv", "other") and combined.batch == 3
    assert first.layers == ("conv",) and second.layers == ("other",)
    ctx = Context(
        {"conv": tf.constant(ACTS), "other": tf.constant(ACTS * 2)},
        tf.constant(LOGITS),
        tf.constant(IMAGES),
    )
    params = tf.nest.map_structure(tf.constant, combined.bind(3))
    expected = (
        ACTS[np.arange(3), ..., [0, 1, 2]].mean((1, 2))
        - 0.5 * ((2 * ACTS) ** 2).mean((1, 2, 3))
        + LOGITS[:, 1]
    )
    np.testing.assert_allclose(combined.score(ctx, params).numpy(), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="same count"):
        _ = first + objectives.channel("conv", [0, 1])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: objectives.channel("conv", -1), "channels"),
        (lambda: objectives.channel("conv", []), "channels"),
        (lambda: objectives.channel("conv", 1.5), "channels"),
        (lambda: objectives.channel(None, 1), "layer"),
        (lambda: objectives.neuron("conv", 1, y=-2), "y"),
        (lambda: objectives.direction("conv", np.zeros(4)), "vector"),
        (lambda: objectives.direction("conv", ["a", "b"]), "vector"),
        (lambda: objectives.class_logit("cat"), "classes"),
        (lambda: objectives.segmentation_class(1, region="centre"), "region"),
    ],
)
def test_bad_arguments_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_checks_against_shapes_name_the_argument():
    shapes = {"logits": (None, 7), "layers": {"conv": (None, 4, 5, 6)}}
    with pytest.raises(ValueError, match="channels: index 6 is out of range"):
        objectives.channel("conv", [1, 6]).check(shapes, 2)
    with pytest.raises(ValueError, match="classes: class index 9"):
        objectives.class_logit(9).check(shapes, 1)
    with pytest.raises(ValueError, match="segmentation_class needs"):
        objectives.segmentation_class(1).check(shapes, 1)
    with pytest.raises(ValueError, match="region: box"):
        objectives.segmentation_class(1, region=(0, 0, 9, 9)).check(
            {"logits": (None, 8, 8, 4), "layers": {}}, 1
        )
    with pytest.raises(ValueError, match="vector: has length 3"):
        objectives.direction("conv", np.ones(3)).check(shapes, 1)
    with pytest.raises(ValueError, match="channels: got 2 values for a batch of 3"):
        objectives.channel("conv", [1, 2]).bind(3)
