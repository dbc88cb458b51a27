"""Hand-computed CAMs on a one-conv model: every method against a numpy re-derivation.

The model is `Input(4, 4, 1) -> Conv2D(2, 1x1, "conv") -> head -> Dense(3)` with fixed
weights. A 1x1 conv on one input channel makes the activations `A = act(x * w_k + b_k)`,
and the head makes the gradient of a logit with respect to `A` exact in closed form:

- `gap`:     GlobalAveragePooling2D + Dense: `dS_c/dA_kij = W[k, c] / (h * w)`, the same at
             every position (so Grad-CAM = XGrad-CAM = HiRes-CAM and Grad-CAM++ = Layer-CAM);
- `flatten`: Flatten + Dense: `dS_c/dA_kij = W[(i, j, k), c]`, a different gradient at
             every position (so the five gradient methods all give different maps).

No tfxai code is used to build the expected values: numpy only, in float64.
"""

import functools

import keras
import numpy as np
import pytest

import tfxai

H = W = 4
K = 2
CLASSES = 3
CONV_KERNEL = np.array([1.0, -0.5])  # one 1x1 weight per output channel
CONV_BIAS = np.array([-0.2, 0.3])
GAP_KERNEL = np.array(
    [
        [1.0, -1.0, 0.5],  # (K, classes): a negative channel weight per class
        [-2.0, 1.5, 0.25],
    ]
)
DENSE_BIAS = np.array([0.1, -0.2, 0.0])
IMAGES = np.stack(
    [
        np.array(
            [
                [0.0, 0.1, 0.2, 0.3],
                [0.9, 0.8, 0.7, 0.6],
                [0.4, 0.5, 1.0, 0.05],
                [0.15, 0.35, 0.55, 0.75],
            ]
        ),
        np.array(
            [
                [1.0, 0.9, 0.05, 0.0],
                [0.8, 0.6, 0.3, 0.1],
                [0.2, 0.45, 0.65, 0.7],
                [0.0, 0.25, 0.95, 0.5],
            ]
        ),
    ]
)[..., None].astype(np.float32)  # (2, 4, 4, 1)
TARGETS = [0, 1]  # one class per image
RTOL, ATOL = 1e-5, 1e-6
GRADIENT_METHODS = ["grad_cam", "grad_cam_plus_plus", "xgrad_cam", "layer_cam", "hires_cam"]


def _flatten_kernel():
    """(H * W * K, classes): the GAP weights with a fixed random factor per position."""
    scale = 0.25 + 1.5 * np.random.RandomState(3).uniform(0.0, 1.0, size=(H, W, K, CLASSES))
    return np.round((GAP_KERNEL / (H * W) * scale).reshape(H * W * K, CLASSES), 4)


def _head_kernel(head):
    return GAP_KERNEL if head == "gap" else _flatten_kernel()


def build_model(head="gap", activation="relu", output_activation=None):
    """The one-conv model with the fixed weights above."""
    inputs = keras.Input((H, W, 1))
    x = keras.layers.Conv2D(K, 1, activation=activation, name="conv")(inputs)
    pool = keras.layers.GlobalAveragePooling2D() if head == "gap" else keras.layers.Flatten()
    x = pool(x)
    outputs = keras.layers.Dense(CLASSES, activation=output_activation, name="dense")(x)
    model = keras.Model(inputs, outputs, name=f"one_conv_{head}_{activation}")
    model.get_layer("conv").set_weights(
        [CONV_KERNEL.reshape(1, 1, 1, K).astype(np.float32), CONV_BIAS.astype(np.float32)]
    )
    model.get_layer("dense").set_weights(
        [_head_kernel(head).astype(np.float32), DENSE_BIAS.astype(np.float32)]
    )
    return model


@functools.cache
def shared_model(head="gap", activation="relu", output_activation=None):
    """`build_model`, built once per module for the tests that do not change weights."""
    return build_model(head, activation, output_activation)


