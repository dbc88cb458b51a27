"""The shapes generator: determinism, exact masks, clutter outside the masks."""

import numpy as np
import pytest
import tensorflow as tf

from tfxai.datasets import CLASSES, Shapes, make_shapes, shapes_dataset
from tfxai.datasets import shapes as shapes_lib

N = 40


@pytest.fixture(scope="module", params=["classification", "segmentation"])
def data(request):
    return request.param, make_shapes(N, seed=3, task=request.param)


def test_types_and_ranges(data):
    _, d = data
    assert isinstance(d, Shapes) and d.class_names == CLASSES
    assert d.images.dtype == np.float32 and d.images.shape == (N, 96, 96, 3)
    assert d.images.min() >= 0.0 and d.images.max() <= 1.0
    assert d.labels.dtype == np.int32 and d.labels.shape == (N,)
    assert set(d.labels) <= set(range(len(CLASSES)))
    assert d.masks.dtype == np.float32 and d.masks.shape == (N, 96, 96, 1 + len(CLASSES))


def test_same_seed_identical_different_seed_different():
    for task in ("classification", "segmentation"):
        a = make_shapes(12, seed=5, task=task)
        b = make_shapes(12, seed=5, task=task)
        c = make_shapes(12, seed=6, task=task)
        for x, y in zip(a[:3], b[:3]):
            assert x.tobytes() == y.tobytes()
        assert not np.array_equal(a.images, c.images)
        assert not np.array_equal(a.masks, c.masks)


def test_masks_one_hot_and_label_channel_present(data):
    task, d = data
    assert set(np.unique(d.masks)) <= {0.0, 1.0}
    np.testing.assert_array_equal(d.masks.sum(axis=-1), 1.0)
    area = d.masks.sum(axis=(1, 2))  # (N, 6) pixels per class
    assert np.all(area[np.arange(N), 1 + d.labels] > 0)
    assert np.all(area[:, 0] > 0)  # some background everywhere
    if task == "classification":
        assert np.all((area[:, 1:] > 0).sum(axis=1) == 1)  # exactly one class per image
        assert np.all(area[np.arange(N), 1 + d.labels] >= 150)  # >= ~18 px across
    else:
        # the label is the class with the largest visible shape; with one shape per
        # class that is the largest class area, in general at least as large as any shape
        counts = (area[:, 1:] > 0).sum(axis=1)
        assert counts.min() >= 1 and counts.max() <= 3 and (counts > 1).any()


def test_segmentation_label_is_largest_visible_shape():
    # with at most two shapes, each class present is one shape (or two of the same class)
    _, labels, classmap = shapes_lib.render(80, seed=9, task="segmentation", max_shapes=2)
    area = np.stack([(classmap == 1 + c).sum(axis=(1, 2)) for c in range(len(CLASSES))], 1)
    assert ((area > 0).sum(axis=1) == 2).any()
    np.testing.assert_array_equal(labels, area.argmax(axis=1))


def test_shapes_contrast_with_their_surroundings(data):
    task, d = data
    from scipy import ndimage

    for image, mask in zip(d.images, d.masks):
        for c in range(1, mask.shape[-1]):
            inside = mask[..., c] > 0
            if inside.sum() < 50:
                continue
            ring = ndimage.binary_dilation(inside, iterations=3) & ~inside & (mask[..., 0] > 0)
            if ring.sum() < 20:
                continue
            gap = np.linalg.norm(image[inside].mean(0) - np.median(image[ring], axis=0))
            assert gap > 0.15, (task, c, gap)


def test_clutter_is_not_in_the_masks():
    for task in ("classification", "segmentation"):
        clean = make_shapes(20, seed=11, task=task, clutter=False)
        cluttered = make_shapes(20, seed=11, task=task, clutter=True)
        np.testing.assert_array_equal(clean.masks, cluttered.masks)
        np.testing.assert_array_equal(clean.labels, cluttered.labels)
        changed = np.abs(clean.images - cluttered.images).max(axis=-1) > 1e-6
        objects = clean.masks[..., 0] == 0
        assert changed.any()  # clutter was drawn ...
        assert not (changed & objects).any()  # ... only where the masks say background


def test_size_scales_and_bad_arguments():
    d = make_shapes(3, size=48, seed=0, task="segmentation")
    assert d.images.shape == (3, 48, 48, 3) and d.masks.shape == (3, 48, 48, 6)
    assert make_shapes(0).images.shape == (0, 96, 96, 3)
    for kwargs, word in [
        ({"n": -1}, "n:"),
        ({"n": 2, "task": "detect"}, "task:"),
        ({"n": 2, "size": 16}, "size:"),
        ({"n": 2, "max_shapes": 0}, "max_shapes:"),
    ]:
        with pytest.raises(ValueError, match=word):
            make_shapes(**kwargs)


def test_dataset_batches():
    ds = shapes_dataset(10, batch_size=4, seed=2)
    batches = list(ds)
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.dtype == tf.float32 and y.dtype == tf.int32 and x.shape == (4, 96, 96, 3)
    ref = make_shapes(10, seed=2)
    np.testing.assert_array_equal(x.numpy(), ref.images[:4])
    np.testing.assert_array_equal(y.numpy(), ref.labels[:4])

    x, m = next(iter(shapes_dataset(6, batch_size=6, seed=2, task="segmentation", size=64)))
    ref = make_shapes(6, seed=2, task="segmentation", size=64)
    assert m.shape == (6, 64, 64, 6) and m.dtype == tf.float32
    np.testing.assert_array_equal(m.numpy(), ref.masks)
    with pytest.raises(ValueError, match="batch_size"):
        shapes_dataset(4, batch_size=0)
