"""ExplanationMetricsCallback: the metrics land in logs before History, CSVLogger and
EarlyStopping read them, and equal the metrics computed directly on the final weights."""

import csv

import keras
import numpy as np
import pytest

import tfxai
from tests.callbacks.conftest import fresh_model, read_events


def _callback(data, tmp_path, **options):
    images, labels, masks = data
    return tfxai.ExplanationMetricsCallback(
        "grad_cam",
        (images[:8], labels[:8], masks[:8]),
        target="labels",
        layer="conv2",
        metrics=("pointing_game", "deletion", "iou"),
        metric_options={"deletion": {"steps": 8}, "pointing_game": {"tolerance": 0}},
        log_dir=tmp_path,
        **options,
    )


def test_history_csv_and_tensorboard_get_the_metrics(data, tmp_path):
    images, labels, masks = data
    model = fresh_model("functional")
    quality = _callback(data, tmp_path)
    log = tmp_path / "log.csv"
    history = model.fit(
        images,
        labels,
        epochs=3,
        batch_size=8,
        verbose=0,
        callbacks=[quality, keras.callbacks.CSVLogger(str(log))],
    )
    keys = ("xai_pointing_game", "xai_deletion", "xai_iou")
    assert all(len(history.history[key]) == 3 for key in keys)
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    assert set(keys) <= set(rows[0]) and len(rows) == 3
    np.testing.assert_allclose(
        [float(r["xai_deletion"]) for r in rows], history.history["xai_deletion"], rtol=1e-6
    )
    # The last epoch's values are the metrics of the final weights, computed directly.
    maps = tfxai.grad_cam(model, images[:8], [int(c) for c in labels[:8]], layer="conv2")
    expected = {
        "xai_pointing_game": np.mean(tfxai.metrics.pointing_game(maps, masks[:8], tolerance=0)),
        "xai_deletion": np.mean(
            tfxai.metrics.deletion(model, images[:8], maps, [int(c) for c in labels[:8]], steps=8)
        ),
        "xai_iou": np.mean(tfxai.metrics.iou(maps, masks[:8])),
    }
    for key, value in expected.items():
        np.testing.assert_allclose(history.history[key][-1], value, rtol=1e-5, atol=1e-6)
    assert 0 < history.history["xai_deletion"][-1] < 1
    events = read_events(tmp_path / "tfxai_metrics")
    for key in keys:
        steps = [step for step, _ in events[f"epoch_{key}"]]
        values = [value for _, value in events[f"epoch_{key}"]]
        assert steps == [0, 1, 2]
        np.testing.assert_allclose(values, history.history[key], rtol=1e-6)


def test_early_stopping_monitors_a_metric(data, tmp_path):
    images, labels, _ = data
    model = fresh_model("sequential")
    # A baseline no pointing game can reach: Keras 3's EarlyStopping stops at the first epoch
    # after the first (epoch index 1), which it can only do if it read the value (a missing
    # key never stops training).
    stop = keras.callbacks.EarlyStopping(
        monitor="xai_pointing_game", mode="max", baseline=1.5, patience=0
    )
    history = model.fit(
        images,
        labels,
        epochs=4,
        batch_size=8,
        verbose=0,
        callbacks=[_callback(data, tmp_path), stop],
    )
    assert len(history.history["loss"]) == 2
    assert stop.stopped_epoch == 1


def test_freq_skips_epochs(data, tmp_path):
    images, labels, _ = data
    model = fresh_model("sequential")
    quality = _callback(data, tmp_path, freq=2)
    seen = []

    class Read(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append("xai_iou" in logs)

    model.fit(images, labels, epochs=3, batch_size=8, verbose=0, callbacks=[quality, Read()])
    assert seen == [True, False, True]


def test_default_metrics_and_mask_errors(data, tmp_path):
    images, labels, masks = data
    with_masks = tfxai.ExplanationMetricsCallback("grad_cam", (images, labels, masks), log_dir=None)
    assert with_masks.metrics == ("pointing_game", "deletion")
    without = tfxai.ExplanationMetricsCallback("grad_cam", images, log_dir=None)
    assert without.metrics == ("deletion", "insertion")
    with pytest.raises(ValueError, match="masks: pointing_game need object masks"):
        tfxai.ExplanationMetricsCallback("grad_cam", images, metrics=["pointing_game"])
    with pytest.raises(ValueError, match=r"masks: expected boolean masks of shape"):
        tfxai.ExplanationMetricsCallback("grad_cam", images, masks=masks[:3])
    with pytest.raises(ValueError, match="metrics: unknown \\['pointing'\\]"):
        tfxai.ExplanationMetricsCallback("grad_cam", (images, labels, masks), metrics=["pointing"])
    with pytest.raises(ValueError, match="metric_options: 'insertion' is not among"):
        tfxai.ExplanationMetricsCallback(
            "grad_cam", images, metrics=["deletion"], metric_options={"insertion": {}}
        )
