"""`ExplainImages`: `explain_dataset` as an Apache Beam transform, and `explain_folder`.

The transform runs the same compiled explainer as `explain_dataset` and writes the same
shards and `manifest.json` (settings plus `"runner": "beam"`), so `load_explanations`
reads a Beam run as it reads any other. This module is the launcher's side: the
arguments checked before any worker starts, and the pipeline wired from the steps of
`tfxai.scale.beam_steps` (one model per worker, runs of consecutive indices explained at
their own positions, shards written by number, one manifest).

Shards and the manifest are written with local file APIs (`os`): `out_dir` must be a path
every worker can write (one machine, or a shared mount such as NFS or gcsfuse), not a
`gs://` URL. A Beam run is not resumed: Beam retries failed work itself.

Longer than 300 lines only because of the full docstrings of its two public entry points
(some 120 lines).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

# First: without Apache Beam, importing the steps raises the ImportError that says how to
# install it (`import a.b as c` re-imports a module dropped from sys.modules, as tests do).
import tfxai.scale.beam_steps as steps

# isort: split
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from tfxai import inputs as inputs_lib
from tfxai import methods
from tfxai.scale import batch_targets, per_image, settings, sources
from tfxai.scale.results import Explanations

#: The runner `explain_folder` uses when the options name none: Beam's in-process Python
#: runner. ("DirectRunner", Beam's default, first tries the Prism runner, which downloads
#: a binary from GitHub.)
LOCAL_RUNNER = "FnApiRunner"


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

    Applied to a PCollection, the transform outputs a PCollection of one element,
    `out_dir`, emitted once the manifest is written.

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
        shard_size, batch_size = settings.check_sizes(shard_size, batch_size, dtype)
        _check_method(method, layer, method_options)
        _check_preprocessing(preprocessing)
        plan = batch_targets.BatchTargets(target, True)
        names = per_image.check_metrics(metrics, True, plan.ids is None and plan.length is not None)
        if source is not None and not isinstance(source, Mapping):
            raise TypeError(
                f"source: expected a dict describing the elements' origin or None, "
                f"got {type(source).__name__}."
            )
        self._config = steps.Config(
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
            | "PrepareOutDir" >> beam.Map(steps.prepare_folder, config.overwrite)
        )
        entries = (
            pcoll
            | "Batch"
            >> beam.BatchElements(
                min_batch_size=config.batch_size, max_batch_size=config.batch_size
            )
            | "Explain" >> beam.ParDo(steps.ExplainRuns(config))
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(steps.WriteShard(config.shard_size), ready)
            | "ListShards" >> beam.combiners.ToList()
        )
        return entries | "WriteManifest" >> beam.ParDo(steps.WriteManifest(config), ready)


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
    # Refused here, before the pipeline starts, and again on the workers (PrepareOutDir).
    steps.holds_explanations(transform.out_dir, transform._config.overwrite)
    options = _pipeline_options(pipeline_options)
    runner = None if options.view_as(StandardOptions).runner else LOCAL_RUNNER
    elements = [
        {"index": i, "image": os.path.abspath(path), "file": name}
        for i, (path, name) in enumerate(zip(paths, names))
    ]
    with beam.Pipeline(runner=runner, options=options) as pipeline:
        _ = pipeline | "Files" >> beam.Create(elements) | "ExplainImages" >> transform
    return Explanations(transform.out_dir)


# --------------------------------------------------------------------------- the checks


def _path(value: Any, name: str) -> str | os.PathLike:
    """`value`, refused unless it is a path, naming the argument `name`."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"{name}: expected a path (str or os.PathLike), got {type(value).__name__}."
        )
    return value


def _model_path(model_path: Any) -> str:
    """An existing file as an absolute path (the workers' folder may differ); else as is."""
    path = os.fspath(_path(model_path, "model_path"))
    return os.path.abspath(path) if os.path.exists(path) else path


def _out_dir(out_dir: Any) -> str:
    """`out_dir` as an absolute local path; URLs are refused."""
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
    settings.explainer_options(method, layer, options)


def _check_preprocessing(preprocessing: Any) -> None:
    """Refuses an unknown `preprocessing` before the workers start (the channel count of
    the named modes is checked on the workers, against the model)."""
    if preprocessing is not None:
        from tfxai.featurevis.preprocessing import preprocessor

        preprocessor(preprocessing, channels=3, name="preprocessing")


def _pipeline_options(value: Any) -> PipelineOptions:
    """`pipeline_options` (None, PipelineOptions, flags or a dict) as `PipelineOptions`."""
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
