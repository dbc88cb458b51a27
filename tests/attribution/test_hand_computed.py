"""Hand-computed attributions on tiny models with known weights (numpy, float64).

- linear model `x -> Flatten -> Dense`: the gradient of class c is `W[:, c]` everywhere, so
  saliency, gradient x input, IG (exact for any number of steps), SmoothGrad, SquareGrad
  and VarGrad all have closed forms;
- a two-hidden-layer ReLU net: plain and guided gradients derived layer by layer;
- a "region" model whose score is the mean of a pixel region: occlusion and RISE.
"""

import keras
import numpy as np
import pytest

import tfxai.attribution as A
from tests.attribution import models
from tests.conftest import assert_unchanged, snapshot

CLASSES = [2, 0]


@pytest.fixture(scope="module")
def linear():
    return models.linear_model()


def _weights(classes):
    """`W[:, c]` reshaped to one image per class, float64 `(B, H, W, C)`."""
    kernel, _ = models.linear_weights()
    return np.stack([kernel[:, c].reshape(models.H, models.W, models.C) for c in classes])


# --------------------------------------------------------------------------- linear model


def test_saliency_of_a_linear_model_is_the_weight_magnitude(linear):
    x = models.images()
    expected = np.abs(_weights(CLASSES)).max(axis=-1)
    got = A.saliency(linear, x, CLASSES, normalize=False)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    signed = A.saliency(linear, x, CLASSES, normalize=False, keep_sign=True, reduce="mean")
    np.testing.assert_allclose(signed, _weights(CLASSES).mean(axis=-1), rtol=1e-5, atol=1e-6)
    norm = A.saliency(linear, x, CLASSES, normalize=False, reduce="norm")
    np.testing.assert_allclose(norm, np.sqrt((_weights(CLASSES) ** 2).sum(-1)), rtol=1e-6)
    normalized = A.saliency(linear, x, CLASSES)
    low = expected.min(axis=(1, 2), keepdims=True)
    high = expected.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(normalized, (expected - low) / (high - low), atol=1e-6)


