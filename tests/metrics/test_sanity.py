"""Cascading model-parameter randomization on the trained classifier, and its rules."""

import functools

import keras
import numpy as np
import pytest
import scipy.stats

import tfxai
import tfxai.metrics  # until tfxai/__init__ imports it
from tests.conftest import assert_unchanged, snapshot, subclassed_model
from tfxai.metrics import sanity, similarity

GRAD_CAM = functools.partial(tfxai.grad_cam, layer="conv2")


def test_grad_cam_changes_under_randomization_and_the_model_is_untouched(trained_classifier):
    model, images, _, _ = trained_classifier
    before = snapshot(model)
    weights = [w.copy() for w in model.get_weights()]
    predictions = model.predict(images, verbose=0)

    result = tfxai.metrics.sanity_check(model, images, GRAD_CAM)

    assert result.layers == ("probs", "conv2", "conv1")  # from the top, cumulatively
    assert result.similarities.shape == (3, len(images))
    assert result.mean.shape == (3,)
    print("\nGrad-CAM(conv2) Spearman per step:", np.round(result.mean, 3))
    print(result.to_markdown())
    assert result.mean[-1] < 0.5
    assert np.all(result.mean < 0.5)
    assert np.all(result.similarities <= 1.0) and np.all(result.similarities >= -1.0)
    # the user's model: bit-identical weights, same attributes, same predictions
    assert_unchanged(before, model)
    for old, new in zip(weights, model.get_weights()):
        assert old.tobytes() == new.tobytes()
    np.testing.assert_array_equal(model.predict(images, verbose=0), predictions)


def test_an_explainer_that_ignores_the_model_scores_one_at_every_step(trained_classifier):
    model, images, _, _ = trained_classifier

    def brightness(model_, inputs, target=None):  # the input's edges, whatever the weights
        return np.abs(np.diff(inputs.mean(-1), axis=1, append=0.0)).astype(np.float32)

    result = tfxai.metrics.sanity_check(model, images, brightness)

    np.testing.assert_allclose(result.similarities, 1.0)


def test_target_is_fixed_on_the_intact_model(trained_classifier):
    model, images, _, _ = trained_classifier
    seen = []

    def recording(model_, inputs, target=None):
        seen.append(target)
        return GRAD_CAM(model_, inputs, target=target)

    tfxai.metrics.sanity_check(model, images, recording)

    predicted = [int(c) for c in model.predict(images, verbose=0).argmax(-1)]
    assert seen == [predicted] * 4  # intact + 3 randomized steps, never re-predicted


def test_layers_restrict_and_are_ordered_from_the_top(trained_classifier):
    model, images, _, _ = trained_classifier

    result = tfxai.metrics.sanity_check(
        model, images, GRAD_CAM, layers=["conv1", "probs"], keep_maps=True
    )

    assert result.layers == ("probs", "conv1")
    assert result.maps.shape == (3,) + images.shape[:3]
    np.testing.assert_allclose(result.maps[0], GRAD_CAM(model, images), atol=1e-6)
    again = tfxai.metrics.sanity_check(model, images, GRAD_CAM, layers=["conv1", "probs"])
    np.testing.assert_array_equal(again.similarities, result.similarities)  # same seed
    other = tfxai.metrics.sanity_check(model, images, GRAD_CAM, layers=["probs"], seed=1)
    assert not np.array_equal(other.similarities[0], result.similarities[0])


def test_result_tables(trained_classifier):
    model, images, _, _ = trained_classifier
    result = tfxai.metrics.sanity_check(
        model, images[:2], GRAD_CAM, layers="probs", similarity="ssim"
    )

    table = result.to_markdown()
    as_dict = result.to_dict()

    assert "| 1 | probs |" in table and "mean ssim" in table
    assert as_dict["layers"] == ["probs"] and as_dict["similarity"] == "ssim"
    assert np.asarray(as_dict["per_image"]).shape == (1, 2)
    assert "SanityCheckResult(similarity='ssim', steps=1, images=2" in repr(result)


