"""`explain_dataset`: a whole dataset through one explainer, streamed into resumable shards.

The source (`tfxai.scale.sources`) is read by `tf.data` (parallel decoding, prefetch, so
reading overlaps explaining), batch by batch; every batch is explained by the same compiled
explainer, optionally split across a `tf.distribute` strategy's replicas, scored by the
per-image metrics, and appended to the current shard; a full shard is written atomically
and only then recorded, with its checksum, in `manifest.json`. Nothing else is kept: memory
holds one batch in flight and one shard's maps.

Batches start at shard boundaries (`shard_size` is a multiple of `batch_size`), so a resumed
run explains exactly the batches an uninterrupted one would, with the same positions (the
seeds of the noisy methods): its shards are bit-identical.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import cache as cache_lib
from tfxai import inputs as inputs_lib
from tfxai import methods
from tfxai.explainer import hashable
from tfxai.scale import batch_targets, per_image, replicas, sources
from tfxai.scale import fingerprint as fingerprint_lib
from tfxai.scale import manifest as manifest_lib
from tfxai.scale import shards as shards_lib
from tfxai.scale.results import Explanations

DTYPES = ("float16", "float32")


def explain_dataset(
    model: keras.Model,
    dataset: Any,
    method: Any,
    out_dir: str | os.PathLike,
    *,
    target: Any = None,
    layer: Any = None,
    metrics: Any = (),
    shard_size: int = 1024,
    batch_size: int = 32,
    dtype: str = "float16",
    strategy: tf.distribute.Strategy | None = None,
    preprocessing: Any = None,
    overwrite: bool = False,
    progress: bool = True,
    **method_options: Any,
) -> Explanations:
    """Explains every image of a dataset and writes the maps and metrics in shards.

    Resumable: run it again with the same arguments after an interruption (even `kill -9`)
    and it redoes only the shards not recorded whole in `manifest.json`, giving the same
    bytes as an uninterrupted run.

    Args:
        model: A Keras model with one image input; never changed.
        dataset: A finite `tf.data.Dataset` of images, `(images, labels)` or `(images,
            labels, masks)` (batched or not), an image array, or a folder of image files
            (PNG/JPEG/BMP/GIF, read in sorted path order as [0, 1] RGB or grayscale,
            resized to the model's input).
        method: A method name (`"grad_cam"`; `tfxai.methods.METHODS`), an explainer class,
            function form or instance built on `model`.
        out_dir: String or path, the output folder (created).
        target: `None` (predicted class), int, list of ints (one per image of the whole
            dataset), `"labels"` (each element's `y`), callable or `Target`.
        layer: The layer, for the methods that capture one; default as in the method.
        metrics: Sequence of names, default none. Per-image metrics: `deletion`,
            `insertion`, `average_drop`, `increase_in_confidence`, and with masks
            `pointing_game`, `energy_pointing_game`, `iou`.
        shard_size: Integer, default 1024. Images per shard; a multiple of `batch_size`.
        batch_size: Integer, default 32. Images per batch (and model evaluations per
            compiled pass, as in the method's own `batch_size`).
        dtype: `"float16"` (default) or `"float32"`. The stored maps' dtype.
        strategy: A `tf.distribute.Strategy` (e.g. `MirroredStrategy()` over local GPUs),
            default `None`. Each batch is split across its replicas.
        preprocessing: `None` (default), `"caffe"`, `"tf"`, `"torch"` or a callable on
            float32 image batches: applied to each batch before the model sees it.
        overwrite: Boolean, default False. Discard a folder explained with other settings.
        progress: Boolean, default True. Show a progress bar (images/s).
        **method_options: The method's options (`top_n`, `steps`, ...); `normalize` too.

    Returns:
        The `Explanations` of the folder (see `load_explanations`).

    Raises:
        ValueError: On bad arguments (the message names which), an infinite dataset, or a
            folder explained with other settings, model or versions (it lists what differs).
        TypeError: On arguments of the wrong type.

    Example:
        >>> res = tfxai.explain_dataset(model, val_ds, "grad_cam", "runs/val",
        ...                             target="labels", metrics=["deletion"])
        >>> res.summary()
    """
    shard_size, batch_size = check_sizes(shard_size, batch_size, dtype)
    overwrite = inputs_lib.check_bool(overwrite, "overwrite")
    progress = inputs_lib.check_bool(progress, "progress")
    strategy = replicas.check_strategy(strategy)
    explainer, normalize = build_explainer(method, model, layer, method_options)
    stream, source = sources.image_stream(dataset, model)
    plan = batch_targets.BatchTargets(target, "label" in stream.element_spec)
    names = per_image.check_metrics(
        metrics, "mask" in stream.element_spec, plan.ids is None and plan.length is not None
    )
    preprocess = batch_preprocessor(preprocessing, model)
    settings = run_settings(
        method,
        explainer,
        dict(method_options, layer=layer),
        target,
        names,
        shard_size,
        batch_size,
        dtype,
        preprocessing,
        source,
    )
    folder = os.fspath(inputs_lib.writable_folder(out_dir, "out_dir"))
    record = open_folder(folder, settings, model, overwrite)
    if not record["complete"]:
        run = _Run(explainer, normalize, plan, names, strategy, batch_size, dtype)
        run.stream(folder, record, stream, preprocess, progress)
    return Explanations(folder)


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


def open_folder(
    folder: str, settings: dict[str, Any], model: keras.Model, overwrite: bool
) -> dict[str, Any]:
    """The manifest to continue: the folder's own when it matches, else a new one.

    Shards recorded in the manifest whose files are missing or fail their checksum are
    dropped (to be redone); files not recorded are deleted.

    Raises:
        ValueError: If the folder was explained with other settings, model or versions and
            `overwrite` is False.
    """
    record = manifest_lib.new(
        settings, fingerprint_lib.model_fingerprint(model), fingerprint_lib.versions()
    )
    old = manifest_lib.read(folder)
    if old is not None and not overwrite:
        lines = manifest_lib.differences(old, record)
        if lines:
            raise manifest_lib.refuse_resume(folder, lines)
        intact = [entry for entry in old["shards"] if shards_lib.is_intact(folder, entry)]
        complete = old.get("complete") and len(intact) == len(old["shards"])
        record.update(shards=intact, complete=bool(complete), count=old.get("count"))
        record.update({key: old[key] for key in ("map_shape",) if key in old})
    shards_lib.remove_stale(folder, {entry["file"] for entry in record["shards"]})
    if record != old:
        manifest_lib.write(folder, record)
    return record


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


class _Run:
    """One pass over the stream: explains the batches of the shards not done, writes them."""

    def __init__(self, explainer, normalize, plan, names, strategy, batch_size, dtype):
        self.explainer, self.normalize, self.plan = explainer, normalize, plan
        self.names, self.strategy = names, strategy
        self.batch_size, self.dtype = batch_size, np.dtype(dtype)
        self.shard_size = 0
        self.rows: list[dict[str, np.ndarray]] = []

    def stream(self, folder, record, stream, preprocess, progress):
        """Explains the shards missing from `record`, writing each when it is whole."""
        self.shard_size = record["settings"]["shard_size"]
        done = {entry["number"] for entry in record["shards"]}
        first = next(number for number in range(len(done) + 1) if number not in done)
        position = first * self.shard_size
        pipeline = stream.skip(position).batch(self.batch_size)
        if preprocess is not None:
            pipeline = pipeline.map(lambda e: dict(e, image=preprocess(e["image"])))
        bar = _progress_bar(progress, record, stream, position)
        for element in pipeline.prefetch(tf.data.AUTOTUNE):
            count = int(element["image"].shape[0])
            if position // self.shard_size not in done:
                self.rows.append(self.explain(element, position))
                if (position + count) % self.shard_size == 0:
                    self.flush(folder, record)
            position += count
            bar.update(count)
        bar.close()
        if position == 0:
            raise ValueError("dataset: the dataset is empty; expected at least one image.")
        self.flush(folder, record)
        self.plan.check_total(position)
        record.update(complete=True, count=position)
        manifest_lib.write(folder, record)

    def explain(self, element, position):
        """The shard rows of one batch: maps, positions, class ids, metrics, files."""
        row = explain_rows(
            self.explainer,
            self.normalize,
            self.plan,
            self.names,
            self.batch_size,
            self.dtype,
            element["image"],
            position,
            labels=element.get("label"),
            masks=element.get("mask"),
            strategy=self.strategy,
        )
        if "file" in element:
            row["file"] = np.asarray([f.decode() for f in element["file"].numpy()])
        return row

    def flush(self, folder, record):
        """Writes the rows gathered so far as one shard and records it."""
        if not self.rows:
            return
        arrays = {key: np.concatenate([row[key] for row in self.rows]) for key in self.rows[0]}
        start = int(arrays["index"][0])
        entry = shards_lib.write_shard(folder, start // self.shard_size, start, arrays)
        record["shards"].append(entry)
        record["map_shape"] = list(arrays["maps"].shape[1:])
        manifest_lib.write(folder, record)
        self.rows = []


def explain_rows(
    explainer: Any,
    normalize: bool,
    plan: batch_targets.BatchTargets,
    names: tuple[str, ...],
    batch_size: int,
    dtype: Any,
    images: Any,
    position: int,
    *,
    labels: Any = None,
    masks: Any = None,
    strategy: tf.distribute.Strategy | None = None,
    name: str = "dataset",
) -> dict[str, np.ndarray]:
    """The shard rows of consecutive images: maps, positions, class ids and metrics.

    Args:
        explainer: The explainer (from `build_explainer`).
        normalize: Boolean, scale each map to [0, 1].
        plan: The run's `BatchTargets`.
        names: The metric names.
        batch_size: Integer, model evaluations per compiled pass.
        dtype: The stored maps' dtype.
        images: Float32 images `(n, H, W, C)`, already preprocessed.
        position: Integer, the dataset position of the first image (the seeds of the
            noisy methods and the slice of a per-sample target come from it).
        labels: The images' labels (for `target="labels"`), default `None`.
        masks: The images' object masks (for the localization metrics), default `None`.
        strategy: A `tf.distribute.Strategy` splitting the images, default `None`.
        name: String, default "dataset". The argument named by image errors.

    Returns:
        Dict of arrays of length `n`: `maps`, `index`, `target`, `metric.NAME`...
    """
    model = explainer.model
    images = inputs_lib.as_image_batch(images, model, name)
    count = len(images)
    target, params, ids = plan.for_batch(position, count, labels)

    def maps_of(start, stop):
        return explainer.explain_bound(
            images[start:stop],
            target,
            inputs_lib.slice_params(params, start, stop),
            batch_size,
            position + start,
            normalize,
        )

    if strategy is None:
        maps = maps_of(0, count)
    else:
        maps = replicas.run_split(strategy, maps_of, count, images.shape[1:-1])
    row = {"maps": maps.astype(dtype), "index": np.arange(position, position + count)}
    row["target"] = ids
    masks = None if masks is None else _masks(masks, maps.shape)
    for metric in names:
        row[shards_lib.METRIC + metric] = per_image.compute(
            metric, model, images, maps, plan.metric_target(ids), masks, batch_size
        )
    return row


def _masks(masks, shape):
    array = np.asarray(masks)
    if array.ndim == len(shape) + 1 and array.shape[-1] == 1:
        array = array[..., 0]
    return array.astype(bool)


def _progress_bar(progress, record, stream, position):
    from tqdm.auto import tqdm

    cardinality = int(stream.cardinality())
    return tqdm(
        total=cardinality if cardinality >= 0 else None,
        initial=position,
        disable=not progress,
        unit="img",
        desc=f"explain_dataset {record['settings']['method']}",
    )