def test_gradient_x_input_of_a_linear_model(linear):
    x = models.images()
    per_channel = x * _weights(CLASSES)
    explainer = A.GradientXInput(linear, keep_sign=True)
    np.testing.assert_allclose(explainer.attributions(x, CLASSES), per_channel, rtol=1e-6)
    np.testing.assert_allclose(
        explainer(x, CLASSES, normalize=False), per_channel.sum(-1), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        A.gradient_x_input(linear, x, CLASSES, normalize=False),
        np.abs(per_channel).sum(-1),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("baseline", ["black", "uniform", "blurred", 0.25, "array"])
def test_integrated_gradients_of_a_linear_model_is_exact(linear, baseline):
    """IG of a linear model is `(x - x0) * W` for any steps, and completeness holds."""
    x = models.images()
    if baseline == "array":
        baseline = np.random.RandomState(5).normal(size=x.shape).astype(np.float32)
    explainer = A.IntegratedGradients(linear, baseline=baseline, steps=3, keep_sign=True)
    x0 = explainer.baselines(x, 0)
    expected = (x - x0) * _weights(CLASSES)
    np.testing.assert_allclose(explainer.attributions(x, CLASSES), expected, rtol=1e-5, atol=1e-6)
    maps, delta = explainer(x, CLASSES, normalize=False, return_delta=True)
    np.testing.assert_allclose(maps, expected.sum(-1), rtol=1e-5, atol=1e-5)
    assert delta.shape == (2,) and np.all(np.abs(delta) < 1e-4), delta
    if isinstance(baseline, float):
        np.testing.assert_array_equal(x0, np.full_like(x, 0.25))


def test_integrated_gradients_baselines():
    x = models.images(3)
    ig = A.IntegratedGradients(models.linear_model(), baseline="uniform", seed=3)
    uniform = ig.baselines(x, 0)
    assert np.all(uniform >= x.min(axis=(1, 2, 3), keepdims=True))
    assert np.all(uniform <= x.max(axis=(1, 2, 3), keepdims=True))
    np.testing.assert_array_equal(ig.baselines(x[1:], 1), uniform[1:])  # per global index
    blurred = A.IntegratedGradients(models.linear_model(), baseline="blurred").baselines(x, 0)
    assert blurred.shape == x.shape and blurred.std() < x.std()
    np.testing.assert_allclose(blurred.mean(axis=(1, 2)), x.mean(axis=(1, 2)), atol=0.05)
    constant = np.ones((4, 4, 3), np.float32)
    np.testing.assert_allclose(
        A.IntegratedGradients(models.linear_model(), baseline="blurred").baselines(
            constant[None], 0
        )[0],
        constant,
        rtol=1e-6,
    )


def test_noise_wrappers_of_a_linear_model(linear):
    """The gradient of a linear model does not change with noise."""
    x = models.images()
    weights = _weights(CLASSES)
    smooth = A.smooth_grad(linear, x, CLASSES, samples=5, normalize=False)
    np.testing.assert_allclose(smooth, np.abs(weights).max(-1), rtol=1e-5)
    square = A.SquareGrad(linear, samples=5).attributions(x, CLASSES)
    np.testing.assert_allclose(square, weights**2, rtol=1e-5)
    variance = A.VarGrad(linear, samples=5).attributions(x, CLASSES)
    assert np.abs(variance).max() < 1e-10
    # gradient x input does change with noise: its mean is W * x, its variance W^2 sigma^2
    mean = A.SmoothGrad(linear, "gradient_x_input", samples=400, noise=0.1, keep_sign=True)
    np.testing.assert_allclose(
        mean.attributions(x, CLASSES), weights * x, atol=0.02 * np.abs(weights).max()
    )
    spread = A.VarGrad(linear, "gradient_x_input", samples=400, noise=0.1)
    sigma = 0.1 * (x.max(axis=(1, 2, 3)) - x.min(axis=(1, 2, 3)))[:, None, None, None]
    got = spread.attributions(x, CLASSES)
    expected = weights**2 * sigma**2
    assert abs(got.mean() / expected.mean() - 1) < 0.05


# --------------------------------------------------------------------------- nonlinear


@pytest.fixture(scope="module")
def trained():
    return models.trained_classifier()


def test_integrated_gradients_completeness_on_a_trained_relu_net(trained):
    model, x, y = trained
    scores = model.predict(x, verbose=0)
    zero = model.predict(np.zeros_like(x[:1]), verbose=0)[0]
    change = scores[np.arange(len(x)), y] - zero[y]
    assert np.all(np.abs(change) > 0.5), change  # a real difference to integrate
    _, delta = A.integrated_gradients(model, x, list(y), steps=64, return_delta=True)
    assert np.all(np.abs(delta) <= 0.01 * np.abs(change)), delta / change
    per_channel = A.IntegratedGradients(model, steps=64).attributions(x, list(y))
    np.testing.assert_allclose(per_channel.sum(axis=(1, 2, 3)), change, rtol=0.01)


def test_smooth_grad_without_noise_is_saliency(trained):
    model, x, y = trained
    expected = A.saliency(model, x, list(y), normalize=False)
    for method in ("saliency", A.Saliency, A.Saliency(model)):
        got = A.smooth_grad(model, x, list(y), method=method, noise=0.0, samples=3, normalize=False)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    guided = A.guided_backprop(model, x, list(y), normalize=False)
    got = A.smooth_grad(
        model, x, list(y), method="guided_backprop", noise=0.0, samples=2, normalize=False
    )
    np.testing.assert_allclose(got, guided, rtol=1e-5, atol=1e-7)


def test_noise_is_seeded_and_independent_of_batch_size(trained):
    model, x, y = trained
    explainer = A.SmoothGrad(model, samples=6, seed=4)
    first = explainer(x, list(y))
    np.testing.assert_array_equal(explainer(x, list(y)), first)
    np.testing.assert_allclose(explainer(x, list(y), batch_size=4), first, atol=1e-6)
    np.testing.assert_allclose(explainer(x, list(y), batch_size=5), first, atol=1e-6)
    other = A.smooth_grad(model, x, list(y), samples=6, seed=5)
    assert np.abs(other - first).max() > 1e-3
    assert np.abs(A.saliency(model, x, list(y)) - first).max() > 1e-3
    variance = A.VarGrad(model, samples=6, seed=4)
    np.testing.assert_allclose(variance(x, list(y), batch_size=4), variance(x, list(y)), atol=1e-6)


# --------------------------------------------------------------------------- guided


@pytest.mark.parametrize("style", ["activation", "layers", "nested"])
def test_guided_backprop_matches_the_hand_computed_guided_gradient(style):
    model = models.relu_net(style)
    x = models.images(4, seed=6)
    classes = [0, 1, 2, 1]
    before = snapshot(model)
    outputs = model.predict(x, verbose=0)

    guided = A.GuidedBackprop(model, keep_sign=True).attributions(x, classes)
    expected = models.relu_net_gradients(x, classes, guided=True)
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(guided, expected, rtol=1e-4, atol=1e-6)
    plain = models.relu_net_gradients(x, classes, guided=False)
    assert np.abs(plain - expected).max() > 0.1 * np.abs(expected).max()

    # the model is untouched, and an unguided explainer afterwards sees the plain gradient
    assert_unchanged(before, model)
    assert not any("call" in vars(layer) for _, layer in A.guided.engine_lib.layer_paths(model))
    np.testing.assert_array_equal(model.predict(x, verbose=0), outputs)
    saliency = A.Saliency(model, keep_sign=True).attributions(x, classes)
    np.testing.assert_allclose(saliency, plain, rtol=1e-4, atol=1e-6)


def test_guided_backprop_finds_relus_in_nested_models_only():
    model = models.relu_net("nested")
    found = {layer.name for layer in A.guided.relu_layers(model)}
    assert len(found) == 2 and all(name.startswith(("re_lu", "activation")) for name in found)
    leaky = keras.layers.ReLU(negative_slope=0.1)
    assert not A.guided.ends_in_relu(leaky)
    assert A.guided.ends_in_relu(keras.layers.Conv2D(1, 1, activation="relu"))
    assert not A.guided.ends_in_relu(keras.layers.Conv2D(1, 1, activation="sigmoid"))
    with pytest.warns(UserWarning, match="no layer ending in a ReLU"):
        A.GuidedBackprop(models.linear_model())


def test_guided_grad_cam_is_guided_backprop_times_grad_cam(trained):
    from tfxai import cam

    model, x, y = trained
    layer = model.layers[3].name  # the second conv, 8 x 8
    guided = A.guided_backprop(model, x, list(y), normalize=False)
    grad_cam = cam.grad_cam(model, x, list(y), layer=layer, normalize=False)
    got = A.guided_grad_cam(model, x, list(y), layer=layer, normalize=False)
    np.testing.assert_allclose(got, guided * grad_cam, rtol=1e-5, atol=1e-7 * got.max())
    assert got.max() > 0
    per_channel = A.GuidedGradCAM(model, layer=layer, keep_sign=True).attributions(x, list(y))
    np.testing.assert_allclose(
        per_channel,
        A.GuidedBackprop(model, keep_sign=True).attributions(x, list(y)) * grad_cam[..., None],
        rtol=1e-5,
        atol=1e-7 * np.abs(per_channel).max(),
    )


# --------------------------------------------------------------------------- occlusion, RISE


def _occlusion_by_hand(x, kernel, cls, patch, starts, fill):
    """The mean score drop over the windows covering each pixel, by explicit loops."""
    weights = kernel[:, cls].reshape(x.shape).astype(np.float64)
    total = np.zeros(x.shape[:2])
    count = np.zeros(x.shape[:2])
    for top in starts[0]:
        for left in starts[1]:
            window = (slice(top, top + patch[0]), slice(left, left + patch[1]))
            drop = ((x[window] - fill) * weights[window]).sum()
            total[window] += drop
            count[window] += 1
    return total / count


@pytest.mark.parametrize("fill", [0.0, -0.5, "mean"])
def test_occlusion_on_a_region_mean_model(fill):
    model, kernel = models.region_model(channels=2)
    x = models.images(2, seed=8, size=(16, 16, 2))
    got = A.occlusion(
        model, x, [0, 1], patch=(5, 3), stride=(4, 3), fill=fill, normalize=False, batch_size=7
    )
    starts = ([0, 4, 8, 11], [0, 3, 6, 9, 12, 13])  # 16 - 5 = 11, 16 - 3 = 13: flush ends
    for image, cls, maps in zip(x, [0, 1], got):
        value = image.mean(axis=(0, 1)) if fill == "mean" else fill
        expected = _occlusion_by_hand(image, kernel, cls, (5, 3), starts, value)
        np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-6)


