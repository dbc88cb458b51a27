"""FeatureVisCallback: fixed-seed renderings each epoch, equal to `tfxai.render` on the
weights of that epoch, from one compiled step per objective."""

import keras
import numpy as np

import tfxai
from tests.callbacks.conftest import fresh_model, png, read_events
from tfxai.featurevis import channel, class_logit


def test_renders_what_render_gives_on_the_final_weights(data, tmp_path):
    images, labels, _ = data
    model = fresh_model("functional")
    objectives = {"class 2": class_logit(2), "conv2": channel("conv2", [0, 3])}
    callback = tfxai.FeatureVisCallback(objectives, steps=8, size=32, seed=3, log_dir=tmp_path)
    steps_seen = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            steps_seen.append({k: id(r.step) for k, r in callback.renderers.items()})

    model.fit(images, labels, epochs=2, batch_size=8, verbose=0, callbacks=[callback, Watch()])
    assert callback.warnings == []
    assert steps_seen[0] == steps_seen[1]  # the same compiled steps in both epochs
    final = callback.timeline[-1][1]
    for name, objective in objectives.items():
        expected = tfxai.render(model, objective, size=32, steps=8, seed=3, progress=False)
        got_images, got_values = final[name]
        np.testing.assert_allclose(got_images / 255.0, expected.images, atol=1 / 255 + 1e-4)
        np.testing.assert_allclose(got_values, expected.values, rtol=1e-4, atol=1e-5)
    first = callback.timeline[0][1]
    assert np.abs(first["conv2"][0].astype(int) - final["conv2"][0]).max() > 0  # it changed
    run = tmp_path / "tfxai_features"
    events = read_events(run)
    assert [s for s, _ in events["features"]] == [0, 1]
    np.testing.assert_array_equal(events["features"][1][1], png(run / "epoch_0002.png"))
    assert [s for s, _ in events["features/class 2"]] == [0, 1]
    np.testing.assert_allclose(events["features/class 2"][1][1], final["class 2"][1][0], rtol=1e-5)
    timeline = png(run / "timeline.png")  # rows: class 2, conv2[0], conv2[1]; 2 epochs
    assert timeline.shape[0] == 14 + 3 * 34 + 2
    assert [label for label, _ in callback.timeline] == ["epoch 1", "epoch 2"]


def test_grayscale_model_gets_grey_tiles_of_its_one_channel_renderings(tmp_path):
    keras.utils.set_random_seed(8)
    inputs = keras.Input((20, 28, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    model.compile(optimizer="sgd", loss="mse")
    callback = tfxai.FeatureVisCallback(
        channel("conv", [0, 1]), steps=4, size=16, seed=1, log_dir=tmp_path
    )
    model.fit(np.zeros((4, 20, 28, 1)), np.zeros((4, 2)), epochs=1, verbose=0, callbacks=[callback])
    assert callback.warnings == []
    ((images, _),) = callback.timeline[-1][1].values()
    expected = tfxai.render(
        model, channel("conv", [0, 1]), size=16, steps=4, seed=1, progress=False
    )
    assert images.shape == (2, 16, 16, 3)
    for c in range(3):  # the one rendered channel, repeated into grey RGB
        np.testing.assert_allclose(
            images[..., c] / 255.0, expected.images[..., 0], atol=1 / 255 + 1e-4
        )
    assert png(tmp_path / "tfxai_features" / "epoch_0001.png").ndim == 3
