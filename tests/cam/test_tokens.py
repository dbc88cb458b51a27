"""CAMs on vision-transformer token layers `(B, N, D)` (tfxai.tokens).

A hand-computed token model checks every CAM against numpy, with a 2x3 grid of distinct
tokens so that a transposed or shifted grid fails; small ViTs built from Keras layers
(tests/vit_models.py, a class-token and a GAP-pooled one) check the grid inference, the
default layer, the zero-influence error and the maps against a manual GradientTape.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tests.conftest import assert_unchanged, snapshot
from tests.vit_models import LeadingTokens, vit
from tfxai import cam, token_influence, tokens
from tfxai.engine import resolve_layer

# ----------------------------------------------------------------- the hand-computed model
# image (2, 3, 1) -> 1x1 Conv2D "embed" (one patch per pixel, 2 channels, linear)
# -> Reshape to 6 tokens -> a class token in front (7 tokens: "tokens")
# -> Flatten -> Dense(3): the logit's gradient at token n, channel k is KERNEL[2n + k, c].
EMBED_W = np.array([1.0, -0.5])
EMBED_B = np.array([-0.2, 0.3])
CLASS_TOKEN = np.array([0.7, -0.4])
KERNEL = np.random.default_rng(7).normal(size=(14, 3))
BIAS = np.array([0.1, -0.2, 0.0])
IMAGES = np.array(
    [
        [[0.0, 0.9, 0.2], [0.6, 0.1, 1.0]],
        [[1.0, 0.3, 0.05], [0.2, 0.8, 0.45]],
    ]
)[..., None].astype(np.float32)  # (2, 2, 3, 1): rows of 3, nothing symmetric
TARGETS = [0, 2]


def _token_model():
    inputs = keras.Input((2, 3, 1), name="image")
    x = keras.layers.Conv2D(2, 1, name="embed")(inputs)
    x = keras.layers.Reshape((6, 2), name="patches")(x)
    x = LeadingTokens(1, name="tokens")(x)
    x = keras.layers.Flatten(name="flat")(x)
    outputs = keras.layers.Dense(3, name="logits")(x)
    model = keras.Model(inputs, outputs, name="token_model")
    model.get_layer("embed").set_weights([EMBED_W.reshape(1, 1, 1, 2), EMBED_B])
    model.get_layer("tokens").set_weights([CLASS_TOKEN.reshape(1, 1, 2)])
    model.get_layer("logits").set_weights([KERNEL, BIAS])
    return model


def _numpy_parts(images=IMAGES):
    """Patch activations `(B, 2, 3, K)` (row-major grid) and gradients, numpy float64."""
    grid = images.astype(np.float64) * EMBED_W + EMBED_B  # (B, 2, 3, 2)
    grads = np.stack([KERNEL[2:, c].reshape(2, 3, 2) for c in TARGETS])  # token n = 1 + 3i + j
    return grid, grads


def _logits(images):
    """The model in numpy: class token + patch tokens, flattened, dense."""
    grid = images.astype(np.float64) * EMBED_W + EMBED_B
    seq = np.concatenate(
        [np.broadcast_to(CLASS_TOKEN, (len(images), 1, 2)), grid.reshape(-1, 6, 2)], 1
    )
    return seq.reshape(len(images), -1) @ KERNEL + BIAS


def _expected(method):
    a, g = _numpy_parts()
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    if method == "grad_cam":
        w = g.mean(axis=(1, 2), keepdims=True)
    elif method == "hires_cam":
        w = g
    elif method == "layer_cam":
        w = relu(g)
    elif method == "xgrad_cam":
        w = (g * a).sum(axis=(1, 2), keepdims=True) / a.sum(axis=(1, 2), keepdims=True)
    elif method == "ablation_cam":  # linear head: the drop is the channel's contribution
        w = (g * a).sum(axis=(1, 2), keepdims=True)
    elif method == "eigen_cam":
        maps = []
        for acts in a:
            flat = acts.reshape(6, 2)
            v = np.linalg.svd(flat, full_matrices=False)[2][0]
            v = -v if (flat @ v).sum() < 0 else v
            maps.append(relu(flat @ v).reshape(2, 3))
        return np.stack(maps)
    elif method == "score_cam":
        weights = []
        for b, acts in enumerate(a):
            per_channel = []
            for k in range(2):
                m = acts[..., k]
                m = (m - m.min()) / (m.max() - m.min())
                z = _logits(IMAGES[b : b + 1] * m[None, ..., None])[0]
                p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
                per_channel.append(p[TARGETS[b]])
            weights.append(per_channel)
        w = np.array(weights)[:, None, None, :]
    else:
        raise AssertionError(method)
    return relu((w * a).sum(-1))


HAND_METHODS = [
    "grad_cam",
    "hires_cam",
    "layer_cam",
    "xgrad_cam",
    "ablation_cam",
    "eigen_cam",
    "score_cam",
]


@pytest.mark.parametrize("method", HAND_METHODS)
def test_hand_computed_token_cams(method):
    model = _token_model()
    before = snapshot(model)
    maps = getattr(tfxai, method)(model, IMAGES, target=TARGETS, layer="tokens", normalize=False)
    np.testing.assert_allclose(maps, _expected(method), rtol=1e-5, atol=1e-6)
    assert_unchanged(before, model)


def test_the_hand_model_is_what_numpy_says():
    np.testing.assert_allclose(
        _token_model()(IMAGES).numpy(), _logits(IMAGES), rtol=1e-5, atol=1e-6
    )


def test_a_transposed_or_unshifted_grid_fails_the_hand_computed_map():
    """The check above can fail: a 3x2 grid, or the class token kept, gives other maps."""
    model = _token_model()
    expected = _expected("hires_cam")
    given = tfxai.hires_cam(
        model, IMAGES, TARGETS, layer="tokens", tokens=(2, 3, 1), normalize=False
    )
    np.testing.assert_allclose(given, expected, rtol=1e-5, atol=1e-6)
    transposed = tfxai.hires_cam(
        model, IMAGES, TARGETS, layer="tokens", tokens=(3, 2, 1), normalize=False
    )
    assert not np.allclose(transposed, expected, atol=1e-3)
    a, g = _numpy_parts()
    column_major = np.maximum((g * a).sum(-1).reshape(2, 6).reshape(2, 3, 2).transpose(0, 2, 1), 0)
    assert not np.allclose(column_major.reshape(2, 2, 3), expected, atol=1e-3)


def test_default_layer_of_the_hand_model_is_the_last_token_layer():
    """Past the 4-D patch embedding, token layers come first: the last one read."""
    assert resolve_layer(_token_model()).name == "tokens"


# --------------------------------------------------------------------------- grid inference


@pytest.mark.parametrize(
    ("count", "image", "grid"),
    [
        (197, (224, 224), (14, 14, 1)),  # ViT-B/16: class token
        (201, (224, 224), (14, 14, 5)),  # class token + 4 registers
        (196, (224, 224), (14, 14, 0)),  # no class token (GAP)
        (24, (32, 48), (4, 6, 0)),  # non-square image, 8 px patches
        (25, (32, 48), (4, 6, 1)),  # ... with a class token: not 5x5
        (25, (48, 32), (6, 4, 1)),  # portrait
        (17, None, (4, 4, 1)),  # image size unknown: square grids
        (20, (40, 40), (4, 4, 4)),
        (37, (64, 128), (4, 8, 5)),  # class + 4 registers, non-square: not (4, 9, 1)
        (45, (160, 256), (5, 8, 5)),  # 32 px patches of 160x256, class + 4 registers
    ],
)
def test_infer_grid(count, image, grid):
    found = tokens.infer_grid(count, image)
    assert (found.height, found.width, found.skip) == grid


def test_infer_grid_gives_up():
    assert tokens.infer_grid(2, (32, 32)) is None
    assert tokens.infer_grid(35, None) is None  # 35..27: no square


def test_an_lstm_sequence_is_no_grid():
    """32 time steps of a 32x128 CRNN make no grid of the image's ratio (1:4) after 0..8
    leading tokens: not a token layer (a rounded patch size once read it as 3x10 + 2)."""
    assert tokens.infer_grid(32, (32, 128)) is None


def test_the_default_layer_of_a_crnn_stays_its_last_conv():
    image = keras.Input((32, 128, 1))
    x = keras.layers.Conv2D(8, 3, strides=(4, 4), padding="same", name="conv2")(image)
    x = keras.layers.Reshape((32, 64))(x)  # (8, 32, 8) -> 32 steps
    x = keras.layers.LSTM(6, return_sequences=True, name="lstm")(x)
    outputs = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling1D()(x))
    assert resolve_layer(keras.Model(image, outputs)).name == "conv2"


def test_smallest_skip_is_the_only_one_for_non_square_grids():
    """k^2 ab + s tokens on a (ka x kb) grid with at least 4 rows and columns, s <= 8."""
    for a, b in ((1, 2), (2, 1), (2, 3), (3, 4), (1, 3)):
        for k in range(4 // min(a, b) + (4 % min(a, b) > 0), 20):
            for s in range(tokens.MAX_SKIP + 1):
                found = tokens.infer_grid(k * k * a * b + s, (a * 32, b * 32))
                assert (found.height, found.width, found.skip) == (k * a, k * b, s)


def test_smallest_skip_is_the_only_one_from_4x4_on():
    """The rule's claim: n^2 + s minus a smaller s' is never a square for n >= 4, s <= 8."""
    for n in range(4, 60):
        for s in range(tokens.MAX_SKIP + 1):
            found = tokens.infer_grid(n * n + s, None)
            assert (found.height, found.skip) == (n, s)


# --------------------------------------------------------------------------- small ViTs


def _images(size=(32, 32), n=2, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, *size, 3)).astype(np.float32)


def _manual_grad_cam(model, layer, images, classes, grid):
    feat = keras.Model(model.input, [model.get_layer(layer).output, model.output])
    with tf.GradientTape() as tape:
        acts, out = feat(tf.constant(images))
        score = tf.gather(out, classes, batch_dims=1)
    grads = tape.gradient(score, acts).numpy()[:, grid[2] :]
    acts = acts.numpy()[:, grid[2] :]
    h, w = grid[:2]
    acts, grads = acts.reshape(-1, h, w, acts.shape[-1]), grads.reshape(-1, h, w, acts.shape[-1])
    cam = np.maximum((grads.mean(axis=(1, 2), keepdims=True) * acts).sum(-1), 0.0)
    return tf.image.resize(cam[..., None], images.shape[1:3]).numpy()[..., 0]


@pytest.mark.parametrize(
    ("kwargs", "layer", "grid"),
    [
        ({"pool": "token"}, "block2_norm1", (8, 8, 1)),
        ({"pool": "token", "registers": 4}, "block2_norm1", (8, 8, 5)),
        ({"pool": "gap"}, "norm", (8, 8, 0)),
        ({"pool": "token", "size": (32, 48), "patch": 8}, "block2_norm1", (4, 6, 1)),
    ],
)
def test_grad_cam_on_vit_tokens_matches_a_manual_tape(kwargs, layer, grid):
    model = vit(**kwargs)
    images = _images(kwargs.get("size", (32, 32)))
    classes = np.array([1, 3])
    assert resolve_layer(model).name == layer  # the default layer
    before = snapshot(model)
    maps = tfxai.grad_cam(model, images, target=classes, normalize=False)
    expected = _manual_grad_cam(model, layer, images, classes, grid)
    assert expected.max() > 0
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-6)
    explicit = tfxai.grad_cam(model, images, classes, layer=layer, tokens=grid, normalize=False)
    np.testing.assert_allclose(explicit, maps, rtol=1e-6)
    assert_unchanged(before, model)


@pytest.mark.parametrize("method", sorted(cam.CAM_METHODS))
@pytest.mark.parametrize("pool", ["token", "gap"])
def test_every_cam_runs_on_a_vit(method, pool):
    model = vit(pool=pool, seed=3)
    before = snapshot(model)
    images = _images(n=5, seed=1)
    maps = getattr(tfxai, method)(model, images, target=[0, 1, 2, 3, 4], normalize=False)
    assert maps.shape == (5, 32, 32) and np.all(np.isfinite(maps)) and np.all(maps >= 0)
    # an untrained ViT's map may be all negative before the ReLU; not all five of them
    assert np.any(maps.std(axis=(1, 2)) > 0), maps.std(axis=(1, 2))
    assert_unchanged(before, model)


def test_a_token_layer_whose_patches_are_not_read_is_refused():
    model = vit(pool="token")
    with pytest.raises(
        ValueError, match=r"^layer: the patch tokens of 'norm' do not influence.*'block2_norm1'"
    ):
        tfxai.grad_cam(model, _images(), layer="norm")
    with pytest.raises(ValueError, match=r"^layer: the patch tokens of 'block2_add2'"):
        tfxai.AblationCAM(model, layer="block2_add2")
    # Eigen-CAM and Score-CAM read only the activations: the last layer is fine for them.
    assert tfxai.eigen_cam(model, _images(), layer="norm").std() > 0
    # On the GAP model every patch is read, down to the last layer.
    tfxai.grad_cam(vit(pool="gap"), _images(), layer="norm")


def test_gradient_checks_see_what_the_probe_says():
    """The probe's verdicts are those of a manual tape: zero exactly where it says so."""
    model = vit(pool="token")
    found = {
        layer.name: reads
        for layer, reads in token_influence.influential_layers(model, model.layers)
    }
    assert found["block2_norm1"] and found["block1_add2"] and not found["block2_add2"]
    assert not found["norm"] and not found["block2_mlp2"] and not found["block2_attn"]
    feat = keras.Model(model.input, [model.get_layer("block2_attn").output, model.output])
    with tf.GradientTape() as tape:
        acts, out = feat(tf.constant(_images()))
        score = out[:, 2]
    gradient = tape.gradient(score, acts).numpy()
    assert np.all(gradient[:, 1:] == 0) and np.any(gradient[:, 0] != 0)