# --------------------------------------------------------------------------- numpy model


def np_activations(x, activation="relu"):
    """`A` of shape (B, H, W, K) in float64."""
    z = np.asarray(x, np.float64) * CONV_KERNEL + CONV_BIAS  # (B, H, W, 1) * (K,)
    return np.maximum(z, 0.0) if activation == "relu" else z


def np_logits_from_activations(a, head):
    features = a.mean(axis=(1, 2)) if head == "gap" else a.reshape(len(a), -1)
    return features @ _head_kernel(head) + DENSE_BIAS


def np_logits(x, head, activation="relu"):
    return np_logits_from_activations(np_activations(x, activation), head)


def np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_logit_jacobian(head):
    """`dS_c/dA` for every class: (H, W, K, classes), independent of the input."""
    if head == "gap":
        return np.broadcast_to(GAP_KERNEL / (H * W), (H, W, K, CLASSES))
    return _flatten_kernel().reshape(H, W, K, CLASSES)


def np_gradients(x, targets, head, activation="relu", probabilities=False):
    """`dS/dA` (B, H, W, K) of the target logit, or of its softmax probability."""
    jac = np_logit_jacobian(head)
    grads = []
    for image, c in zip(x, targets):
        if probabilities:  # dp_c/dz_j = p_c (delta_cj - p_j)
            p = np_softmax(np_logits(image[None], head, activation))[0]
            dz = p[c] * (np.eye(CLASSES)[c] - p)
            grads.append(jac @ dz)
        else:
            grads.append(jac[..., c])
    return np.stack(grads)


def np_normalize(maps):
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1.0), 0.0)


def relu(v):
    return np.maximum(v, 0.0)


def np_cam(method, a, g):
    """The raw map (B, H, W) of a gradient method, from its paper's formula."""
    if method == "grad_cam":
        weights = g.mean(axis=(1, 2), keepdims=True)
    elif method == "grad_cam_plus_plus":
        total = a.sum(axis=(1, 2), keepdims=True)
        denom = 2.0 * g**2 + total * g**3
        alpha = np.where(g == 0.0, 0.0, g**2 / np.where(denom == 0.0, 1.0, denom))
        norm = alpha.sum(axis=(1, 2), keepdims=True)
        alpha = alpha / np.where(norm == 0.0, 1.0, norm)
        weights = (alpha * relu(g)).sum(axis=(1, 2), keepdims=True)
    elif method == "xgrad_cam":
        total = a.sum(axis=(1, 2), keepdims=True)
        weights = np.where(
            total == 0.0,
            0.0,
            (a * g).sum(axis=(1, 2), keepdims=True) / np.where(total == 0.0, 1.0, total),
        )
    elif method == "layer_cam":
        weights = relu(g)
    elif method == "hires_cam":
        weights = g
    else:
        raise ValueError(method)
    return relu((weights * a).sum(axis=-1))


def np_eigen_cam(a):
    maps = []
    for image in a:
        flat = image.reshape(H * W, K)
        _, _, vt = np.linalg.svd(flat, full_matrices=False)
        projection = flat @ vt[0]
        if projection.sum() < 0:
            projection = -projection
        maps.append(relu(projection).reshape(H, W))
    return np.stack(maps)


def np_ablation_cam(x, targets, head, channels=None):
    a = np_activations(x)
    maps = []
    for b, (image, c) in enumerate(zip(a, targets)):
        kept = range(K) if channels is None else channels[b]
        base = np_logits_from_activations(image[None], head)[0, c]
        cam = np.zeros((H, W))
        for k in kept:
            ablated = image.copy()
            ablated[..., k] = 0.0
            weight = base - np_logits_from_activations(ablated[None], head)[0, c]
            cam += weight * image[..., k]
        maps.append(relu(cam))
    return np.stack(maps)


