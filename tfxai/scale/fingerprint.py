"""Fingerprints for the manifest: the model, the versions, and settings as JSON values.

A resumed run must compute what the first run computed, so the manifest keeps a
fingerprint of everything that decides the maps: the model's weights (SHA-256 over every
weight's path, shape, dtype and bytes, in order) and architecture, the tfxai / TF / Keras
versions, and the settings in a JSON form where arrays are recorded by their SHA-1 and
callables by their qualified name (a callable changed under the same name is not seen).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai.targets import Target


def model_fingerprint(model: keras.Model) -> dict[str, Any]:
    """`{"name", "class", "input_shape", "weights", "architecture"}` of `model`.

    `weights` is the SHA-256 of the weights; `architecture` that of the model's JSON config
    (`None` for a subclassed model without one, whose weights still identify it).
    """
    digest = hashlib.sha256()
    for weight in model.weights:
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(weight))
        digest.update(f"{weight.path}|{value.shape}|{value.dtype}|".encode())
        digest.update(value.tobytes())
    try:
        config = model.to_json(sort_keys=True)
    except (NotImplementedError, TypeError, ValueError):
        config = None
    return {
        "name": model.name,
        "class": type(model).__name__,
        "input_shape": _jsonable(getattr(model, "input_shape", None)),
        "weights": digest.hexdigest(),
        "architecture": hashlib.sha256(config.encode()).hexdigest() if config else None,
    }


def versions() -> dict[str, str]:
    """The tfxai, TensorFlow, Keras and numpy versions."""
    package = sys.modules["tfxai"]  # loaded before any of its submodules: no import here
    return {
        "tfxai": package.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def describe(value: Any) -> Any:
    """`value` as a JSON value for the settings: numbers, strings, `None` and booleans as
    they are, sequences and dicts item by item, arrays by shape and SHA-1, anything else
    (callables, layers) by its qualified name or its `name`; a `Target` by its name and
    its per-sample values (one mask per image) by content."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (np.ndarray, tf.Tensor)):
        array = np.ascontiguousarray(value)
        sha = hashlib.sha1(array.tobytes()).hexdigest()
        return {"array": list(array.shape), "dtype": str(array.dtype), "sha1": sha}
    if isinstance(value, (list, tuple)):
        if len(value) > 16 and np.asarray(value).dtype != object:
            return describe(np.asarray(value))
        return [describe(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): describe(item) for key, item in sorted(value.items(), key=str)}
    if isinstance(value, Target):  # its name, and its per-sample values by content
        params = value.bind(value.batch) if value.batch is not None else None
        return {"target": value.name, "values": describe(params)}
    name = getattr(value, "__qualname__", None) or getattr(value, "name", None)
    module = getattr(value, "__module__", None) or type(value).__module__
    return {"object": f"{module}.{name}" if name else type(value).__qualname__}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
