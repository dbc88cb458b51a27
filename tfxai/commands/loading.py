"""MODEL on the command line: a bundled model, a `.keras` file, or Keras' ResNet50."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras


def load_model(name: str, weights: str | None) -> keras.Model:
    """The model MODEL names; imports TensorFlow (quietly).

    Args:
        name: String: a bundled model (`tfxai.models.available()`), `"resnet50"`
            (`tfxai.models.resnet50`, random weights unless `weights` is given) or the
            path of a `.keras` file.
        weights: String or `None`: resnet50 only, `"imagenet"` (downloads) or a file.

    Returns:
        The `keras.Model`.

    Raises:
        ValueError: Naming `model` or `--weights`, on a bad name or a file Keras cannot
            load.
    """
    from tfxai.commands.quiet import import_tensorflow

    import_tensorflow()
    from tfxai import models

    if name == "resnet50":
        return models.resnet50(weights=weights)
    if weights is not None:
        raise ValueError(f"--weights: only for the resnet50 model, got model {name!r}.")
    if name in models.available():
        return models.load(name)
    if name.endswith(".keras"):
        return load_keras_file(name)
    raise ValueError(
        f"model: expected one of {', '.join(models.available())}, resnet50 "
        f"or a .keras file, got {name!r}."
    )


def load_keras_file(path: str) -> keras.Model:
    """The model saved in a `.keras` file; every failure is one `ValueError` naming MODEL.

    Args:
        path: String, the file.

    Returns:
        The `keras.Model`, uncompiled.

    Raises:
        ValueError: Naming `model`: no such file, a folder, or not a Keras model.
    """
    if not os.path.exists(path):
        raise ValueError(f"model: no such file {path!r}; expected a .keras file.")
    if not os.path.isfile(path):
        raise ValueError(f"model: {path!r} is a folder; expected a .keras file.")
    import keras

    import tfxai.models  # noqa: F401  (registers tfxai's layers, e.g. CaffePreprocessing)

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # Keras raises many kinds for a file it cannot read
        text = str(err).strip()
        cause = f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__
        raise ValueError(
            f"model: cannot load {path!r} as a Keras model ({cause}); expected "
            f"a file saved with model.save('name.keras')."
        ) from None
