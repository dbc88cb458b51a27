"""A streamed run's settings: sizes, the explainer and its options, preprocessing, and
the `settings` dict its manifest records (shared by `explain_dataset` and the Beam
transform, so both record the same run the same way).
"""

from __future__ import annotations

from typing import Any

import keras

from tfxai import cache as cache_lib
from tfxai import inputs as inputs_lib
from tfxai import methods
from tfxai.explainer import hashable
from tfxai.scale import fingerprint as fingerprint_lib

#: The dtypes maps may be stored in.
DTYPES = ("float16", "float32")


def build_explainer(
    method: Any, model: keras.Model, layer: Any, options: dict[str, Any]
) -> tuple[Any, bool]:
    """`(explainer, normalize)`: the class twin of `method` built on `model`.

    Raises:
        ValueError: On an option the method does not take, or a call option other than
            `normalize` (e.g. `return_delta`).
        TypeError: If `method` is a callable that is not one of tfxai's explainers.
    """
    init, normalize = explainer_options(method, layer, options)
    if methods.is_instance(method):
        return methods.check_instance(method, model), normalize
    cls = methods.explainer_class(method)
    assert cls is not None  # explainer_options refused the rest
    # The function twins' cached explainer for these options, so a second run (or a run
    # after `tfxai.grad_cam(model, ...)`) reuses its compiled graphs.
    explainer, _ = cache_lib.fetch(
        cache_lib.EXPLAINER, model, (cls, hashable(init)), lambda: cls(model, **init)
    )
    return explainer, normalize


def explainer_options(
    method: Any, layer: Any, options: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """`(init_options, normalize)` of `method` with `options`, checked without a model.

    Raises:
        ValueError: On an option the method does not take, or a call option other than
            `normalize` (e.g. `return_delta`).
        TypeError: If `method` is a callable that is not one of tfxai's explainers.
    """
    cls = type(method) if methods.is_instance(method) else methods.explainer_class(method)
    if cls is None:
        raise TypeError(
            f"method: explain_dataset runs tfxai's explainers (a name from "
            f"tfxai.methods.METHODS, a class, function form or instance), got "
            f"{methods.method_name(method)!r}."
        )
    init, call = methods.split_options(method, layer, options)
    call.pop("batch_size", None)
    normalize = inputs_lib.check_bool(call.pop("normalize", True), "normalize")
    if call:
        raise ValueError(
            f"{next(iter(call))}: explain_dataset stores maps only; this option of "
            f"{methods.method_name(method)!r} is not supported here."
        )
    return init, normalize


def check_sizes(shard_size: Any, batch_size: Any, dtype: Any) -> tuple[int, int]:
    """`(shard_size, batch_size)` checked, with the maps' `dtype`.

    Raises:
        ValueError: If a size is not a positive integer, `shard_size` is not a multiple of
            `batch_size`, or `dtype` is not one of `DTYPES`.
    """
    shard_size = inputs_lib.positive_int(shard_size, "shard_size")
    batch_size = inputs_lib.positive_int(batch_size, "batch_size")
    if shard_size % batch_size:
        raise ValueError(
            f"shard_size: must be a multiple of batch_size ({batch_size}) so that a "
            f"resumed run explains the same batches, got {shard_size}; e.g. "
            f"shard_size={batch_size * max(1, round(shard_size / batch_size))}."
        )
    if dtype not in DTYPES:
        raise ValueError(f"dtype: expected one of {', '.join(DTYPES)}, got {dtype!r}.")
    return shard_size, batch_size


def run_settings(
    method: Any,
    explainer: Any,
    options: dict[str, Any],
    target: Any,
    metrics: tuple[str, ...],
    shard_size: int,
    batch_size: int,
    dtype: str,
    preprocessing: Any,
    source: dict[str, Any],
) -> dict[str, Any]:
    """The `settings` of a run's manifest (explain_dataset's; the Beam transform adds
    `"runner"`): what decides the maps, as JSON values.

    Args:
        method: The run's `method`.
        explainer: The explainer built from it (recorded by its `repr`).
        options: Dict, the method's options with `layer`.
        target: The run's `target`.
        metrics: The checked metric names.
        shard_size: Integer, images per shard.
        batch_size: Integer, images per batch.
        dtype: String, the stored maps' dtype.
        preprocessing: The run's `preprocessing`.
        source: Dict, the source's description (`tfxai.scale.sources`).
    """
    return {
        "method": methods.method_name(method),
        "explainer": repr(explainer),
        "options": fingerprint_lib.describe(options),
        "target": fingerprint_lib.describe(target),
        "metrics": list(metrics),
        "shard_size": shard_size,
        "batch_size": batch_size,
        "dtype": dtype,
        "preprocessing": fingerprint_lib.describe(preprocessing),
        "source": source,
    }


def batch_preprocessor(preprocessing: Any, model: keras.Model) -> Any:
    """The function of float32 image batches that `preprocessing` names for `model`, or
    `None` (the model takes [0, 1] images as they are)."""
    if preprocessing is None:
        return None
    from tfxai.featurevis.preprocessing import preprocessor

    channels = model.input_shape[-1] if not isinstance(model.input_shape, list) else 3
    function, _ = preprocessor(preprocessing, channels=channels, name="preprocessing")
    return function
