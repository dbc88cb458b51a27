"""Every CAM method over every kind of model: the explainer contract of DESIGN.md."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tests.conftest import CLASSES, SIZE, assert_unchanged, get_model, images_for, snapshot

FAST_OPTIONS = {"score_cam": {"top_n": 6}, "ablation_cam": {"top_n": 6}}


@pytest.mark.parametrize("method", list(tfxai.METHODS))
def test_every_method_on_every_model_kind(method, model_kind, images, request):
    model, options = model_kind
    options.update(FAST_OPTIONS.get(method, {}))
    if request.node.callspec.params["model_kind"] == "nested":  # 4x4 conv5, not 1x1
        model = get_model("nested_large")  # 2048 channels: 6 may all lower the score
        options.update(top_n=64) if method in FAST_OPTIONS else None
    images = images_for(model, images)
    before = snapshot(model)
    predictions = model.predict(images, verbose=0)
    # the predicted classes: Ablation-CAM's weights (y - y_k) / y flip sign on a negative y
    classes = [int(c) for c in np.argmax(tf.nest.flatten(predictions)[0], axis=-1)]
    explainer = tfxai.METHODS[method](model, **options)

    maps = explainer(images, target=classes)

    assert maps.shape == images.shape[:3] and maps.dtype == np.float32
    assert np.all(np.isfinite(maps))
    assert min(explainer.engine.layer_shape[1:3]) >= 4
    for single in maps:  # each map is min-max normalized to span exactly [0, 1]
        assert single.max() == 1.0 and single.min() == 0.0
    raw = explainer(images, target=classes, normalize=False)
    np.testing.assert_allclose(maps, tfxai.cam.base.normalize_maps(raw), atol=1e-6)
    function = getattr(tfxai, method)(model, images, target=classes, **options)
    np.testing.assert_allclose(function, maps, atol=1e-5)
    assert_unchanged(before, model)
    for after, before_call in zip(
        tf.nest.flatten(model.predict(images, verbose=0)), tf.nest.flatten(predictions)
    ):
        np.testing.assert_allclose(after, before_call, rtol=1e-6)
    assert not any("call" in vars(layer) for _, layer in tfxai.layer_paths(model))


def _same_weights(kind, reference):
    """The kind's model carrying the sequential model's weights (same architecture)."""
    model = get_model(kind)
    weights = reference.get_weights()
    if kind == "multi_output":
        weights = weights + model.get_weights()[len(weights) :]
    model.set_weights(weights)
    return model


@pytest.mark.parametrize(
    "method", ["grad_cam", "grad_cam_plus_plus", "layer_cam", "score_cam", "ablation_cam"]
)
def test_same_network_gives_same_maps_in_every_wrapper(method, images):
    """Sequential, Functional+softmax (scored on logits), subclassed and multi-output."""
    reference = get_model("sequential")
    expected = getattr(tfxai, method)(reference, images, target=[4, 0, 2], normalize=False)
    assert expected.max() > 0
    for kind, options in [
        ("functional", {}),
        ("subclassed", {}),
        ("multi_output", {"output": "classes"}),
    ]:
        model = _same_weights(kind, reference)
        maps = getattr(tfxai, method)(model, images, target=[4, 0, 2], normalize=False, **options)
        np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-6 * expected.max())


def test_mixed_precision_matches_float32(images):
    """float16 activations/gradients are cast to float32: the maps agree within 2%."""
    reference = get_model("sequential")
    mixed = get_model("mixed_precision")
    mixed.set_weights(reference.get_weights())
    for method in ("grad_cam", "grad_cam_plus_plus", "score_cam"):
        expected = getattr(tfxai, method)(reference, images, target=[1, 2, 0], normalize=False)
        maps = getattr(tfxai, method)(mixed, images, target=[1, 2, 0], normalize=False)
        assert maps.dtype == np.float32 and np.all(np.isfinite(maps))
        assert expected.max() > 0
        np.testing.assert_allclose(maps, expected, rtol=0.02, atol=0.02 * expected.max())


def _manual_weighting(method, gradients, activations):
    """The channel weighting of each gradient CAM, written out from its paper."""
    if method == "grad_cam":
        return gradients.mean(axis=(1, 2), keepdims=True) * activations
    if method == "hires_cam":
        return gradients * activations
    if method == "layer_cam":
        return np.maximum(gradients, 0) * activations
    # xgrad_cam: sum over the map of A * dY/dA, divided by the sum of A, per channel
    sums = activations.sum(axis=(1, 2), keepdims=True)
    products = (gradients * activations).sum(axis=(1, 2), keepdims=True)
    weights = np.divide(products, sums, out=np.zeros_like(sums), where=sums != 0)
    return weights * activations


@pytest.mark.parametrize("method", ["grad_cam", "hires_cam", "layer_cam", "xgrad_cam"])
def test_nested_backbone_matches_a_manual_tape(method, images):
    """CAMs on the nested ResNet50's `conv5_block3_out` (4x4 at 128 px, the default layer)
    equal the same weighting computed on a manual tape around the backbone."""
    model = get_model("nested_large")
    backbone, pool, dense = model.layers
    images = images_for(model, images) * 255.0
    activations = backbone(images)  # the backbone's output is conv5_block3_out
    with tf.GradientTape() as tape:
        tape.watch(activations)
        scores = tf.gather(dense(pool(activations)), [3, 1, 0], axis=1, batch_dims=1)
    gradients = tape.gradient(scores, activations).numpy()
    expected = np.maximum(_manual_weighting(method, gradients, activations.numpy()).sum(-1), 0)
    assert expected.shape[1:] == (4, 4)
    expected = tf.image.resize(expected[..., None], images.shape[1:3])[..., 0].numpy()

    explainer = tfxai.METHODS[method](model)
    maps = explainer(images, target=[3, 1, 0], normalize=False)

    assert explainer.engine.layer_path == "resnet50/conv5_block3_out"
    assert np.ptp(expected, axis=(1, 2)).min() > 0  # non-constant maps, not all zeros
    np.testing.assert_allclose(maps, expected, rtol=1e-3, atol=1e-4 * expected.max())


def test_default_layer_is_the_last_spatial_layer_of_every_kind():
    # At 32 px ResNet50's conv5_block3_out is 1x1 (a constant map): the default is the last
    # layer larger than that, conv4_block6_out (2x2).
    expected = {
        "sequential": "conv2",
        "functional": "conv2",
        "nested": "resnet50/conv4_block6_out",
        "subclassed": "features/conv2",
        "multi_output": "conv2",
        "mixed_precision": "conv2",
    }
    for kind, path in expected.items():
        assert tfxai.GradCAM(get_model(kind), output=0).engine.layer_path == path


def _segmenter():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="enc")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="dec")(x)
    outputs = keras.layers.Conv2D(3, 1, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="segmenter")


def test_segmentation_mask_score_is_local(images):
    """Seg-Grad-CAM: with a 3x3-receptive-field net, a corner mask lights only its corner."""
    model = _segmenter()
    mask = np.zeros((SIZE, SIZE), bool)
    mask[:4, :4] = True
    maps = tfxai.hires_cam(
        model, images, target=tfxai.mask_score(1, mask), layer="enc", normalize=False
    )
    assert maps[:, :7, :7].sum() > 0
    assert np.all(maps[:, 8:, :] == 0) and np.all(maps[:, :, 8:] == 0)
    predicted = tfxai.grad_cam(model, images, layer="dec")
    assert predicted.shape == (3, SIZE, SIZE) and np.all(np.isfinite(predicted))


def test_dataset_inputs_match_array_inputs(images):
    model = get_model("sequential")
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(len(images)))).batch(2)
    np.testing.assert_allclose(
        tfxai.grad_cam(model, dataset, target=3), tfxai.grad_cam(model, images, target=3), atol=1e-6
    )


def test_batches_split_by_batch_size_give_the_same_maps(images):
    model = get_model("sequential")
    whole = tfxai.layer_cam(model, images, target=[0, 3, 4])
    split = tfxai.layer_cam(model, images, target=[0, 3, 4], batch_size=2)
    np.testing.assert_allclose(split, whole, atol=1e-6)


def test_all_zero_map_stays_finite(images):
    model = get_model("sequential")
    zero_target = tfxai.from_callable(lambda y: 0.0 * y[:, 0])
    maps = tfxai.grad_cam(model, images, target=zero_target)
    assert np.all(maps == 0.0)
    raw = tfxai.grad_cam(model, images, target=zero_target, normalize=False)
    assert np.isfinite(raw).all() and np.all(raw == 0.0)  # no 0/0 from normalization


def _residual_model():
    keras.utils.set_random_seed(8)
    inputs = keras.Input((SIZE, SIZE, 3))
    stem = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inputs)
    block = keras.layers.Conv2D(8, 3, padding="same", name="block")(stem)
    merged = keras.layers.Add()([stem, block])
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="after")(merged)
    concat = keras.layers.Concatenate()([merged, x])
    outputs = keras.layers.Dense(CLASSES)(keras.layers.GlobalAveragePooling2D()(concat))
    return keras.Model(inputs, outputs, name="residual")


@pytest.mark.parametrize("layer, broadcast", [("block", True), ("after", False)])
def test_ablation_broadcast_matches_full_copies(layer, broadcast, images):
    """The one-pass-per-image ablation equals one full pass per ablated channel.

    Ablating `block` broadcasts through the Add with the stem; ablating `after` meets a
    Concatenate with the un-ablated sum, so the explainer falls back to full copies.
    """
    model = _residual_model()
    fast = tfxai.AblationCAM(model, layer=layer)
    maps = fast(images, target=[0, 1, 2], normalize=False)
    assert fast.broadcast is broadcast
    slow = tfxai.AblationCAM(model, layer=layer)
    slow.broadcast = False
    expected = slow(images, target=[0, 1, 2], normalize=False)
    assert expected.max() > 0
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-5 * expected.max())
