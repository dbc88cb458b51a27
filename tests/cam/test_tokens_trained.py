"""Grad-CAM on the token layer of a small ViT trained on shapes points at the objects.

A hybrid ViT (tests/vit_models.py: a three-conv stem, 2x2 patches of its half-size output,
so an 8x8 token grid on 32 px images, two transformer blocks, a class score per patch
token max-pooled as the zoo classifier's head) is trained from a fixed seed on 4000
`make_shapes` images (no clutter) for 10 epochs, then Grad-CAM and HiRes-CAM on its
default layer (the last token layer whose patches the output reads) play the pointing
game on 300 held-out images. Tolerances: 3 px (under one token's 4 px spacing, so the
peak token overlaps the object) and 2 px (the paper's 15 px at 224 px, scaled to 32 px).
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
TOLERANCE = 3  # px: under the 4 px token spacing
STRICT = 2  # px: 15 px at 224 px (Zhang et al. 2016), at 32 px
EPOCHS = 10


@pytest.mark.slow
def test_grad_cam_on_a_trained_vit_points_at_the_objects():
    keras.utils.set_random_seed(0)
    train = make_shapes(4000, size=SIZE, seed=0, clutter=False)
    held_out = make_shapes(300, size=SIZE, seed=1000, clutter=False)
    model = vit((SIZE, SIZE), patch=2, dim=32, depth=2, heads=2, mlp=64, pool="max", stem=16)
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, EPOCHS * 125)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    start = time.perf_counter()
    model.fit(train.images, train.labels, batch_size=32, epochs=EPOCHS, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = (model.predict(held_out.images, verbose=0).argmax(-1) == held_out.labels).mean()

    assert resolve_layer(model).name == "class_map"  # (B, 64, 5): the patch tokens' scores
    maps = tfxai.grad_cam(model, held_out.images, target=held_out.labels)
    channels = 1 + held_out.labels[:, None, None, None]
    objects = np.take_along_axis(held_out.masks, channels, axis=-1)[..., 0] > 0.5
    hires = tfxai.hires_cam(model, held_out.images, target=held_out.labels)
    scores = {
        (name, tolerance): metrics.pointing_game(cams, objects, tolerance=tolerance).mean()
        for name, cams in (("Grad-CAM", maps), ("HiRes-CAM", hires))
        for tolerance in (TOLERANCE, STRICT, 0)
    }
    print(f"ViT trained {seconds:.0f} s, held-out accuracy {accuracy:.3f}; pointing game:")
    for (name, tolerance), score in scores.items():
        print(f"  {name} {tolerance} px: {score:.3f}")
    assert scores["Grad-CAM", TOLERANCE] >= 0.8
    assert scores["HiRes-CAM", STRICT] >= 0.8