def test_batchnorm_statistics_are_kept_and_frozen_layers_randomized():
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, name="conv"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2, name="head"),
        ]
    )
    bn = model.get_layer("bn")
    bn.set_weights([np.full(4, 2.0), np.full(4, 0.5), np.full(4, 3.0), np.full(4, 4.0)])
    model.get_layer("conv").trainable = False  # frozen, still a parameter of the model
    images = np.random.default_rng(0).uniform(0, 1, (2, 8, 8, 3)).astype(np.float32)
    before = snapshot(model)

    copy = sanity.copy_model(model, images)
    order = [path for path, _ in sanity.randomization_order(copy)]
    sanity.reinitialize(copy.get_layer("bn"), seed=0)
    sanity.reinitialize(copy.get_layer("conv"), seed=0)

    assert order == ["head", "bn", "conv"]
    gamma, beta, mean, variance = copy.get_layer("bn").get_weights()
    np.testing.assert_array_equal(gamma, 1.0)  # back to its initializer (ones)
    np.testing.assert_array_equal(beta, 0.0)
    np.testing.assert_array_equal(mean, 3.0)  # moving statistics kept
    np.testing.assert_array_equal(variance, 4.0)
    assert not np.array_equal(
        copy.get_layer("conv").get_weights()[0], model.get_layer("conv").get_weights()[0]
    )
    assert_unchanged(before, model)
    assert model.get_layer("conv").trainable is False


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"layers": ["conv3"]}, ValueError, r"layers: no layer 'conv3'.*Closest names: conv"),
        ({"layers": ["pool"]}, ValueError, r"layers: layer 'pool' has no weights"),
        ({"layers": []}, ValueError, r"layers: expected None or at least one"),
        ({"similarity": "kendall"}, ValueError, r"similarity: expected one of"),
        ({"seed": -1}, ValueError, r"seed: "),
        ({"explainer": "grad_cam"}, TypeError, r"explainer: expected a callable"),
        (
            {"explainer": lambda model, inputs, target=None: np.zeros((1, 16, 16))},
            ValueError,
            r"explainer \(returned by <lambda>\): .*\(12, 16, 16\)",
        ),
    ],
)
def test_bad_arguments_are_named(trained_classifier, kwargs, error, match):
    model, images, _, _ = trained_classifier
    arguments = {"explainer": GRAD_CAM}
    arguments.update(kwargs)
    explainer = arguments.pop("explainer")
    with pytest.raises(error, match=match):
        tfxai.metrics.sanity_check(model, images, explainer, **arguments)


def test_a_model_that_cannot_be_cloned_fails_naming_the_model():
    model = subclassed_model()
    images = np.zeros((1, 32, 32, 3), dtype=np.float32)
    with pytest.raises(TypeError, match=r"model: sanity_check randomizes a copy"):
        tfxai.metrics.sanity_check(model, images, tfxai.grad_cam)


# --------------------------------------------------------------------------- similarities


def test_spearman_matches_scipy_and_handles_constant_maps():
    rng = np.random.default_rng(0)
    first = rng.uniform(0, 1, (3, 5, 5))
    second = first + rng.normal(0, 0.3, (3, 5, 5))
    second[2] = np.round(second[2], 1)  # ties

    values = similarity.spearman(first, second)

    expected = [scipy.stats.spearmanr(a.ravel(), b.ravel())[0] for a, b in zip(first, second)]
    np.testing.assert_allclose(values, expected, rtol=1e-10)
    constant = np.zeros((2, 5, 5))
    assert similarity.spearman(constant, first[:2]).tolist() == [0.0, 0.0]
    assert similarity.spearman(constant, constant).tolist() == [1.0, 1.0]
    np.testing.assert_allclose(similarity.pearson(first, 3 * first + 1), 1.0)


def test_ssim_is_one_for_identical_maps_and_lower_otherwise():
    rng = np.random.default_rng(1)
    maps = rng.uniform(0, 1, (2, 16, 16))

    np.testing.assert_allclose(similarity.ssim(maps, maps), 1.0)
    np.testing.assert_allclose(similarity.ssim(maps, 2 * maps + 5), 1.0)  # min-max scaled
    assert np.all(similarity.ssim(maps, rng.uniform(0, 1, (2, 16, 16))) < 0.5)
