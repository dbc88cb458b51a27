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
import threading
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import inputs as inputs_lib
from tfxai.scale import batch_targets, per_image, replicas, sources
from tfxai.scale import fingerprint as fingerprint_lib
from tfxai.scale import manifest as manifest_lib
from tfxai.scale import shards as shards_lib
from tfxai.scale.results import Explanations
from tfxai.scale.rows import explain_rows
from tfxai.scale.settings import (
    batch_preprocessor,
    build_explainer,
    check_sizes,
    run_settings,
)


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
            labels, masks)`, or dicts with `"image"` (and `"label"`, `"mask"`), batched
            or not; an image array; or a folder of image files
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
        batches = [iter(pipeline.prefetch(tf.data.AUTOTUNE))]
        try:
            for element in sources.read_batches(batches[0], self.explainer.model):
                count = int(element["image"].shape[0])
                if position // self.shard_size not in done:
                    self.rows.append(self.explain(element, position))
                    if (position + count) % self.shard_size == 0:
                        self.flush(folder, record)
                position += count
                bar.update(count)
        finally:
            bar.close()
            _release(batches)
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


def _release(holder: list) -> None:
    """Drops the tf.data iterator in `holder` on a short-lived thread.

    Destroying an autotuned tf.data iterator can block its caller for up to ~3 s without
    using any CPU (measured here: 0 s in most runs, 1.5-2.7 s in others, while tf.data's
    autotuning thread winds down); the maps are all written by then, so the wait is moved
    off the caller. The thread is not a daemon: the interpreter waits for it at exit.
    """
    threading.Thread(target=holder.clear, name="tfxai-release-iterator").start()


def _progress_bar(progress, record, stream, position):
    if progress:  # tqdm.auto warns in a notebook without ipywidgets: only when shown
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm

    cardinality = int(stream.cardinality())
    return tqdm(
        total=cardinality if cardinality >= 0 else None,
        initial=position,
        disable=not progress,
        unit="img",
        desc=f"explain_dataset {record['settings']['method']}",
    )
