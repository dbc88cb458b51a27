"""explain_dataset: the same maps as the function forms, metrics, sources, bad arguments."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import tfxai
from tests.conftest import assert_unchanged, snapshot
from tfxai.datasets import make_shapes
from tfxai.models import zoo
from tfxai.scale import shards

N = 20


@pytest.fixture(scope="module")
def model():
    return zoo.load("shapes-classifier")


@pytest.fixture(scope="module")
def data():
    shapes = make_shapes(N, seed=11)
    masks = shapes.masks[..., 1:].any(axis=-1)
    return shapes.images, shapes.labels.astype(np.int64), masks


def run(model, source, out, method="grad_cam", **kwargs):
    kwargs = {"shard_size": 8, "batch_size": 4, "progress": False, **kwargs}
    return tfxai.explain_dataset(model, source, method, out, **kwargs)


def test_maps_equal_the_function_form_bit_for_bit(model, data, tmp_path):
    images, labels, _ = data
    before = snapshot(model)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(6)
    res = run(model, dataset, tmp_path, target="labels", dtype="float32")
    expected = tfxai.grad_cam(model, images, [int(k) for k in labels], batch_size=4)
    assert len(res) == N and res.complete
    np.testing.assert_array_equal(res[:], expected)
    np.testing.assert_array_equal(res.metrics["target"], labels)
    np.testing.assert_array_equal(res.metrics["index"], np.arange(N))
    assert [entry["count"] for entry in res.manifest["shards"]] == [8, 8, 4]
    assert_unchanged(before, model)


def test_float16_storage_rounds_the_float32_maps(model, data, tmp_path):
    images = data[0]
    res = run(model, images, tmp_path)  # an array source, target None
    expected = tfxai.grad_cam(model, images, batch_size=4)
    assert res[:].dtype == np.float16
    np.testing.assert_array_equal(res[:], expected.astype(np.float16))
    np.testing.assert_array_equal(res.metrics["target"], np.full(N, -1))


def test_seeded_methods_use_each_images_position(model, data, tmp_path):
    """SmoothGrad seeds its noise by the image's position: a streamed run whose batches
    start mid-dataset must draw the same noise as one call on the whole array."""
    images = data[0]
    res = run(model, images, tmp_path, "smooth_grad", dtype="float32", samples=4, target=2)
    expected = tfxai.smooth_grad(model, images, 2, samples=4, batch_size=4)
    np.testing.assert_array_equal(res[:], expected)
    assert res.manifest["settings"]["options"]["samples"] == 4


def test_per_image_metrics_equal_the_metrics_functions(model, data, tmp_path):
    images, labels, masks = data
    dataset = tf.data.Dataset.from_tensor_slices((images, labels, masks))
    names = ["deletion", "average_drop", "increase_in_confidence", "pointing_game", "iou"]
    res = run(model, dataset, tmp_path, target="labels", dtype="float32", metrics=names)
    maps, target = res[:], [int(k) for k in labels]
    table = res.metrics
    deletion = tfxai.metrics.deletion(model, images, maps, target, batch_size=4)
    np.testing.assert_allclose(table["deletion"], deletion, rtol=1e-6)
    full, explained = tfxai.metrics.explanation_scores(model, images, maps, target)
    drop = 100 * np.maximum(0, full - explained) / full
    np.testing.assert_allclose(table["average_drop"], drop, rtol=1e-4, atol=1e-4)
    assert np.mean(table["average_drop"]) == pytest.approx(
        tfxai.metrics.average_drop(model, images, maps, target), rel=1e-5
    )
    np.testing.assert_array_equal(table["increase_in_confidence"], 100.0 * (explained > full))
    np.testing.assert_array_equal(table["pointing_game"], tfxai.metrics.pointing_game(maps, masks))
    np.testing.assert_allclose(table["iou"], tfxai.metrics.iou(maps, masks))
    summary = res.summary()
    assert summary["count"] == N
    assert summary["deletion"] == pytest.approx(float(np.mean(deletion)), rel=1e-6)
    assert 0.5 < summary["pointing_game"] <= 1.0  # a trained model points at its shapes


def test_a_folder_of_images_reads_in_path_order(model, data, tmp_path):
    images = data[0]
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    names = []
    for i, image in enumerate(images[:6]):
        name = f"sub/img{i}.png" if i % 2 else f"img{i}.png"
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(folder / name)
        names.append(name)
    (folder / "notes.txt").write_text("not an image")
    res = run(model, str(folder), tmp_path / "out", dtype="float32")
    order = sorted(range(6), key=lambda i: str(folder / names[i]))
    assert list(res.metrics["file"]) == [names[i] for i in order]
    pixels = np.round(images[:6] * 255) / 255  # what the PNGs hold, at the model's size
    expected = tfxai.grad_cam(model, pixels[order].astype(np.float32), batch_size=4)
    np.testing.assert_allclose(res[:], expected, atol=1e-5)
    assert res.manifest["settings"]["source"]["files"] == 6


def test_indexing_and_reading_back(model, data, tmp_path):
    images = data[0]
    run(model, images, tmp_path, dtype="float32")
    res = tfxai.load_explanations(str(tmp_path))
    whole = res[:]
    np.testing.assert_array_equal(res[9], whole[9])
    np.testing.assert_array_equal(res[-1], whole[N - 1])
    np.testing.assert_array_equal(res[3:11], whole[3:11])
    np.testing.assert_array_equal(res[[0, 17, 9]], whole[[0, 17, 9]])
    assert res[5:5].shape == (0, 96, 96)
    with pytest.raises(IndexError, match="key: index 20 is out of range for 20 maps"):
        res[N]
    with pytest.raises(TypeError, match="key: expected an int, a slice or a list of ints"):
        res["a"]
    assert "20 maps, grad_cam, complete" in repr(res)


def test_a_completed_run_is_not_redone(model, data, tmp_path):
    images = data[0]
    run(model, images, tmp_path)
    stamps = {name: os.stat(tmp_path / name).st_mtime_ns for name in os.listdir(tmp_path)}
    run(model, images, tmp_path)
    assert {name: os.stat(tmp_path / name).st_mtime_ns for name in os.listdir(tmp_path)} == stamps


def test_a_corrupted_or_missing_shard_is_redone_and_only_it(model, data, tmp_path):
    images = data[0]
    first = run(model, images, tmp_path)
    reference = first[:]
    digests = [entry["sha256"] for entry in first.manifest["shards"]]
    path = tmp_path / shards.shard_name(1)
    data_bytes = bytearray(path.read_bytes())
    data_bytes[len(data_bytes) // 2] ^= 0xFF
    path.write_bytes(bytes(data_bytes))
    with pytest.raises(ValueError, match="does not match its checksum"):
        tfxai.load_explanations(str(tmp_path))[9]
    untouched = os.stat(tmp_path / shards.shard_name(0)).st_mtime_ns
    (tmp_path / shards.shard_name(2)).unlink()
    (tmp_path / ".tmp-leftover").write_bytes(b"partial")
    again = run(model, images, tmp_path)
    np.testing.assert_array_equal(again[:], reference)
    assert [entry["sha256"] for entry in again.manifest["shards"]] == digests
    assert os.stat(tmp_path / shards.shard_name(0)).st_mtime_ns == untouched
    assert not (tmp_path / ".tmp-leftover").exists()


def test_other_settings_are_refused_with_what_differs(model, data, tmp_path):
    images = data[0]
    run(model, images, tmp_path)
    with pytest.raises(ValueError, match=r"settings.method: \"grad_cam\" before, \"hires_cam\""):
        run(model, images, tmp_path, "hires_cam")
    with pytest.raises(ValueError, match="settings.shard_size: 8 before, 12 now"):
        run(model, images, tmp_path, shard_size=12)
    other = zoo.load("shapes-classifier")
    other.weights[0].assign(other.weights[0] * 2.0)
    with pytest.raises(ValueError, match="model.weights: "):
        run(other, images, tmp_path)
    res = run(model, images, tmp_path, "hires_cam", overwrite=True)
    assert res.manifest["settings"]["method"] == "hires_cam" and len(res) == N


def test_a_per_image_target_list_covers_the_dataset(model, data, tmp_path):
    images, labels, _ = data
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(5)
    res = run(model, dataset, tmp_path, target=list(labels), dtype="float32")
    expected = tfxai.grad_cam(model, images, list(labels), batch_size=4)
    np.testing.assert_array_equal(res[:], expected)
    np.testing.assert_array_equal(res.metrics["target"], labels)
    with pytest.raises(ValueError, match="target: gives 19 per-sample values, but the dataset"):
        run(model, dataset, tmp_path / "short", target=list(labels[:-1]))
    with pytest.raises(ValueError, match="^target: gives 21 per-sample values.* yields 20"):
        run(model, dataset, tmp_path / "long", target=list(labels) + [0])


def test_an_interrupted_manifest_reads_back_as_incomplete(model, data, tmp_path):
    images = data[0]
    run(model, images, tmp_path)
    path = tmp_path / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(complete=False, shards=manifest["shards"][:1])
    path.write_text(json.dumps(manifest))
    res = tfxai.load_explanations(str(tmp_path))
    assert not res.complete and len(res) == 8 and "incomplete" in repr(res)


BAD = [
    ({"shard_size": 10}, ValueError, "^shard_size: must be a multiple of batch_size \\(4\\)"),
    ({"shard_size": 0}, ValueError, "^shard_size: expected a positive integer, got 0"),
    ({"dtype": "int8"}, ValueError, "^dtype: expected one of float16, float32, got 'int8'"),
    ({"metrics": ["accuracy"]}, ValueError, "^metrics: unknown metric 'accuracy'"),
    ({"metrics": ["iou"]}, ValueError, "^metrics: 'iou' compares maps with object masks"),
    ({"metrics": 3}, TypeError, "^metrics: expected a sequence of metric names"),
    ({"target": "labels"}, ValueError, "^target: 'labels' takes each image's class"),
    ({"strategy": "mirrored"}, TypeError, "^strategy: expected a tf.distribute.Strategy"),
    ({"overwrite": "yes"}, TypeError, "^overwrite: expected True or False, got 'yes'"),
    ({"top_nn": 3}, ValueError, "^top_nn: not an option of .grad_cam."),
    ({"preprocessing": "bgr"}, ValueError, "^preprocessing: expected None, 'caffe'"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD, ids=[str(b[0]) for b in BAD])
def test_bad_arguments_name_themselves(model, data, tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        run(model, data[0], tmp_path, **kwargs)
    assert not any(name.startswith("shard-") for name in os.listdir(tmp_path))


def test_bad_sources_and_methods(model, data, tmp_path):
    images = data[0]
    infinite = tf.data.Dataset.from_tensor_slices(images).repeat()
    with pytest.raises(ValueError, match="dataset: the dataset is infinite"):
        run(model, infinite, tmp_path)
    empty = tf.data.Dataset.from_tensor_slices(images[:0])
    with pytest.raises(ValueError, match="dataset: the dataset is empty"):
        run(model, empty, tmp_path / "empty")
    with pytest.raises(ValueError, match="dataset: expected images of rank 3"):
        run(model, images[:, :, :, 0], tmp_path / "rank")
    with pytest.raises(ValueError, match="no image files"):
        run(model, str(tmp_path), tmp_path / "out")
    with pytest.raises(TypeError, match="dataset: expected a tf.data.Dataset"):
        run(model, [1, 2, 3], tmp_path / "list")
    with pytest.raises(TypeError, match="method: explain_dataset runs tfxai's explainers"):
        run(model, images, tmp_path / "fn", lambda m, x, target=None: x[..., 0])
    with pytest.raises(ValueError, match="return_delta: explain_dataset stores maps only"):
        run(model, images, tmp_path / "ig", "integrated_gradients", return_delta=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="^out_dir: cannot write to .*file"):
        run(model, images, tmp_path / "file")
    other = tfxai.GradCAM(zoo.load("shapes-classifier"))
    with pytest.raises(ValueError, match="method: the GradCAM instance explains model"):
        run(model, images, tmp_path / "inst", other)


def test_an_explainer_instance_and_its_options(model, data, tmp_path):
    images = data[0]
    explainer = tfxai.GradCAMPlusPlus(model)
    res = run(model, images, tmp_path, explainer, dtype="float32", normalize=False)
    expected = explainer(images, batch_size=4, normalize=False)
    np.testing.assert_array_equal(res[:], expected)
    assert res.manifest["settings"]["method"] == "GradCAMPlusPlus"


def test_a_segmentation_head_with_one_mask_per_image(tmp_path):
    """Seg-Grad-CAM over a dataset: a mask_score target with one mask per image is sliced
    by position; the manifest records the masks by content, so other masks are refused."""
    unet = zoo.load("shapes-unet")
    shapes = make_shapes(6, seed=2, task="segmentation")
    masks = shapes.masks[..., 1:].any(axis=-1)
    target = tfxai.mask_score(2, masks)
    dataset = tf.data.Dataset.from_tensor_slices(shapes.images).batch(4)
    res = run(unet, dataset, tmp_path, target=target, batch_size=2, shard_size=4, dtype="float32")
    np.testing.assert_array_equal(res[:], tfxai.grad_cam(unet, shapes.images, target, batch_size=2))
    other = tfxai.mask_score(2, np.roll(masks, 5, axis=2))
    with pytest.raises(ValueError, match="settings.target: "):
        run(unet, dataset, tmp_path, target=other, batch_size=2, shard_size=4, dtype="float32")


def test_dict_elements_as_tensorflow_datasets_yields_them(model, data, tmp_path):
    images, labels, masks = data
    dataset = tf.data.Dataset.from_tensor_slices(
        {"image": images, "label": labels, "mask": masks, "id": np.arange(N)}
    )
    res = run(model, dataset, tmp_path, target="labels", dtype="float32", metrics=["iou"])
    expected = tfxai.grad_cam(model, images, [int(k) for k in labels], batch_size=4)
    np.testing.assert_array_equal(res[:], expected)
    np.testing.assert_allclose(res.metrics["iou"], tfxai.metrics.iou(expected, masks))
    no_image = tf.data.Dataset.from_tensor_slices({"pixels": images})
    with pytest.raises(ValueError, match="dataset: dict elements need an 'image' key"):
        run(model, no_image, tmp_path / "bad")


def test_images_of_several_sizes_fail_naming_dataset(model, data, tmp_path):
    images = data[0]

    def sizes():
        for i in range(8):
            yield images[i] if i % 3 else images[i, :80, :80]

    spec = tf.TensorSpec((None, None, 3), tf.float32)
    dataset = tf.data.Dataset.from_generator(sizes, output_signature=spec)
    with pytest.raises(ValueError, match=r"dataset: reading a batch failed: .*model's \(96, 96\)"):
        run(model, dataset, tmp_path)