@pytest.mark.parametrize(
    ("tokens_option", "message"),
    [
        ("8x8", r"^tokens: expected None \(infer the grid\) or \(height, width, skip\)"),
        ((8, 0, 1), r"^tokens: expected None"),
        ((8, 8, -1), r"^tokens: expected None"),
        ((8, 8, True), r"^tokens: expected None"),
        ((8, 7, 1), r"^tokens: \(8, 7, 1\) does not fit layer 'block2_norm1', whose output "),
    ],
)
def test_bad_tokens(tokens_option, message):
    with pytest.raises(ValueError, match=message):
        tfxai.grad_cam(vit(), _images(), layer="block2_norm1", tokens=tokens_option)


def test_tokens_for_a_spatial_layer_is_refused():
    """`tokens=` on a 4-D layer (the patch embedding) would be silently ignored."""
    with pytest.raises(ValueError, match=r"^tokens: given as .* layer 'embed' has a spatial"):
        tfxai.grad_cam(_uninferable_model(), _images(), layer="embed", tokens=(2, 2, 0))


def _uninferable_model():
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(4, 16, strides=16, name="embed")(inputs)
    x = keras.layers.Reshape((2, 8), name="odd_tokens")(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x), name="odd")


def test_a_grid_that_cannot_be_inferred_names_tokens():
    with pytest.raises(
        ValueError,
        match=r"^tokens: cannot infer a patch grid for layer 'odd_tokens': its output "
        r"\(None, 2, 8\) has 2 tokens.*pass tokens=\(height, width, skip\)",
    ):
        tfxai.grad_cam(_uninferable_model(), _images(), layer="odd_tokens")
    # and with the grid given, it works (1x2 patches, no leading token)
    maps = tfxai.grad_cam(_uninferable_model(), _images(), layer="odd_tokens", tokens=(1, 2, 0))
    assert maps.shape == (2, 32, 32)


