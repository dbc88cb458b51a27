"""Targets over a whole tf.data.Dataset: a per-image list covers the dataset in order,
`target="labels"` reads each element's `y`, and a list that fits only one batch is refused."""

import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tests.conftest import CLASSES, SIZE, get_model

IMAGES = np.random.default_rng(3).uniform(size=(5, SIZE, SIZE, 3)).astype(np.float32)
CLASS_IDS = [3, 0, 4, 1, 2]


def _dataset(labels=None, batch=2):
    elements = IMAGES if labels is None else (IMAGES, labels)
    return tf.data.Dataset.from_tensor_slices(elements).batch(batch)  # batches 2, 2, 1


@pytest.mark.parametrize("method", ["grad_cam", "score_cam", "saliency", "occlusion"])
def test_a_whole_dataset_list_equals_the_same_list_on_arrays(method):
    model = get_model("sequential")
    options = {"score_cam": {"top_n": 2}, "occlusion": {"patch": 16}}.get(method, {})
    explain = getattr(tfxai, method)
    from_arrays = explain(model, IMAGES, target=CLASS_IDS, **options)
    from_dataset = explain(model, _dataset(), target=CLASS_IDS, **options)
    np.testing.assert_allclose(from_dataset, from_arrays, atol=1e-5)
    # and each image was explained for its own class, not the first batch's classes again
    single = explain(model, IMAGES[4:], target=CLASS_IDS[4], **options)
    np.testing.assert_allclose(from_dataset[4:], single, atol=1e-5)


@pytest.mark.parametrize(
    "labels",
    [np.array(CLASS_IDS), np.eye(CLASSES)[CLASS_IDS], np.array(CLASS_IDS)[:, None]],
    ids=["ids", "one_hot", "column"],
)
def test_target_labels_reads_each_elements_y(labels):
    model = get_model("functional")
    expected = tfxai.grad_cam(model, IMAGES, target=CLASS_IDS)
    np.testing.assert_allclose(
        tfxai.grad_cam(model, _dataset(labels), target="labels"), expected, atol=1e-5
    )
    np.testing.assert_allclose(
        tfxai.saliency(model, _dataset(labels), target="labels"),
        tfxai.saliency(model, IMAGES, target=CLASS_IDS),
        atol=1e-5,
    )


def test_metrics_take_labels_and_whole_dataset_lists():
    model = get_model("sequential")
    maps = tfxai.grad_cam(model, IMAGES, target=CLASS_IDS)
    expected = tfxai.metrics.deletion(model, IMAGES, maps, target=CLASS_IDS, steps=4)
    labeled = tfxai.metrics.deletion(
        model, _dataset(np.array(CLASS_IDS)), maps, target="labels", steps=4
    )
    listed = tfxai.metrics.deletion(model, _dataset(), maps, target=CLASS_IDS, steps=4)
    np.testing.assert_allclose(labeled, expected, atol=1e-6)
    np.testing.assert_allclose(listed, expected, atol=1e-6)


@pytest.mark.parametrize(
    "target, message",
    [
        (
            [1, 2],
            r"^target: class_score\(\[1, 2\]\) gives 2 per-sample values, but inputs "
            r"yields more images \(at least 4\)",
        ),
        (
            [1, 2, 3, 4, 0, 1],
            r"^target: .* gives 6 per-sample values, but inputs yields 5 "
            r"images",
        ),
    ],
)
def test_a_list_that_does_not_cover_the_dataset_is_refused(target, message):
    with pytest.raises(ValueError, match=message):
        tfxai.grad_cam(get_model("sequential"), _dataset(), target=target)


@pytest.mark.parametrize(
    "inputs, message",
    [
        (IMAGES, r"^target: 'labels' takes each image's class from the \(x, y\) elements"),
        (_dataset(), r"^target: 'labels' needs dataset elements \(x, y\)"),
        (
            _dataset(np.zeros((5, SIZE, SIZE), np.int32)),
            r"^target: 'labels' needs class ids \(batch,\) or one-hot rows .* shape \(2, 32, 32\)",
        ),
        (_dataset(np.array([0.5, 1, 2, 3, 4])), r"^target: 'labels' needs integer class ids"),
    ],
)
def test_labels_without_class_labels_is_refused(inputs, message):
    with pytest.raises(ValueError, match=message):
        tfxai.grad_cam(get_model("sequential"), inputs, target="labels")