def test_rise_finds_the_region():
    """On an all-ones image, RISE peaks on the region the score averages."""
    model, _ = models.region_model()
    x = np.ones((1, 16, 16, 1), np.float32)
    maps = A.rise(model, x, 0, masks=1500, cell=4, seed=1, normalize=False)[0]
    inside = np.zeros((16, 16), bool)
    inside[models.REGION] = True
    top = np.argsort(maps.ravel())[-inside.sum() :]
    assert inside.ravel()[top].mean() >= 0.75
    assert np.corrcoef(maps.ravel(), inside.ravel())[0, 1] > 0.7
    # far from the region E[f(x * M) M] / p is ~ E[f(x * M)] = p: the excess is the region
    far = maps[13:, :3].mean()
    assert abs(far - 0.5) < 0.03
    excess = np.maximum(maps - far, 0)
    rows, cols = np.mgrid[:16, :16]
    centroid = ((excess * rows).sum() / excess.sum(), (excess * cols).sum() / excess.sum())
    np.testing.assert_allclose(centroid, (6.5, 8.5), atol=1.0)  # the region's center


def test_rise_masks_follow_the_paper():
    rise = A.RISE(models.linear_model(), masks=300, cell=(2, 3), p=0.3, seed=0)
    masks = rise.mask_images((6, 6))
    assert masks.shape == (300, 6, 6)
    assert masks.min() >= 0 and masks.max() <= 1
    assert abs(masks.mean() - 0.3) < 0.03
    assert len(np.unique(np.round(masks, 4))) > 2  # smooth, not binary
    np.testing.assert_array_equal(rise.mask_images((6, 6)), masks)  # seeded