def test_two_number_tokens_take_the_rest_as_leading():
    model = vit(registers=4)
    images = _images()
    full = tfxai.grad_cam(model, images, [0, 1], tokens=(8, 8, 5), normalize=False)
    short = tfxai.grad_cam(model, images, [0, 1], tokens=(8, 8), normalize=False)
    np.testing.assert_allclose(short, full, rtol=1e-6)


def test_guided_grad_cam_takes_tokens():
    model = vit(pool="gap")
    images = _images()
    maps = tfxai.guided_grad_cam(model, images, [0, 1], layer="norm", tokens=(8, 8, 0))
    assert maps.shape == (2, 32, 32) and maps.std() > 0


# ---------------------------------------------------------------------- attributions on ViTs


def test_saliency_on_a_vit_is_the_tape_gradient():
    model = vit()
    images = _images()
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.gather(model(x), [2, 4], batch_dims=1)
    expected = np.abs(tape.gradient(score, x).numpy()).max(-1)
    maps = tfxai.saliency(model, images, target=[2, 4], normalize=False)
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-7)


def test_integrated_gradients_on_a_vit_is_complete():
    """Completeness (Sundararajan et al.): the attributions sum to S(x) - S(baseline)."""
    model = vit(pool="gap")
    images = _images(n=1)
    maps, delta = tfxai.integrated_gradients(
        model,
        images,
        target=[1],
        steps=128,
        reduce="sum",
        keep_sign=True,
        normalize=False,
        return_delta=True,
    )
    logits = model(images).numpy()[0, 1] - model(np.zeros_like(images)).numpy()[0, 1]
    assert abs(maps.sum() - logits) < 0.02 * abs(logits) + 1e-3
    assert abs(float(np.ravel(delta)[0])) < 0.02 * abs(logits) + 1e-3


@pytest.mark.parametrize("method", ["smooth_grad", "occlusion", "rise"])
def test_perturbation_and_noise_attributions_run_on_a_vit(method):
    model = vit()
    options = {"occlusion": {"patch": 8, "stride": 8}, "rise": {"masks": 64}}.get(method, {})
    maps = getattr(tfxai, method)(model, _images(), target=[0, 1], **options)
    assert maps.shape == (2, 32, 32) and np.all(np.isfinite(maps)) and maps.std() > 0