def np_score_cam(x, targets, head, channels=None):
    """Layer resolution == input resolution, so the masks need no resize."""
    a = np_activations(x)
    maps = []
    for b, (image, c) in enumerate(zip(x, targets)):
        kept = range(K) if channels is None else channels[b]
        cam = np.zeros((H, W))
        for k in kept:
            act = a[b, ..., k]
            span = act.max() - act.min()
            mask = (act - act.min()) / span if span > 0 else np.zeros_like(act)
            masked = image.astype(np.float64) * mask[..., None]
            weight = np_softmax(np_logits(masked[None], head))[0, c]
            cam += weight * act
        maps.append(relu(cam))
    return np.stack(maps)


def _run(method, model, inputs=IMAGES, target=TARGETS, normalize=False, **options):
    return getattr(tfxai, method)(
        model, inputs, target, layer="conv", normalize=normalize, **options
    )


def _assert_map(got, expected):
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------- the model itself


@pytest.mark.parametrize("head", ["gap", "flatten"])
def test_numpy_model_matches_keras_model(head):
    model = shared_model(head)
    np.testing.assert_allclose(
        model.predict(IMAGES, verbose=0), np_logits(IMAGES, head), rtol=RTOL, atol=ATOL
    )


def test_fixture_exercises_the_relus():
    """The inputs hit both sides of the conv ReLU and the CAM ReLU (else the test is weak)."""
    a = np_activations(IMAGES)
    assert np.any(a == 0.0) and np.all(a.max(axis=(1, 2)) > 0.0)
    assert np.all((GAP_KERNEL[:, TARGETS] < 0.0).any(axis=0))  # a negative channel weight
    pre_relu = (np.broadcast_to(np_logit_jacobian("gap")[..., TARGETS[0]], a.shape[1:]) * a[0]).sum(
        axis=-1
    )
    assert (pre_relu < 0).any() and (pre_relu > 0).any()


# --------------------------------------------------------------------------- gradient CAMs


@pytest.mark.parametrize("activation", ["relu", "linear"])
@pytest.mark.parametrize("head", ["gap", "flatten"])
@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_gradient_method_matches_numpy(method, head, activation):
    model = shared_model(head, activation)
    a = np_activations(IMAGES, activation)
    g = np_gradients(IMAGES, TARGETS, head, activation)
    expected = np_cam(method, a, g)

    raw = _run(method, model)
    normalized = _run(method, model, normalize=True)

    _assert_map(raw, expected)
    _assert_map(normalized, np_normalize(expected))
    np.testing.assert_allclose(normalized.max(axis=(1, 2)), 1.0, rtol=RTOL)


