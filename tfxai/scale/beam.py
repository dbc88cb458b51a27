"""`ExplainImages`: `explain_dataset` as an Apache Beam transform, and `explain_folder`.

The transform runs the same compiled explainer as `explain_dataset` and writes the same
shards and `manifest.json`, so `load_explanations` reads a Beam run as it reads any other:

1. each worker loads the `.keras` model once (`DoFn.setup`) and builds the explainer;
2. `beam.BatchElements` groups the `(index, image)` elements into batches of at most
   `batch_size`; each batch is cut into runs of consecutive indices within one shard and
   each run is explained with `explain_bound` at its first index, so the per-image seeds
   of the noisy methods are those `explain_dataset` uses for the same positions;
3. the runs are keyed by shard (`index // shard_size`), grouped, sorted by index and each
   shard is written atomically (`tfxai.scale.shards.write_shard`);
4. one last step checks that the shards cover the positions `0..N-1` and writes the
   manifest, complete, with the settings of `explain_dataset` plus `"runner": "beam"`.

Shards and the manifest are written with local file APIs (`os`): `out_dir` must be a path
every worker can write (one machine, or a shared mount such as NFS or gcsfuse), not a
`gs://` URL. A Beam run is not resumed: Beam retries failed work itself.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

try:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
except ImportError as _error:
    raise ImportError(
        f'tfxai.beam needs Apache Beam; install it with: pip install "tfxai[beam]" '
        f"(importing apache_beam failed: {_error})."
    ) from _error

import keras
import numpy as np
import tensorflow as tf

from tfxai import inputs as inputs_lib
from tfxai import methods
from tfxai.scale import batch_targets, per_image, run, sources
from tfxai.scale import fingerprint as fingerprint_lib
from tfxai.scale import manifest as manifest_lib
from tfxai.scale import shards as shards_lib
from tfxai.scale.results import Explanations

#: The runner `explain_folder` uses when the options name none: Beam's in-process Python
#: runner. ("DirectRunner", Beam's default, first tries the Prism runner, which downloads
#: a binary from GitHub.)
LOCAL_RUNNER = "FnApiRunner"
#: The keys of the elements given as tuples, in order.
FIELDS = ("index", "image", "label", "mask")


@dataclasses.dataclass(frozen=True)
class _Config:
    """What the workers need, checked on the launcher: plain, picklable values."""

    model_path: str
    method: Any
    layer: Any
    options: dict[str, Any]
    target: Any
    metrics: tuple[str, ...]
    shard_size: int
    batch_size: int
    dtype: str
    preprocessing: Any
    source: dict[str, Any]
    folder: str
    overwrite: bool


class ExplainImages(beam.PTransform):
    """Explains a PCollection of images with one tfxai method into shards and a manifest.

    The Beam face of `tfxai.explain_dataset`: the same explainer, the same shard format,
    the same manifest settings (plus `"runner": "beam"`), so `tfxai.load_explanations(
    out_dir)` reads the result and the maps equal those of `explain_dataset` on the same
    images, seeded methods included. Batch pipelines only (the shards are written when
    all of a shard's images are explained).

    Elements are `(index, image)` or `(index, image, label)` tuples (`(index, image,
    label, mask)` for the localization metrics), or dicts with the keys `index`,
    `image` and optionally `label`, `mask` and `file`. `index` is the image's position in
    the whole dataset (an int; the positions must be `0..N-1`, each once); `image` is a
    float32 `(H, W, C)` array at the model's input size, or the path of an image file
    (PNG/JPEG/BMP/GIF, decoded and resized on the worker as `explain_dataset` reads a
    folder; the shards then record its `file`).

    Args:
        model_path: String or path, a `.keras` file every worker can read (loaded with
            `keras.models.load_model(compile=False)` once per worker), or the name of a
            bundled model (`"shapes-classifier"`, `"shapes-unet"`).
        method: A method name (`"grad_cam"`; `tfxai.methods.METHODS`), an explainer class
            or a function form. Not an explainer instance: each worker builds its own.
        out_dir: String or path, the output folder: a local path every worker can write
            (one machine or a shared mount), not a URL. It must not hold a manifest
            already, unless `overwrite=True`.
        target: `None` (predicted class, default), int, list of ints (one per position
            `0..N-1`), `"labels"` (each element's `label`), callable or `Target`.
        layer: The layer, for the methods that capture one; default as in the method.
        metrics: Sequence of names, default none. Per-image metrics, as in
            `explain_dataset`: `deletion`, `insertion`, `average_drop`,
            `increase_in_confidence`, and with masks `pointing_game`,
            `energy_pointing_game`, `iou`.
        shard_size: Integer, default 1024. Images per shard; a multiple of `batch_size`.
        batch_size: Integer, default 32. Images per batch (`beam.BatchElements`) and
            model evaluations per compiled pass.
        dtype: `"float16"` (default) or `"float32"`. The stored maps' dtype.
        preprocessing: `None` (default), `"caffe"`, `"tf"`, `"torch"` or a picklable
            callable on float32 image batches, applied before the model sees them.
        overwrite: Boolean, default False. Replace the explanations already in `out_dir`.
        source: Dict or `None` (default: `{"kind": "beam"}`), the description of the
            elements' origin recorded in the manifest's settings (`explain_folder` passes
            the folder's, as `explain_dataset` records it).
        **method_options: The method's options (`top_n`, `samples`, ...); `normalize` too.

    Returns:
        Applied to a PCollection, a PCollection of one element: `out_dir`, emitted once
        the manifest is written.

    Raises:
        ValueError: On bad arguments (the message names which), at construction; at run
            time, on elements that are not positions `0..N-1` each once, images the model
            does not take, or an `out_dir` that already holds explanations.
        TypeError: On arguments or elements of the wrong type.

    Example:
        >>> import apache_beam as beam
        >>> import tfxai.beam
        >>> with beam.Pipeline() as p:
        ...     (p | beam.Create(enumerate(images))
        ...        | tfxai.beam.ExplainImages("model.keras", "grad_cam", "/mnt/shared/run"))
        >>> tfxai.load_explanations("/mnt/shared/run").summary()
    """

    def __init__(
        self,
        model_path: str | os.PathLike,
        method: Any,
        out_dir: str | os.PathLike,
        *,
        target: Any = None,
        layer: Any = None,
        metrics: Any = (),
        shard_size: int = 1024,
        batch_size: int = 32,
        dtype: str = "float16",
        preprocessing: Any = None,
        overwrite: bool = False,
        source: Mapping[str, Any] | None = None,
        **method_options: Any,
    ) -> None:
        super().__init__()
        shard_size, batch_size = run.check_sizes(shard_size, batch_size, dtype)
        _check_method(method, layer, method_options)
        _check_preprocessing(preprocessing)
        plan = batch_targets.BatchTargets(target, True)
        names = per_image.check_metrics(metrics, True, plan.ids is None and plan.length is not None)
        if source is not None and not isinstance(source, Mapping):
            raise TypeError(
                f"source: expected a dict describing the elements' origin or None, "
                f"got {type(source).__name__}."
            )
        self._config = _Config(
            model_path=_model_path(model_path),
            method=method,
            layer=layer,
            options=dict(method_options),
            target=target,
            metrics=names,
            shard_size=shard_size,
            batch_size=batch_size,
            dtype=dtype,
            preprocessing=preprocessing,
            source=dict(source) if source is not None else {"kind": "beam"},
            folder=_out_dir(out_dir),
            overwrite=inputs_lib.check_bool(overwrite, "overwrite"),
        )

    @property
    def out_dir(self) -> str:
        """The output folder, as an absolute path."""
        return self._config.folder

    def expand(self, pcoll: Any) -> Any:
        """Builds the steps: prepare `out_dir`, batch, explain, group by shard, write the
        shards, write the manifest. Returns the PCollection of `out_dir`."""
        config = self._config
        ready = beam.pvalue.AsSingleton(
            pcoll.pipeline
            | "OutDir" >> beam.Create([config.folder])
            | "PrepareOutDir" >> beam.Map(_prepare_folder, config.overwrite)
        )
        entries = (
            pcoll
            | "Batch"
            >> beam.BatchElements(
                min_batch_size=config.batch_size, max_batch_size=config.batch_size
            )
            | "Explain" >> beam.ParDo(_ExplainRuns(config))
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(_WriteShard(config.shard_size), ready)
            | "ListShards" >> beam.combiners.ToList()
        )
        return entries | "WriteManifest" >> beam.ParDo(_WriteManifest(config), ready)


def explain_folder(
    model_path: str | os.PathLike,
    image_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    method: Any = "grad_cam",
    *,
    pipeline_options: Any = None,
    **kwargs: Any,
) -> Explanations:
    """Explains every image file of a folder with a Beam pipeline and returns the result.

    The files are listed in sorted path order, as `explain_dataset` reads a folder, and
    decoded and resized on the workers with the same TensorFlow ops, so the maps, targets,
    files and metrics equal those of `tfxai.explain_dataset(model, image_dir, method, ...)`.
    Without a runner in `pipeline_options` the pipeline runs here, on Beam's in-process
    Python runner (`FnApiRunner`: no download, no cluster).

    Args:
        model_path: String or path, a `.keras` file (or a bundled model's name) that every
            worker can read.
        image_dir: String or path, the folder of images (PNG/JPEG/BMP/GIF, read
            recursively); on a cluster, a path every worker can read.
        out_dir: String or path, the output folder: every worker writes into it and it is
            read back here, so on a cluster a shared mount.
        method: String, default `"grad_cam"`. The method name (or class, function form).
        pipeline_options: `None` (default: run here), an
            `apache_beam.options.pipeline_options.PipelineOptions`, a list of command-line
            flags (`["--runner=FlinkRunner", "--flink_master=host:8081"]`) or a dict of
            options.
        **kwargs: The options of `ExplainImages`: `target` (not `"labels"`: files have
            none), `layer`, `metrics`, `shard_size`, `batch_size`, `dtype`,
            `preprocessing`, `overwrite` and the method's own options.

    Returns:
        The `Explanations` of `out_dir` (see `tfxai.load_explanations`).

    Raises:
        ValueError: On bad arguments (the message names which), a folder without images,
            or an `out_dir` that holds explanations already (unless `overwrite=True`).
        TypeError: On arguments of the wrong type.

    Example:
        >>> import tfxai.beam
        >>> res = tfxai.beam.explain_folder("model.keras", "images/", "runs/beam",
        ...                                 "grad_cam", metrics=["deletion"])
        >>> res.summary()
    """
    folder = os.fspath(_path(image_dir, "image_dir"))
    paths, names, description = sources.folder_listing(folder, "image_dir")
    if "source" in kwargs:
        raise TypeError("source: explain_folder records the folder as the source itself.")
    if batch_targets.BatchTargets(kwargs.get("target"), True).labels:
        raise ValueError(
            "target: 'labels' takes each image's class from its label, but the files of a "
            "folder have none; pass None (the predicted class), a class id, or one class "
            "id per file in sorted path order."
        )
    transform = ExplainImages(model_path, method, out_dir, source=description, **kwargs)
    _refuse_explained(transform.out_dir, transform._config.overwrite)
    options = _pipeline_options(pipeline_options)
    runner = None if options.view_as(StandardOptions).runner else LOCAL_RUNNER
    elements = [
        {"index": i, "image": os.path.abspath(path), "file": name}
        for i, (path, name) in enumerate(zip(paths, names))
    ]
    with beam.Pipeline(runner=runner, options=options) as pipeline:
        _ = pipeline | "Files" >> beam.Create(elements) | "ExplainImages" >> transform
    return Explanations(transform.out_dir)


def load_model(model_path: str) -> keras.Model:
    """The model at `model_path` (a `.keras` file or a bundled model's name), uncompiled.

    Raises:
        ValueError: If the model cannot be loaded, naming the path.
    """
    from tfxai.models import zoo

    path = os.fspath(model_path)
    if path in zoo.FILES and not os.path.exists(path):
        path = os.fspath(zoo.path(path))
    try:
        return keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"model_path: cannot load a Keras model from {path!r} ({error}); expected a "
            f".keras file every worker can read, or a bundled model "
            f"({', '.join(sorted(zoo.FILES))})."
        ) from None


# --------------------------------------------------------------------------- the launcher


def _path(value: Any, name: str) -> str | os.PathLike:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"{name}: expected a path (str or os.PathLike), got {type(value).__name__}."
        )
    return value


def _model_path(model_path: Any) -> str:
    path = os.fspath(_path(model_path, "model_path"))
    return os.path.abspath(path) if os.path.exists(path) else path


def _out_dir(out_dir: Any) -> str:
    folder = os.fspath(_path(out_dir, "out_dir"))
    if "://" in folder:
        raise ValueError(
            f"out_dir: the shards are written with local file APIs, so out_dir must be a "
            f"path every worker can write (a shared mount such as NFS or gcsfuse), not a "
            f"URL; got {folder!r}."
        )
    return os.path.abspath(folder)


def _check_method(method: Any, layer: Any, options: dict[str, Any]) -> None:
    """The checks of `method` and its options that need no model (the rest, such as the
    layer's name, run on the workers, which load it)."""
    if methods.is_instance(method):
        raise TypeError(
            f"method: each Beam worker builds its own explainer on the model it loads; "
            f"pass the method's name ({methods.method_name(method)!r}) or class with its "
            f"options, not a {type(method).__name__} instance."
        )
    if methods.explainer_class(method) is None:
        raise TypeError(
            f"method: ExplainImages runs tfxai's explainers (a name from "
            f"tfxai.methods.METHODS, a class or a function form), got "
            f"{methods.method_name(method)!r}."
        )
    run.explainer_options(method, layer, options)


def _check_preprocessing(preprocessing: Any) -> None:
    """Refuses an unknown `preprocessing` before the workers start (the channel count of
    the named modes is checked on the workers, against the model)."""
    if preprocessing is not None:
        from tfxai.featurevis.preprocessing import preprocessor

        preprocessor(preprocessing, channels=3, name="preprocessing")


def _pipeline_options(value: Any) -> PipelineOptions:
    if value is None:
        return PipelineOptions(flags=[])
    if isinstance(value, PipelineOptions):
        return value
    if isinstance(value, Mapping):
        return PipelineOptions(flags=[], **value)
    flags = isinstance(value, Sequence) and not isinstance(value, str)
    if flags and all(isinstance(flag, str) for flag in value):
        return PipelineOptions(flags=list(value))
    raise TypeError(
        f"pipeline_options: expected PipelineOptions, a list of flags (e.g. "
        f"['--runner=FlinkRunner', '--flink_master=host:8081']), a dict or None, "
        f"got {value!r:.80}."
    )


def _refuse_explained(folder: str, overwrite: bool) -> None:
    """Refuses an `out_dir` that holds a manifest, before the pipeline starts."""
    if not overwrite and manifest_lib.read(folder) is not None:
        raise _explained_error(folder)


def _explained_error(folder: str) -> ValueError:
    return ValueError(
        f"out_dir: {folder} already holds explanations ({manifest_lib.NAME}); a Beam run "
        f"writes a new folder. Use another out_dir, or overwrite=True to replace them."
    )


# --------------------------------------------------------------------------- the workers


def _prepare_folder(folder: str, overwrite: bool) -> str:
    """Creates `out_dir`, refuses or clears earlier explanations; runs before any write."""
    folder = os.fspath(inputs_lib.writable_folder(folder, "out_dir"))
    if manifest_lib.read(folder) is not None:
        if not overwrite:
            raise _explained_error(folder)
        os.remove(manifest_lib.path_in(folder))
    shards_lib.remove_stale(folder, set())
    return folder


def _record(element: Any) -> dict[str, Any]:
    """An element as a dict `{"index", "image", ...}`, its index checked."""
    if isinstance(element, Mapping):
        record = dict(element)
    elif isinstance(element, (tuple, list)) and 2 <= len(element) <= len(FIELDS):
        record = dict(zip(FIELDS, element))
    else:
        record = {}
    if "index" not in record or "image" not in record:
        raise TypeError(
            f"elements: expected (index, image), (index, image, label) or a dict with "
            f"'index' and 'image', got {type(element).__name__} {element!r:.80}."
        )
    index = record["index"]
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, numbers.Integral):
        raise TypeError(
            f"index: expected each element's position in the dataset as an int, got "
            f"{index!r:.60} ({type(index).__name__})."
        )
    if index < 0:
        raise ValueError(f"index: expected positions 0..N-1, got {int(index)}.")
    record["index"] = int(index)
    if "file" not in record and _is_path(record["image"]):
        record["file"] = record["image"]
    return record


def _runs(records: list[dict[str, Any]], shard_size: int) -> Iterator[list[dict[str, Any]]]:
    """The records (sorted by index) cut into runs of consecutive indices in one shard."""
    current: list[dict[str, Any]] = []
    for record in records:
        index = record["index"]
        if current and index == current[-1]["index"]:
            raise ValueError(f"index: position {index} is given twice; expected each once.")
        follows = current and index == current[-1]["index"] + 1
        if current and (not follows or index % shard_size == 0):
            yield current
            current = []
        current.append(record)
    if current:
        yield current


def _is_path(image: Any) -> bool:
    return isinstance(image, (str, os.PathLike))


def _field(run_records: list[dict[str, Any]], key: str) -> list[Any] | None:
    """The values of `key` in every record of a run, or `None` when no record has one."""
    present = [key in record for record in run_records]
    if not any(present):
        return None
    if not all(present):
        index = run_records[present.index(False)]["index"]
        raise ValueError(
            f"elements: some elements have a {key!r} and others do not (the one at "
            f"index {index} has none); give it for every element or none."
        )
    return [record[key] for record in run_records]


class _ExplainRuns(beam.DoFn):
    """Explains a batch of elements, run by run; yields `(shard, rows)`."""

    def __init__(self, config: _Config) -> None:
        super().__init__()
        self.config = config

    def setup(self) -> None:
        config = self.config
        self.model = load_model(config.model_path)
        self.explainer, self.normalize = run.build_explainer(
            config.method, self.model, config.layer, dict(config.options)
        )
        self.plan = batch_targets.BatchTargets(config.target, True)
        self.preprocess = run.batch_preprocessor(config.preprocessing, self.model)
        self.size: tuple[int, int, int] | None = None

    def process(self, batch: Iterable[Any]) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        records = sorted((_record(element) for element in batch), key=lambda r: r["index"])
        for records_run in _runs(records, self.config.shard_size):
            position = records_run[0]["index"]
            yield position // self.config.shard_size, self.rows(records_run, position)

    def rows(self, records: list[dict[str, Any]], position: int) -> dict[str, np.ndarray]:
        """The shard rows of a run of consecutive images from `position`."""
        config = self.config
        images = np.stack([self.image(record) for record in records])
        if self.preprocess is not None:
            images = np.asarray(self.preprocess(tf.constant(images, tf.float32)))
        labels, masks = _field(records, "label"), _field(records, "mask")
        if self.plan.labels and labels is None:
            raise ValueError(
                f"target: 'labels' takes each image's class from its element's label, but "
                f"the element at index {position} has none; give elements (index, image, "
                f"label)."
            )
        needs_masks = [name for name in config.metrics if name in per_image.LOCALIZATION]
        if needs_masks and masks is None:
            raise ValueError(
                f"metrics: {needs_masks[0]!r} compares maps with object masks, but the "
                f"element at index {position} has none; give elements (index, image, "
                f"label, mask) or dicts with a 'mask'."
            )
        row = run.explain_rows(
            self.explainer,
            self.normalize,
            self.plan,
            config.metrics,
            config.batch_size,
            np.dtype(config.dtype),
            images,
            position,
            labels=None if labels is None else np.stack(labels),
            masks=None if masks is None else np.stack(masks),
            name="image",
        )
        files = _field(records, "file")
        if files is not None:
            row["file"] = np.asarray([os.fspath(file) for file in files])
        return row

    def image(self, record: dict[str, Any]) -> np.ndarray:
        """The record's image: its array, or its file decoded as `explain_dataset` does."""
        image = record["image"]
        if _is_path(image):
            if self.size is None:
                self.size = sources.folder_image_size(self.model)
            return sources.decode_image(os.fspath(image), self.size).numpy()
        return np.asarray(image)


class _WriteShard(beam.DoFn):
    """Writes one shard from its runs; yields `(manifest entry, map shape)`."""

    def __init__(self, shard_size: int) -> None:
        super().__init__()
        self.shard_size = shard_size

    def process(
        self, element: tuple[int, Iterable[dict[str, np.ndarray]]], folder: str
    ) -> Iterator[tuple[dict[str, Any], list[int]]]:
        number, parts = element
        rows = sorted(parts, key=lambda row: int(row["index"][0]))
        keys = list(rows[0])
        for row in rows:
            if sorted(row) != sorted(keys):
                raise ValueError(
                    f"elements: the elements of shard {number} do not all carry the same "
                    f"fields ({', '.join(sorted(set(row) ^ set(keys)))} differ); give "
                    f"labels, masks and files for every element or none."
                )
        arrays = {key: np.concatenate([row[key] for row in rows]) for key in keys}
        start = number * self.shard_size
        _check_positions(arrays["index"], start, self.shard_size)
        entry = shards_lib.write_shard(folder, number, start, arrays)
        yield entry, [int(n) for n in arrays["maps"].shape[1:]]


def _check_positions(index: np.ndarray, start: int, shard_size: int) -> None:
    """Raises unless `index` is `start, start + 1, ...` (at most `shard_size` of them)."""
    expected = np.arange(start, start + len(index))
    if len(index) <= shard_size and np.array_equal(index, expected):
        return
    values, counts = np.unique(index, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(
            f"index: position {int(values[counts > 1][0])} is given twice; expected each "
            f"position 0..N-1 once."
        )
    missing = int(expected[np.argmax(index != expected)])
    raise ValueError(
        f"index: no element has position {missing}, but later positions are given; "
        f"expected each position 0..N-1 once (the image's place in the whole dataset)."
    )


class _WriteManifest(beam.DoFn):
    """Checks the written shards and writes the complete manifest; yields `out_dir`."""

    def __init__(self, config: _Config) -> None:
        super().__init__()
        self.config = config

    def process(self, found: list[tuple[dict[str, Any], list[int]]], folder: str) -> Iterator[str]:
        config = self.config
        if not found:
            raise ValueError(
                "elements: the PCollection is empty; expected at least one (index, image)."
            )
        found = sorted(found, key=lambda item: item[0]["number"])
        entries = [entry for entry, _ in found]
        for expected, entry in enumerate(entries):
            full = expected < len(entries) - 1
            if entry["number"] != expected or (full and entry["count"] != config.shard_size):
                gap = expected * config.shard_size
                gap += entry["count"] if entry["number"] == expected else 0
                raise ValueError(
                    f"index: no element has position {gap}, but later positions are "
                    f"given; expected each position 0..N-1 once (the image's place in "
                    f"the whole dataset)."
                )
        count = sum(entry["count"] for entry in entries)
        batch_targets.BatchTargets(config.target, True).check_total(count)
        model = load_model(config.model_path)
        explainer, _ = run.build_explainer(config.method, model, config.layer, dict(config.options))
        settings = run.run_settings(
            config.method,
            explainer,
            dict(config.options, layer=config.layer),
            config.target,
            config.metrics,
            config.shard_size,
            config.batch_size,
            config.dtype,
            config.preprocessing,
            config.source,
        )
        record = manifest_lib.new(
            dict(settings, runner="beam"),
            fingerprint_lib.model_fingerprint(model),
            fingerprint_lib.versions(),
        )
        record.update(shards=entries, complete=True, count=count, map_shape=found[0][1])
        shards_lib.remove_stale(folder, {entry["file"] for entry in entries})
        manifest_lib.write(folder, record)
        yield folder
