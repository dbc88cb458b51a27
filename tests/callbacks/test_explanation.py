"""ExplanationCallback through real `model.fit`, on every model kind."""

import keras
import numpy as np
import pytest

import tfxai
from tests.callbacks.conftest import FIT_KINDS, fresh_model, png, read_events

LAYERS = {
    "sequential": "conv2",
    "functional": "conv2",
    "nested": "resnet50/conv4_block6_out",
    "subclassed": "features/conv2",
    "mixed_precision": "conv2",
}


@pytest.mark.parametrize("kind", FIT_KINDS)
@pytest.mark.parametrize("validation", [False, True])
def test_logs_every_epoch_and_the_timeline(kind, validation, data, tmp_path):
    if kind == "nested" and validation:
        pytest.skip("one nested run is enough (ResNet50 trains slowly)")
    images, labels, _ = data
    model = fresh_model(kind)
    callback = tfxai.ExplanationCallback(
        "grad_cam", (images[:4], labels[:4]), target="labels", layer=LAYERS[kind], log_dir=tmp_path
    )
    extra = {"validation_data": (images[8:], labels[8:])} if validation else {}
    history = model.fit(
        images, labels, epochs=2, batch_size=8, verbose=0, callbacks=[callback], **extra
    )
    assert len(history.history["loss"]) == 2 and callback.warnings == []
    run = tmp_path / "tfxai_grad_cam"
    assert (run / "epoch_0001.png").exists() and (run / "epoch_0002.png").exists()
    # The last column holds the maps of the final weights: the same as a direct call.
    maps = tfxai.GradCAM(model, LAYERS[kind])(images[:4], labels[:4])
    label, column = callback.timeline[-1]
    assert label == "epoch 2"
    np.testing.assert_allclose(column["labels"] / 255.0, maps, atol=1 / 255 + 1e-3)
    assert (np.ptp(maps, axis=(1, 2)) > 0.5).sum() >= 2  # most maps are not flat
    # Timeline: 4 rows (samples) by 3 columns (start, epoch 1, epoch 2).
    timeline = png(run / "timeline.png")
    assert [lab for lab, _ in callback.timeline] == ["start", "epoch 1", "epoch 2"]
    tile = images.shape[1] + 2  # tiles are padded by 2 px, under a 14 px label band
    assert timeline.shape[0] == 14 + 4 * tile + 2
    assert timeline.shape[1] >= 3 * tile
    events = read_events(run)
    assert [step for step, _ in events["grad_cam"]] == [0, 1]
    np.testing.assert_array_equal(events["grad_cam"][1][1], png(run / "epoch_0002.png"))
    assert "tfxai_grad_cam/timeline" in events


def test_one_compiled_graph_for_the_whole_fit(data, tmp_path):
    images, labels, _ = data
    model = fresh_model("functional")
    callback = tfxai.ExplanationCallback(
        "grad_cam_plus_plus", images[:4], log_dir=tmp_path, layer="conv2"
    )
    traces = []

    class Count(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            traces.append(callback.explain.explainer.engine.traces)

    model.fit(images, labels, epochs=4, batch_size=8, verbose=0, callbacks=[callback, Count()])
    assert traces[0] >= 1 and traces == [traces[0]] * 4


def test_several_targets_and_segmentation_mask_score(tmp_path):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((24, 24, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="features")(inputs)
    outputs = keras.layers.Conv2D(3, 1, name="classes")(x)
    model = keras.Model(inputs, outputs)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(6, 24, 24, 3)).astype(np.float32)
    classmap = (images[..., 0] > 0.5).astype(np.int64) + (images[..., 1] > 0.8)
    region = np.zeros((6, 24, 24), bool)
    region[:, 4:12, 4:12] = True
    targets = {
        "class 1 top-left": tfxai.mask_score(1, region[:3]),
        "class 2 everywhere": tfxai.mask_score(2, np.ones((24, 24), bool)),
    }
    callback = tfxai.ExplanationCallback(
        "saliency", images[:3], target=targets, log_dir=tmp_path, run="seg"
    )
    model.fit(images, classmap, epochs=2, batch_size=3, verbose=0, callbacks=[callback])
    assert callback.warnings == []
    expected = tfxai.saliency(model, images[:3], tfxai.mask_score(1, region[:3]))
    np.testing.assert_allclose(
        callback.timeline[-1][1]["class 1 top-left"] / 255.0, expected, atol=1 / 255 + 1e-3
    )
    for name in ("timeline_class_1_top-left.png", "timeline_class_2_everywhere.png"):
        assert (tmp_path / "seg" / name).exists()
    grid = png(tmp_path / "seg" / "epoch_0002.png")
    assert grid.shape[1] >= 3 * 26  # input + two targets


def test_every_n_batches(data, tmp_path):
    images, labels, _ = data
    model = fresh_model("sequential")
    callback = tfxai.ExplanationCallback(
        tfxai.grad_cam, images[:2], freq=2, batch_freq=3, log_dir=tmp_path, layer="conv2"
    )
    model.fit(images, labels, epochs=3, batch_size=4, verbose=0, callbacks=[callback])
    run = tmp_path / "tfxai_grad_cam"
    assert sorted(p.name for p in run.glob("batch_*.png")) == [
        "batch_0000003.png",
        "batch_0000006.png",
        "batch_0000009.png",
        "batch_0000012.png",
    ]
    assert sorted(p.name for p in run.glob("epoch_*.png")) == ["epoch_0001.png", "epoch_0003.png"]
    assert [step for step, _ in read_events(run)["grad_cam/batch"]] == [3, 6, 9, 12]


def test_a_dataset_gives_its_first_batch(data, tmp_path):
    import tensorflow as tf

    images, labels, _ = data
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(5).repeat()
    model = fresh_model("sequential")
    callback = tfxai.ExplanationCallback(
        "grad_cam", dataset, target="labels", log_dir=tmp_path, layer="conv2"
    )
    np.testing.assert_array_equal(callback.samples.images, images[:5])
    np.testing.assert_array_equal(callback.samples.labels, labels[:5])
    model.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0, callbacks=[callback])
    assert png(tmp_path / "tfxai_grad_cam" / "timeline.png").shape[0] == 14 + 5 * 34 + 2
