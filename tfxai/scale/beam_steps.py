"""The steps of the Beam transform: what runs on the workers of `tfxai.beam.ExplainImages`.

`tfxai.scale.beam` checks the arguments on the launcher and wires these steps into a
pipeline; Beam pickles them to its workers, which run them in order:

1. `prepare_folder`: `out_dir` created, earlier explanations refused or cleared, once,
   before any shard is written;
2. `ExplainRuns`: each worker loads the model once (`load_model`) and builds the
   explainer; each batch of `(index, image)` elements is cut into runs of consecutive
   indices within one shard, and each run is explained at its first index, so the seeds
   of the noisy methods are those `explain_dataset` uses for the same positions;
3. `WriteShard`: a shard's runs sorted, its positions checked, the shard written
   atomically (`tfxai.scale.shards.write_shard`);
4. `WriteManifest`: the shards checked to cover the positions `0..N-1`, the complete
   manifest written with `explain_dataset`'s settings plus `"runner": "beam"`.

Longer than 300 lines because the four steps share one element format (`_record`,
`_field`) and one `Config`, and are read together as one pipeline.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

try:  # the one import guard of the Beam modules: tfxai.scale.beam imports this module first
    import apache_beam as beam
except ImportError as _error:
    raise ImportError(
        f'tfxai.beam needs Apache Beam; install it with: pip install "tfxai[beam]" '
        f"(importing apache_beam failed: {_error})."
    ) from _error

import keras
import numpy as np
import tensorflow as tf

from tfxai import inputs as inputs_lib
from tfxai.scale import batch_targets, per_image, rows, settings, sources
from tfxai.scale import fingerprint as fingerprint_lib
from tfxai.scale import manifest as manifest_lib
from tfxai.scale import shards as shards_lib

#: The keys of the elements given as tuples, in order.
FIELDS = ("index", "image", "label", "mask")


@dataclasses.dataclass(frozen=True)
class Config:
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


def holds_explanations(folder: str, overwrite: bool) -> bool:
    """Whether `folder` holds explanations already (a manifest); refused unless `overwrite`.

    Raises:
        ValueError: Naming `out_dir`, if `folder` holds a manifest and `overwrite` is False.
    """
    if manifest_lib.read(folder) is None:
        return False
    if not overwrite:
        raise ValueError(
            f"out_dir: {folder} already holds explanations ({manifest_lib.NAME}); a Beam "
            f"run writes a new folder. Use another out_dir, or overwrite=True to replace them."
        )
    return True


def prepare_folder(folder: str, overwrite: bool) -> str:
    """Creates `out_dir`, refuses or clears earlier explanations; runs before any write."""
    folder = os.fspath(inputs_lib.writable_folder(folder, "out_dir"))
    if holds_explanations(folder, overwrite):
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
            raise _twice(index)
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


class ExplainRuns(beam.DoFn):
    """Explains a batch of elements, run by run; yields `(shard, rows)`."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config

    def setup(self) -> None:
        config = self.config
        self.model = load_model(config.model_path)
        self.explainer, self.normalize = settings.build_explainer(
            config.method, self.model, config.layer, dict(config.options)
        )
        self.plan = batch_targets.BatchTargets(config.target, True)
        self.preprocess = settings.batch_preprocessor(config.preprocessing, self.model)
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
        row = rows.explain_rows(
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


class WriteShard(beam.DoFn):
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
        raise _twice(int(values[counts > 1][0]))
    raise _gap(int(expected[np.argmax(index != expected)]))


def _twice(position: int) -> ValueError:
    return ValueError(
        f"index: position {position} is given twice; expected each position 0..N-1 once."
    )


def _gap(position: int) -> ValueError:
    return ValueError(
        f"index: no element has position {position}, but later positions are given; "
        f"expected each position 0..N-1 once (the image's place in the whole dataset)."
    )


class WriteManifest(beam.DoFn):
    """Checks the written shards and writes the complete manifest; yields `out_dir`."""

    def __init__(self, config: Config) -> None:
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
                missing = entry["count"] if entry["number"] == expected else 0
                raise _gap(expected * config.shard_size + missing)
        count = sum(entry["count"] for entry in entries)
        batch_targets.BatchTargets(config.target, True).check_total(count)
        model = load_model(config.model_path)
        explainer, _ = settings.build_explainer(
            config.method, model, config.layer, dict(config.options)
        )
        recorded = settings.run_settings(
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
            dict(recorded, runner="beam"),
            fingerprint_lib.model_fingerprint(model),
            fingerprint_lib.versions(),
        )
        record.update(shards=entries, complete=True, count=count, map_shape=found[0][1])
        shards_lib.remove_stale(folder, {entry["file"] for entry in entries})
        manifest_lib.write(folder, record)
        yield folder
