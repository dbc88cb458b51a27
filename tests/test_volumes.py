"""3-D volumes `(B, D, H, W, C)`: CAMs and gradient attributions on Conv3D models.

- Hand-computed: a one-Conv3D model with fixed weights whose activations and gradients are
  derived in numpy (float64, no tfxai code): the raw maps of the five gradient CAMs
  (`normalize=False`, the layer at the input size, so no resize), and the resized map
  against a numpy trilinear interpolation; `resize_maps` itself against numpy.
- Saliency against a manual `tf.GradientTape`; Integrated Gradients' completeness.
- The contract: every gradient method and every CAM on Conv3D models of every kind
  (Sequential, Functional, nested backbone, subclassed) gives finite, non-constant maps
  `(B, D, H, W)` in [0, 1] and leaves the model unchanged; a dataset of volumes gives the
  maps of the array.
- Bad input: wrong rank either way, an unbatched dataset, a layer of the wrong rank, a
  model without a 5-D layer, 1x1x1 layers, occlusion and RISE on volumes, metrics.
"""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tests.conftest import assert_unchanged, snapshot
from tfxai.cam import base as cam_base

RNG = np.random.default_rng(0)
D, H, W = 3, 4, 5  # all different, so that a swapped axis shows
K, CLASSES = 2, 3
KERNEL = np.round(RNG.normal(size=(3, 3, 3, 1, K)), 2)  # Conv3D(K, 3, padding=...)
BIAS = np.array([0.1, -0.05])
VOLUMES = RNG.uniform(0, 1, size=(2, D, H, W, 1)).astype(np.float32)
TARGETS = [0, 2]
GRADIENT_CAMS = ["grad_cam", "grad_cam_plus_plus", "xgrad_cam", "layer_cam", "hires_cam"]


# --------------------------------------------------------------------------- numpy reference


