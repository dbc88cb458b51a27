"""CAMs on keras_hub's `ViTBackbone`, built from a config with random weights (no download).

keras-hub is a test-only extra (`pip install -e ".[dev,hub]"`); without it these tests
skip. Its ViT keeps the patch embedding (with the class token and position embedding) in
one layer, `vit_patching_and_embedding`, and every transformer block plus the final
LayerNorm in another, `vit_encoder`: those are the two token layers a CAM can use.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tests.conftest import assert_unchanged, snapshot
from tfxai.engine import resolve_layer

keras_hub = pytest.importorskip("keras_hub")


def _classifier(pooling, size=(32, 32)):
    keras.utils.set_random_seed(4)
    backbone = keras_hub.models.ViTBackbone(
        image_shape=(*size, 3),
        patch_size=8,
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        mlp_dim=32,
        use_class_token=pooling == "token",
        name="vit_backbone",
    )
    return keras_hub.models.ViTImageClassifier(backbone, num_classes=4, pooling=pooling)


def _images(size=(32, 32)):
    return np.random.default_rng(0).uniform(size=(2, *size, 3)).astype(np.float32)


@pytest.mark.parametrize(
    ("pooling", "layer"),
    [("token", "vit_patching_and_embedding"), ("gap", "vit_encoder")],
)
def test_default_layer_of_keras_hub_vits(pooling, layer):
    """With token pooling only the class token leaves the encoder: its patches get zero
    gradient, so the default is the embedding; with GAP it is the encoder's output."""
    assert resolve_layer(_classifier(pooling)).name == layer


def test_keras_hub_encoder_with_token_pooling_is_refused():
    model = _classifier("token")
    with pytest.raises(
        ValueError,
        match=r"^layer: the patch tokens of 'vit_backbone/vit_encoder' do not.*'vit_patching_and_embedding'",
    ):
        tfxai.grad_cam(model, _images(), layer="vit_encoder")


@pytest.mark.parametrize("size", [(32, 32), (32, 48)])
def test_grad_cam_on_keras_hub_vit_matches_a_manual_tape(size):
    model = _classifier("gap", size)
    before = snapshot(model)
    images = _images(size)
    classes = np.array([1, 3])
    maps = tfxai.grad_cam(model, images, target=classes, normalize=False)
    encoder = model.get_layer("vit_backbone").get_layer("vit_encoder")
    seen = {}
    original = encoder.call

    def record(*args, **kwargs):
        seen["a"] = original(*args, **kwargs)
        return seen["a"]

    encoder.call = record  # a manual capture for the reference, undone below
    try:
        with tf.GradientTape() as tape:
            out = model(tf.constant(images), training=False)
            score = tf.gather(out, classes, batch_dims=1)
        grads = tape.gradient(score, seen["a"]).numpy()
    finally:
        del encoder.call
    h, w = size[0] // 8, size[1] // 8
    acts = seen["a"].numpy().reshape(2, h, w, 16)
    cam = np.maximum(
        (grads.reshape(2, h, w, 16).mean(axis=(1, 2), keepdims=True) * acts).sum(-1), 0
    )
    expected = tf.image.resize(cam[..., None], size).numpy()[..., 0]
    assert expected.max() > 0
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-6)
    assert_unchanged(before, model)


@pytest.mark.parametrize("method", ["grad_cam", "score_cam", "eigen_cam", "ablation_cam"])
def test_cams_run_on_a_keras_hub_vit_with_a_class_token(method):
    model = _classifier("token")
    maps = getattr(tfxai, method)(model, _images(), target=[0, 1])
    assert maps.shape == (2, 32, 32) and np.all(np.isfinite(maps)) and maps.max() > 0
