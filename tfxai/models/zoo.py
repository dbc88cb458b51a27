"""The bundled zoo: small models trained on `tfxai.datasets` shapes, shipped as files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

import json
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
FILES = {
    "shapes-classifier": "shapes-classifier.keras",
    "shapes-gap-classifier": "shapes-gap-classifier.keras",
    "shapes-unet": "shapes-unet.keras",
}
METRICS_FILE = "zoo.json"


def available() -> list[str]:
    """Names of the bundled models, e.g. `["shapes-classifier", "shapes-gap-classifier", ...]`."""
    return sorted(FILES)


def path(name: str) -> Path:
    """Path of the `.keras` file of a bundled model.

    Raises:
        ValueError: If `name` is not a bundled model (the message lists them).
    """
    if name not in FILES:
        import difflib

        close = difflib.get_close_matches(str(name), list(FILES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"name: no bundled model {name!r}.{hint} Available: {', '.join(available())}."
        )
    return ASSETS / FILES[name]


def load(name: str) -> keras.Model:
    """Loads a bundled model, trained and shipped with the package (nothing downloads).

    `"shapes-gap-classifier"`: `shapes_gap_classifier()`, a plain CNN with a global
    average pooling head trained on the labels of 96 px `make_shapes` images,
    probabilities `(B, 5)` (softmax); explain `"block4_out"`. Its CAMs look like those
    of a typical classifier (a region over the object), and `tfxai demo` uses it.
    `"shapes-classifier"`: `shapes_classifier()`, a small ResNet with a global MAX pooling
    head whose class map was also trained on the shape masks, logits `(B, 5)`; explain
    `"block4_out"`, where its CAMs peak at one point inside the object. `"shapes-unet"`:
    `unet()` trained for segmentation, logits `(B, 96, 96, 6)` (channel 0 background).
    All take RGB images in [0, 1]. Their held-out scores and training settings are in
    `info(name)`.

    Args:
        name: String, one of `available()`.

    Returns:
        An uncompiled `keras.Model`.

    Raises:
        ValueError: If `name` is unknown (the message lists the available names).
        FileNotFoundError: If the file is missing (train it: `python -m
            tfxai.models.train --model NAME`).

    Example:
        >>> model = tfxai.models.load("shapes-gap-classifier")
        >>> cams = tfxai.grad_cam(model, tfxai.datasets.make_shapes(8).images)
    """
    import keras

    file = path(name)
    if not file.is_file():
        raise FileNotFoundError(
            f"name: the file of bundled model {name!r} is missing: "
            f"{file}. Make it with `python -m tfxai.models.train "
            f"--model {name}`."
        )
    return keras.saving.load_model(file, compile=False)


def info(name: str | None = None) -> dict[str, Any]:
    """Held-out metrics and training settings recorded in `assets/zoo.json`.

    Args:
        name: String or `None` (default): one model's record, or all of them.

    Returns:
        A dict.

    Raises:
        ValueError: If `name` is unknown, or has no record in the manifest.
        FileNotFoundError: If the manifest is missing (a broken install).
    """
    manifest = ASSETS / METRICS_FILE
    if not manifest.is_file():
        raise FileNotFoundError(
            f"the zoo's manifest is missing: {manifest}. The install is "
            f"incomplete; reinstall tfxai (or make it with `python -m "
            f"tfxai.models.train --model all`)."
        )
    records = json.loads(manifest.read_text())
    if name is None:
        return records
    path(name)
    if name not in records:
        raise ValueError(
            f"name: bundled model {name!r} has no record in {manifest.name}; "
            f"retrain it with `python -m tfxai.models.train --model {name}`."
        )
    return records[name]