def conv3d(x, kernel, bias, padding):
    """numpy Conv3D, stride 1, float64: `x` (B, D, H, W, C), `kernel` (kd, kh, kw, C, K)."""
    kd, kh, kw = kernel.shape[:3]
    if padding == "same":
        x = np.pad(x, [(0, 0), (kd // 2,) * 2, (kh // 2,) * 2, (kw // 2,) * 2, (0, 0)])
    out = np.zeros(
        (len(x), x.shape[1] - kd + 1, x.shape[2] - kh + 1, x.shape[3] - kw + 1, kernel.shape[-1])
    )
    for d, h, w in itertools.product(*(range(n) for n in out.shape[1:4])):
        patch = x[:, d : d + kd, h : h + kh, w : w + kw, :]
        out[:, d, h, w] = np.einsum("bdhwc,dhwck->bk", patch, kernel)
    return out + bias


def linear_resize(maps, size, axis):
    """Linear interpolation of `maps` along `axis` to `size` (half-pixel centers, edges
    clamped): what a bilinear resize does along one axis."""
    n = maps.shape[axis]
    src = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
    low = np.floor(src).astype(int)
    high = np.minimum(low + 1, n - 1)
    t = (src - low).reshape([-1 if a == axis else 1 for a in range(maps.ndim)])
    return np.take(maps, low, axis=axis) * (1 - t) + np.take(maps, high, axis=axis) * t


def trilinear(maps, size):
    """`(B, d, h, w)` maps resized to `size` `(D, H, W)`, one axis after the other."""
    for axis, n in enumerate(size, start=1):
        maps = linear_resize(maps, n, axis)
    return maps


def cam_reference(method, activations, gradients):
    """The raw map of a gradient CAM from `(B, d, h, w, K)` activations and gradients."""
    axes = (1, 2, 3)

    def total(a):
        return a.sum(axis=axes, keepdims=True)

    if method == "grad_cam":
        weights = gradients.mean(axis=axes, keepdims=True)
    elif method == "hires_cam":
        weights = gradients
    elif method == "layer_cam":
        weights = np.maximum(gradients, 0)
    elif method == "xgrad_cam":
        sums = total(activations)
        weights = np.where(sums != 0, total(activations * gradients) / np.where(sums, sums, 1), 0)
    else:  # grad_cam_plus_plus
        g2, g3 = gradients**2, gradients**3
        denominator = 2 * g2 + total(activations) * g3
        alpha = g2 / np.where(denominator == 0, 1, denominator)
        alpha_sum = total(alpha)
        alpha = alpha / np.where(alpha_sum == 0, 1, alpha_sum)
        weights = total(alpha * np.maximum(gradients, 0))
    return np.maximum((weights * activations).sum(axis=-1), 0)


def one_conv_model(padding):
    """Input (D, H, W, 1) -> Conv3D(K, 3, relu, "conv") -> Flatten -> Dense(3): the gradient
    of a logit with respect to the activations is the Dense kernel, one value per voxel."""
    inputs = keras.Input((D, H, W, 1))
    x = keras.layers.Conv3D(K, 3, padding=padding, activation="relu", name="conv")(inputs)
    outputs = keras.layers.Dense(CLASSES, name="dense")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs, name=f"one_conv3d_{padding}")
    model.get_layer("conv").set_weights([KERNEL.astype(np.float32), BIAS.astype(np.float32)])
    size = int(np.prod(model.get_layer("conv").output.shape[1:]))
    dense = np.round(np.random.default_rng(3).normal(0.03, 0.1, size=(size, CLASSES)), 3)
    model.get_layer("dense").set_weights([dense.astype(np.float32), np.zeros(CLASSES, "float32")])
    return model, dense


def hand_maps(method, padding):
    model, dense = one_conv_model(padding)
    activations = np.maximum(conv3d(VOLUMES.astype(np.float64), KERNEL, BIAS, padding), 0)
    shape = activations.shape[1:]
    gradients = np.stack([dense[:, c].reshape(shape) for c in TARGETS])  # dS_c / dA
    return model, cam_reference(method, activations, gradients)


@pytest.mark.parametrize("method", GRADIENT_CAMS)
def test_raw_maps_equal_the_hand_computed_ones(method):
    """'same' padding: the layer is at the input size, so the raw map is not resized."""
    model, expected = hand_maps(method, "same")
    assert expected.shape == (2, D, H, W) and np.all(np.ptp(expected, axis=(1, 2, 3)) > 0.01)
    maps = getattr(tfxai, method)(model, VOLUMES, target=TARGETS, normalize=False)
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-5)
    normalized = getattr(tfxai, method)(model, VOLUMES, target=TARGETS)
    low = expected.min(axis=(1, 2, 3), keepdims=True)
    span = expected.max(axis=(1, 2, 3), keepdims=True) - low
    np.testing.assert_allclose(normalized, (expected - low) / span, atol=1e-5)


@pytest.mark.parametrize("method", ["grad_cam", "hires_cam"])
def test_maps_of_a_smaller_layer_are_resized_trilinearly(method):
    """'valid' padding: the layer is (1, 2, 3), resized to (3, 4, 5) along every axis."""
    model, expected = hand_maps(method, "valid")
    assert expected.shape == (2, D - 2, H - 2, W - 2)
    assert np.all(np.ptp(expected, axis=(1, 2, 3)) > 0.01)
    maps = getattr(tfxai, method)(model, VOLUMES, target=TARGETS, normalize=False)
    np.testing.assert_allclose(maps, trilinear(expected, (D, H, W)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "shape, size",
    [
        ((2, 2, 3, 4), (5, 7, 3)),  # up, up, down
        ((1, 4, 4, 4), (4, 8, 8)),  # depth unchanged
        ((1, 2, 5, 5), (6, 5, 5)),  # depth only
        ((3, 5, 2, 2), (2, 5, 2)),  # depth down only
    ],
)
def test_resize_maps_is_trilinear_with_half_pixel_centers(shape, size):
    maps = RNG.uniform(-1, 1, size=shape)
    resized = cam_base.resize_maps(tf.constant(maps, tf.float32), size).numpy()
    np.testing.assert_allclose(resized, trilinear(maps, size), rtol=1e-5, atol=1e-6)


def test_resize_maps_on_images_is_the_bilinear_resize():
    maps = RNG.uniform(-1, 1, size=(2, 3, 5))
    resized = cam_base.resize_maps(tf.constant(maps, tf.float32), (7, 4)).numpy()
    expected = linear_resize(linear_resize(maps, 7, 1), 4, 2)
    np.testing.assert_allclose(resized, expected, rtol=1e-5, atol=1e-6)


def test_saliency_is_the_manual_tape_gradient():
    keras.utils.set_random_seed(5)
    volumes = np.concatenate([VOLUMES, 1 - VOLUMES], axis=-1)  # two channels: reduce them
    model = keras.Sequential(
        [
            keras.Input((D, H, W, 2)),
            keras.layers.Conv3D(3, 3, padding="same", activation="tanh"),
            keras.layers.Flatten(),
            keras.layers.Dense(CLASSES),
        ]
    )
    x = tf.constant(volumes)
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = tf.gather(model(x), TARGETS, axis=1, batch_dims=1)
    gradients = tape.gradient(scores, x).numpy()
    maps = tfxai.saliency(model, volumes, target=TARGETS, normalize=False)
    np.testing.assert_allclose(maps, np.abs(gradients).max(axis=-1), rtol=1e-5, atol=1e-7)
    per_channel = tfxai.attribution.Saliency(model).attributions(volumes, target=TARGETS)
    np.testing.assert_allclose(per_channel, gradients, rtol=1e-5, atol=1e-7)
    products = tfxai.gradient_x_input(model, volumes, target=TARGETS, normalize=False)
    np.testing.assert_allclose(products, np.abs(gradients * volumes).sum(-1), atol=1e-6)


@pytest.mark.parametrize("baseline", ["black", "blurred", "uniform"])
def test_integrated_gradients_on_volumes_is_complete(baseline):
    model = contract_models()["sequential"]
    ig = tfxai.attribution.IntegratedGradients(model, steps=32, baseline=baseline)
    volumes = contract_volumes()
    _, delta = ig(volumes, target=TARGETS, return_delta=True)
    baselines = ig.baselines(volumes, 0)
    assert baselines.shape == volumes.shape and not np.allclose(baselines, volumes)
    logits = model(volumes).numpy() - model(baselines).numpy()
    gap = np.abs(logits[np.arange(2), TARGETS])
    assert np.all(np.abs(delta) < 0.05 * gap + 1e-4)


def test_array_baselines_of_volumes_one_for_all_or_one_per_volume():
    model = contract_models()["sequential"]
    volumes = contract_volumes()
    single = tfxai.attribution.IntegratedGradients(model, steps=2, baseline=volumes[1])
    np.testing.assert_array_equal(single.baselines(volumes, 0), volumes[[1, 1]])
    per_volume = tfxai.attribution.IntegratedGradients(model, steps=2, baseline=volumes[::-1])
    np.testing.assert_array_equal(per_volume.baselines(volumes, 0), volumes[::-1])
    itself = tfxai.attribution.IntegratedGradients(model, steps=2, baseline=volumes)
    assert np.all(itself(volumes, target=[0, 1], normalize=False) == 0)  # x - x0 = 0
    with pytest.raises(ValueError, match=r"^baseline: got 2 baselines for 3 images"):
        per_volume(np.concatenate([volumes, volumes[:1]]), target=0)


def test_the_blurred_baseline_of_a_volume_is_a_3d_gaussian_blur():
    """A voxel impulse blurs into the outer product of three 1-D Gaussians."""
    volume = np.zeros((1, 9, 9, 9, 1), np.float32)
    volume[0, 4, 4, 4, 0] = 1.0
    blurred = tfxai.attribution.integrated.gaussian_blur(volume, 1.0)[0, ..., 0]
    taps = np.exp(-0.5 * np.arange(-3, 4) ** 2)
    taps = np.pad(taps / taps.sum(), 1)
    expected = np.einsum("i,j,k->ijk", taps, taps, taps)
    np.testing.assert_allclose(blurred, expected, atol=1e-6)


# --------------------------------------------------------------------------- contract

SIZE3 = (6, 8, 8)


def _features():
    return [
        keras.layers.Conv3D(4, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling3D(2, name="pool"),
        keras.layers.Conv3D(6, 3, padding="same", activation="relu", name="conv2"),
    ]


class Subclassed3D(keras.Model):
    def __init__(self):
        super().__init__(name="subclassed3d")
        self.features = keras.Sequential(_features(), name="features")
        self.pool = keras.layers.GlobalAveragePooling3D()
        self.head = keras.layers.Dense(CLASSES, name="head")

    def call(self, inputs, training=False):
        return self.head(self.pool(self.features(inputs, training=training)))


_MODELS = {}


def contract_models():
    """Conv3D models of every kind, `(6, 8, 8, 1)` volumes; conv2 is (3, 4, 4)."""
    if _MODELS:
        return _MODELS
    keras.utils.set_random_seed(11)
    head = [keras.layers.GlobalAveragePooling3D(), keras.layers.Dense(CLASSES)]
    _MODELS["sequential"] = keras.Sequential(
        [keras.Input((*SIZE3, 1)), *_features(), *head], name="sequential3d"
    )
    inputs = keras.Input((*SIZE3, 1))
    x = inputs
    for layer in _features():
        x = layer(x)
    x = keras.layers.GlobalAveragePooling3D()(x)
    outputs = keras.layers.Dense(CLASSES, activation="softmax")(x)
    _MODELS["functional"] = keras.Model(inputs, outputs, name="functional3d")
    backbone = keras.Sequential([keras.Input((*SIZE3, 1)), *_features()], name="backbone")
    _MODELS["nested"] = keras.Sequential(
        [
            keras.Input((*SIZE3, 1)),
            backbone,
            keras.layers.GlobalAveragePooling3D(),
            keras.layers.Dense(CLASSES),
        ],
        name="nested3d",
    )
    subclassed = Subclassed3D()
    subclassed(np.zeros((1, *SIZE3, 1), np.float32))
    _MODELS["subclassed"] = subclassed
    return _MODELS


OPTIONS = {
    "integrated_gradients": {"steps": 4},
    "smooth_grad": {"samples": 3},
    "var_grad": {"samples": 3},
    "square_grad": {"samples": 3},
    "score_cam": {"top_n": 3},
}
VOLUME_METHODS = [name for name in tfxai.methods.METHODS if name not in ("occlusion", "rise")]


def contract_volumes():
    return np.random.default_rng(1).uniform(0, 1, size=(2, *SIZE3, 1)).astype(np.float32)


@pytest.mark.parametrize("kind", ["sequential", "functional", "nested", "subclassed"])
def test_every_volume_method_runs_on_every_kind_of_conv3d_model(kind):
    model = contract_models()[kind]
    before = snapshot(model)
    volumes = contract_volumes()
    for name in VOLUME_METHODS:
        maps = tfxai.methods.METHODS[name](model, **OPTIONS.get(name, {}))(volumes, [0, 1])
        assert maps.shape == (2, *SIZE3) and maps.dtype == np.float32, name
        assert np.all(np.isfinite(maps)) and maps.min() >= 0 and maps.max() <= 1, name
        for volume_map in maps:  # not constant: and its maxima not all in one depth slice
            assert np.ptp(volume_map) > 0.1, name
            assert np.ptp(volume_map.max(axis=(1, 2))) > 0, name
    assert_unchanged(before, model)


def test_the_default_layer_is_the_last_5d_layer_larger_than_1x1x1():
    for kind, model in contract_models().items():
        assert tfxai.GradCAM(model).layer.name == "conv2", kind
    keras.utils.set_random_seed(2)
    deep = keras.Sequential(
        [
            keras.Input((4, 4, 4, 1)),
            keras.layers.Conv3D(3, 3, padding="same", name="big"),
            keras.layers.MaxPooling3D(4, name="tiny"),  # (1, 1, 1, 3): passed over
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    assert tfxai.GradCAM(deep).layer.name == "big"
    flat_depth = keras.Sequential(
        [
            keras.Input((1, 4, 4, 1)),  # depth 1: a single slice is still a volume
            keras.layers.Conv3D(3, 3, padding="same", name="slice"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    maps = tfxai.grad_cam(flat_depth, RNG.uniform(size=(2, 1, 4, 4, 1)), target=[0, 1])
    assert maps.shape == (2, 1, 4, 4) and tfxai.GradCAM(flat_depth).layer.name == "slice"


def test_a_dataset_of_volumes_gives_the_maps_of_the_array():
    model = contract_models()["functional"]
    volumes = np.random.default_rng(2).uniform(0, 1, size=(5, *SIZE3, 1)).astype(np.float32)
    labels = np.array([0, 1, 2, 1, 0])
    for method in ("grad_cam", "saliency"):
        expected = getattr(tfxai, method)(model, volumes, target=labels.tolist())
        dataset = tf.data.Dataset.from_tensor_slices((volumes, labels)).batch(2)
        np.testing.assert_allclose(
            getattr(tfxai, method)(model, dataset, target="labels"), expected, atol=1e-6
        )
        got = getattr(tfxai, method)(model, dataset.map(lambda x, y: x), target=labels.tolist())
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_explain_dataset_streams_volumes(tmp_path):
    model = contract_models()["sequential"]
    volumes = np.random.default_rng(3).uniform(0, 1, size=(5, *SIZE3, 1)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(volumes)  # single volumes: batched by it
    result = tfxai.explain_dataset(
        model, dataset, "grad_cam", tmp_path / "run", target=0, batch_size=2, shard_size=4
    )
    maps = np.asarray(result[:], np.float32)
    expected = tfxai.grad_cam(model, volumes, target=0)
    np.testing.assert_allclose(maps, expected, atol=2e-3)  # stored as float16
    with pytest.raises(ValueError, match=r"the metrics support 2-D images"):
        tfxai.explain_dataset(
            model, volumes, "grad_cam", tmp_path / "metrics", metrics=["deletion"], batch_size=1
        )


def test_a_subclassed_model_without_an_input_shape_takes_the_given_rank():
    """`Subclassed3D` declares no input: the 5-D batch decides."""
    model = contract_models()["subclassed"]
    assert tfxai.inputs.expected_image_shape(model) is None
    assert tfxai.inputs.image_rank(model, 5) == 5
    assert tfxai.inputs.image_rank(model, 4) == 4
    assert tfxai.inputs.image_rank(contract_models()["sequential"], 4) == 5


# --------------------------------------------------------------------------- bad input


def test_an_image_batch_for_a_volume_model_is_refused():
    model = contract_models()["sequential"]
    with pytest.raises(ValueError) as info:
        tfxai.grad_cam(model, np.zeros((2, 8, 8, 1)))
    message = str(info.value)
    assert message.startswith("inputs: expected a batch of volumes of shape (batch, depth, ")
    assert "(None, 6, 8, 8, 1)" in message and "got shape (2, 8, 8, 1)" in message
    with pytest.raises(ValueError, match=r"^inputs: .*got shape \(6, 8, 8, 1\) \(a single volume"):
        tfxai.saliency(model, np.zeros((*SIZE3, 1)))


def test_a_volume_batch_for_an_image_model_is_refused():
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3), keras.layers.Flatten()]
    )
    with pytest.raises(ValueError) as info:
        tfxai.saliency(model, np.zeros((1, 4, 8, 8, 3)))
    message = str(info.value)
    assert message.startswith("inputs: expected a batch of images of shape (batch, height, ")
    assert "(None, 8, 8, 3)" in message and "got shape (1, 4, 8, 8, 3)" in message
    assert "volumes need a model with a 5-D input" in message


def test_a_volume_of_the_wrong_size_names_the_axis():
    model = contract_models()["sequential"]
    with pytest.raises(ValueError, match=r"^inputs: .*expects volumes of shape .*\(depth differ\)"):
        tfxai.grad_cam(model, np.zeros((1, 5, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"^inputs: .*\(width differ\)"):
        tfxai.grad_cam(model, np.zeros((1, 6, 8, 9, 1)))


def test_an_unbatched_dataset_of_volumes_is_refused():
    model = contract_models()["sequential"]
    dataset = tf.data.Dataset.from_tensor_slices(contract_volumes())
    with pytest.raises(ValueError, match=r"^inputs: the dataset yields single volumes of shape"):
        tfxai.grad_cam(model, dataset)


def test_a_layer_of_another_rank_is_refused():
    reshaped = keras.Sequential(
        [
            keras.Input((2, 4, 4, 1)),
            keras.layers.Conv3D(3, 3, padding="same", name="conv3d"),
            keras.layers.Reshape((8, 4, 3), name="as_image"),
            keras.layers.Conv2D(2, 3, padding="same", name="conv2d"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    assert tfxai.GradCAM(reshaped).layer.name == "conv3d"
    with pytest.raises(
        ValueError, match=r"^layer: 'conv2d' has an output of shape \(None, 8, 4, 2\)"
    ) as info:
        tfxai.grad_cam(reshaped, np.zeros((1, 2, 4, 4, 1)), layer="conv2d")
    assert "(batch, depth, height, width, channels)" in str(info.value)


def test_a_volume_model_without_a_5d_layer_is_refused():
    flat = keras.Sequential(
        [keras.Input((2, 4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    with pytest.raises(
        ValueError, match=r"^layer: model .* has no layer with a 5-D \(batch, depth"
    ):
        tfxai.grad_cam(flat, np.zeros((1, 2, 4, 4, 1)))
    maps = tfxai.saliency(flat, RNG.uniform(size=(1, 2, 4, 4, 1)), target=0)  # no layer needed
    assert maps.shape == (1, 2, 4, 4)


def test_1x1x1_layers_warn_that_the_maps_are_constant():
    tiny = keras.Sequential(
        [
            keras.Input((2, 2, 2, 1)),
            keras.layers.Conv3D(3, 2, name="tiny"),  # (1, 1, 1, 3)
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    with pytest.warns(UserWarning, match=r"every 5-D layer of model .* is 1x1"):
        maps = tfxai.grad_cam(tiny, np.ones((1, 2, 2, 2, 1)), target=0)
    assert np.all(maps == 0)


@pytest.mark.parametrize("method", ["occlusion", "rise"])
def test_perturbation_methods_refuse_volumes(method):
    model = contract_models()["sequential"]
    with pytest.raises(
        ValueError, match=r"^inputs: .* supports 2-D images .* got volumes of shape"
    ):
        getattr(tfxai, method)(model, contract_volumes(), target=0)


def test_metrics_refuse_volume_maps():
    model = contract_models()["sequential"]
    volumes = contract_volumes()
    maps = tfxai.grad_cam(model, volumes, target=[0, 1])
    with pytest.raises(ValueError, match=r"^inputs: the metrics support 2-D images .* volumes"):
        tfxai.metrics.deletion(model, volumes, maps, target=[0, 1], steps=2)
    with pytest.raises(ValueError, match=r"^inputs: the metrics support 2-D images .* volumes"):
        tfxai.metrics.average_drop(model, volumes, tfxai.grad_cam, target=[0, 1])
    with pytest.raises(ValueError, match=r"^maps: expected one map per image of shape"):
        tfxai.metrics.pointing_game(maps, maps > 0.5)


def _volume_vit():
    """A Conv3D patch embedding (8x16x16 volumes, 4 px patches: 2x4x4 = 32 tokens), a
    class token's worth of extra token, LayerNorm: token layers on a volume model."""
    volume = keras.Input((8, 16, 16, 1))
    patches = keras.layers.Conv3D(16, 4, strides=4, name="patch")(volume)
    tokens = keras.layers.Reshape((32, 16))(patches)
    tokens = keras.layers.LayerNormalization(name="norm1")(tokens)
    pooled = keras.layers.GlobalAveragePooling1D()(tokens)
    return keras.Model(volume, keras.layers.Dense(2)(pooled))


def test_token_layers_of_a_volume_model_are_not_taken_for_images():
    """The default stays the 5-D patch layer; a chosen token layer is refused by name."""
    model = _volume_vit()
    volumes = np.random.default_rng(0).uniform(size=(2, 8, 16, 16, 1)).astype(np.float32)
    assert tfxai.GradCAM(model).engine.layer_path == "patch"
    assert np.ptp(tfxai.grad_cam(model, volumes)) > 0
    with pytest.raises(ValueError, match=r"^layer: 'norm1' has a \(batch, tokens, channels\)"):
        tfxai.grad_cam(model, volumes, layer="norm1")