def test_gap_gradient_is_the_dense_weight_over_the_area():
    """Closed form for GAP + Dense: Grad-CAM weight of channel k = W[k, c] / (h * w)."""
    model = shared_model("gap")
    a = np_activations(IMAGES)
    for image, c in zip(range(len(IMAGES)), TARGETS):
        expected = relu((a[image] * (GAP_KERNEL[:, c] / (H * W))).sum(axis=-1))
        got = _run("grad_cam", model, IMAGES[image : image + 1], c)[0]
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_gap_identities_between_methods():
    """With a constant gradient per channel: Grad = XGrad = HiRes and Grad++ = Layer-CAM."""
    model = shared_model("gap")
    maps = {m: _run(m, model) for m in GRADIENT_METHODS}
    for same in ("xgrad_cam", "hires_cam"):
        np.testing.assert_allclose(maps[same], maps["grad_cam"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(maps["layer_cam"], maps["grad_cam_plus_plus"], rtol=RTOL, atol=ATOL)
    # the negative channel weight makes the two groups differ
    assert np.abs(maps["grad_cam"] - maps["layer_cam"]).max() > 1e-3


def test_gradient_methods_give_different_maps():
    """With a per-position gradient (Flatten head) all five methods disagree pairwise."""
    model = shared_model("flatten")
    maps = {m: _run(m, model, normalize=True) for m in GRADIENT_METHODS}
    for i, first in enumerate(GRADIENT_METHODS):
        for second in GRADIENT_METHODS[i + 1 :]:
            gap = np.abs(maps[first] - maps[second]).max()
            assert gap > 1e-2, f"{first} and {second} give the same maps"


def test_relu_of_the_map_matters():
    """Some positions have a negative weighted sum: the map is clipped there, not scaled."""
    model = shared_model("gap")
    a = np_activations(IMAGES)
    g = np_gradients(IMAGES, TARGETS, "gap")
    signed = (g.mean(axis=(1, 2), keepdims=True) * a).sum(axis=-1)
    assert (signed < 0).any()
    raw = _run("grad_cam", model)
    assert np.all(raw[signed < 0] == 0.0)
    np.testing.assert_allclose(raw[signed >= 0], signed[signed >= 0], rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------- logits=True/False


@pytest.mark.parametrize("head", ["gap", "flatten"])
@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_softmax_output_scores_the_logit(method, head):
    """`logits=True` (default) differentiates the pre-softmax logit; `False` the probability."""
    linear = shared_model(head)
    softmax = shared_model(head, output_activation="softmax")
    a = np_activations(IMAGES)

    from_logits = _run(method, softmax)
    from_probabilities = _run(method, softmax, logits=False)

    expected_logit = np_cam(method, a, np_gradients(IMAGES, TARGETS, head))
    expected_probability = np_cam(
        method, a, np_gradients(IMAGES, TARGETS, head, probabilities=True)
    )
    _assert_map(from_logits, expected_logit)
    np.testing.assert_allclose(from_logits, _run(method, linear), rtol=RTOL, atol=ATOL)
    _assert_map(from_probabilities, expected_probability)
    assert np.abs(from_logits - from_probabilities).max() > 1e-3


def test_logits_flag_changes_the_gradient_not_just_its_scale():
    """The probability gradient mixes the classes: after normalization the maps still differ."""
    softmax = shared_model("flatten", output_activation="softmax")
    from_logits = _run("hires_cam", softmax, normalize=True)
    from_probabilities = _run("hires_cam", softmax, normalize=True, logits=False)
    assert np.abs(from_logits - from_probabilities).max() > 1e-2


# --------------------------------------------------------------------------- gradient-free


def test_eigen_cam_matches_numpy_svd():
    model = shared_model("gap")
    expected = np_eigen_cam(np_activations(IMAGES))
    _assert_map(_run("eigen_cam", model), expected)
    _assert_map(_run("eigen_cam", model, normalize=True), np_normalize(expected))
    # class-free: the target does not change the map
    np.testing.assert_array_equal(_run("eigen_cam", model, target=[2, 2]), _run("eigen_cam", model))


@pytest.mark.parametrize("head", ["gap", "flatten"])
def test_ablation_cam_matches_numpy(head):
    model = shared_model(head)
    expected = np_ablation_cam(IMAGES, TARGETS, head)
    _assert_map(_run("ablation_cam", model), expected)
    _assert_map(_run("ablation_cam", model, normalize=True), np_normalize(expected))


def test_ablation_cam_gap_weight_is_dense_weight_times_mean_activation():
    """For GAP + Dense: S - S(A_k = 0) = W[k, c] * mean(A_k)."""
    model = shared_model("gap")
    a = np_activations(IMAGES)
    weights = GAP_KERNEL[:, TARGETS].T * a.mean(axis=(1, 2))  # (B, K)
    expected = relu(np.einsum("bhwk,bk->bhw", a, weights))
    _assert_map(_run("ablation_cam", model), expected)


# the second image darkened: channel 0 = relu(x - 0.2) is off, channel 1 carries the image
TOP_N_IMAGES = IMAGES * np.array([1.0, 0.2], np.float32)[:, None, None, None]


def test_ablation_cam_top_n_keeps_the_largest_mean_channels():
    model = shared_model("flatten")
    channels = np.argsort(-np_activations(TOP_N_IMAGES).mean(axis=(1, 2)), axis=-1)[:, :1]
    np.testing.assert_array_equal(channels[:, 0], [0, 1])  # each image keeps its own
    expected = np_ablation_cam(TOP_N_IMAGES, TARGETS, "flatten", channels)
    _assert_map(_run("ablation_cam", model, TOP_N_IMAGES, top_n=1), expected)


@pytest.mark.parametrize("head", ["gap", "flatten"])
def test_score_cam_matches_numpy(head):
    model = shared_model(head)
    expected = np_score_cam(IMAGES, TARGETS, head)
    _assert_map(_run("score_cam", model), expected)
    _assert_map(_run("score_cam", model, normalize=True), np_normalize(expected))
    # pairs are batched: a batch_size that splits (image, channel) pairs changes nothing
    _assert_map(_run("score_cam", model, batch_size=3), expected)


def test_score_cam_top_n_keeps_the_most_varying_channels():
    model = shared_model("flatten")
    channels = np.argsort(-np_activations(TOP_N_IMAGES).std(axis=(1, 2)), axis=-1)[:, :1]
    np.testing.assert_array_equal(channels[:, 0], [0, 1])  # each image keeps its own
    expected = np_score_cam(TOP_N_IMAGES, TARGETS, "flatten", channels)
    _assert_map(_run("score_cam", model, TOP_N_IMAGES, top_n=1), expected)


def test_score_cam_on_a_softmax_output_uses_one_softmax():
    """logits=True: the softmax of the logits, not a softmax of the probabilities."""
    softmax = shared_model("flatten", output_activation="softmax")
    expected = np_score_cam(IMAGES, TARGETS, "flatten")
    _assert_map(_run("score_cam", softmax), expected)
    assert np.abs(_run("score_cam", softmax, logits=False) - expected).max() > 1e-6


# --------------------------------------------------------------------------- all-zero maps

ALL_METHODS = GRADIENT_METHODS + ["eigen_cam", "score_cam", "ablation_cam"]


def _assert_finite_zeros(maps):
    assert maps.dtype == np.float32 and maps.shape == (len(IMAGES), H, W)
    assert np.all(np.isfinite(maps)), "NaN/Inf in an all-zero map"
    np.testing.assert_array_equal(maps, 0.0)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_zero_activations_give_finite_zero_maps(method):
    """Inputs that switch every conv unit off give A = 0: every map is zero, not NaN."""
    model = build_model("gap")
    model.get_layer("conv").set_weights(
        [np.full((1, 1, 1, K), 1.0, np.float32), np.full((K,), -1.0, np.float32)]
    )
    dead = np.zeros_like(IMAGES)  # relu(0 * 1 - 1) = 0 everywhere
    for normalize in (False, True):
        _assert_finite_zeros(_run(method, model, dead, normalize=normalize))


@pytest.mark.parametrize("method", [m for m in ALL_METHODS if m != "eigen_cam"])
def test_zero_gradient_target_gives_finite_zero_maps(method):
    """A target that does not vary with the layer (0 * logit) gives zeros, not NaN."""
    model = build_model("flatten")
    target = tfxai.from_callable(lambda y: 0.0 * y[:, 0])
    for normalize in (False, True):
        _assert_finite_zeros(_run(method, model, target=target, normalize=normalize))


@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_zero_weight_class_gives_finite_zero_maps(method):
    """A class whose dense column is all zero has a zero gradient everywhere."""
    model = build_model("gap")
    kernel, bias = model.get_layer("dense").get_weights()
    kernel[:, 2] = 0.0
    model.get_layer("dense").set_weights([kernel, bias])
    for normalize in (False, True):
        _assert_finite_zeros(_run(method, model, target=[2, 2], normalize=normalize))
