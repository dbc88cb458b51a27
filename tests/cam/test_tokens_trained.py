"""Grad-CAM on the token layer of a small ViT trained on shapes points at the objects.

A hybrid ViT (tests/vit_models.py: a two-conv stem, 2x2 patches of its half-size output,
so an 8x8 token grid on 32 px images, two transformer blocks, a class score per patch
token max-pooled as the zoo classifier's head) is trained from a fixed seed on 4000
`make_shapes` images for 8 epochs, then Grad-CAM on its default layer (the last token layer
whose patches the output reads) plays the pointing game on 300 held-out images. The
tolerance is the paper's 15 px at 224 px scaled to 32 px (2 px).
"""

import time

import keras
import numpy as np
import pytest

import tfxai
from tests.vit_models import vit
from tfxai import metrics
from tfxai.datasets import make_shapes
from tfxai.engine import resolve_layer

SIZE = 32
TOLERANCE = 2  # 15 px at 224 px (Zhang et al. 2016), at 32 px


@pytest.mark.slow
def test_grad_cam_on_a_trained_vit_points_at_the_objects():
    keras.utils.set_random_seed(0)
    train = make_shapes(4000, size=SIZE, seed=0, clutter=False)
    held_out = make_shapes(300, size=SIZE, seed=1000, clutter=False)
    model = vit((SIZE, SIZE), patch=2, dim=32, depth=2, heads=2, mlp=64, pool="max", stem=16)
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    start = time.perf_counter()
    model.fit(train.images, train.labels, batch_size=32, epochs=8, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = (model.predict(held_out.images, verbose=0).argmax(-1) == held_out.labels).mean()

    assert resolve_layer(model).name == "class_map"  # (B, 64, 5): the patch tokens' scores
    maps = tfxai.grad_cam(model, held_out.images, target=held_out.labels)
    channels = 1 + held_out.labels[:, None, None, None]
    objects = np.take_along_axis(held_out.masks, channels, axis=-1)[..., 0] > 0.5
    hits = metrics.pointing_game(maps, objects, tolerance=TOLERANCE).mean()
    strict = metrics.pointing_game(maps, objects, tolerance=0).mean()
    print(
        f"ViT trained {seconds:.0f} s, accuracy {accuracy:.3f}; Grad-CAM pointing game "
        f"{hits:.3f} ({TOLERANCE} px), {strict:.3f} (0 px)"
    )
    assert hits >= 0.8
