"""`load_explanations`: an explained dataset read back lazily, shard by shard.

Shards are read with numpy (no model, no graph): a finished run of `explain_dataset` or of
the Beam transform is read the same way. Maps are read when indexed, one shard at a time,
and each shard's checksum is verified whenever it is read.
"""

from __future__ import annotations

import bisect
import functools
import os
from typing import Any

import numpy as np

from tfxai.scale import manifest as manifest_lib
from tfxai.scale import shards


class Explanations:
    """The maps and per-image metrics of an explained dataset, read lazily.

    Index it like an array of maps: `res[i]` is one map `(H, W)`, `res[a:b]` and
    `res[[i, j]]` stack maps `(n, H, W)` (in the stored dtype, float16 by default).

    Args:
        out_dir: String, the folder written by `tfxai.explain_dataset` or
            `tfxai.beam.ExplainImages`.

    Attributes:
        manifest: Dict, the folder's `manifest.json` (settings, model, versions, shards).
        complete: Boolean, whether the run finished (else only its whole shards are read).

    Raises:
        ValueError: If `out_dir` holds no manifest.

    Example:
        >>> res = tfxai.Explanations("runs/val-gradcam")  # as load_explanations(...)
        >>> res[:8].shape, res.metrics["deletion"].mean()
    """

    def __init__(self, out_dir: str) -> None:
        found = manifest_lib.read(os.fspath(out_dir))
        if found is None:
            raise ValueError(
                f"out_dir: no {manifest_lib.NAME} in {os.fspath(out_dir)!r}; expected a "
                f"folder written by tfxai.explain_dataset or tfxai.beam.ExplainImages."
            )
        self.folder = os.fspath(out_dir)
        self.manifest = found
        self.complete = bool(found.get("complete"))
        self._entries = sorted(found["shards"], key=lambda entry: entry["start"])
        self._starts = [entry["start"] for entry in self._entries]
        self._last: tuple[str, dict] | None = None

    def __len__(self) -> int:
        return sum(entry["count"] for entry in self._entries)

    def __repr__(self) -> str:
        state = "complete" if self.complete else "incomplete"
        method = self.manifest["settings"].get("method")
        return f"<Explanations {len(self)} maps, {method}, {state}, {self.folder!r}>"

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            shard, row = self._locate(int(key))
            return self._shard(shard)["maps"][row]
        positions = np.arange(len(self))[key] if isinstance(key, slice) else np.asarray(key)
        if positions.ndim != 1 or positions.dtype.kind not in "iu":
            raise TypeError(f"key: expected an int, a slice or a list of ints, got {key!r}.")
        return np.stack([self[int(i)] for i in positions]) if len(positions) else self._empty()

    @functools.cached_property
    def metrics(self) -> dict[str, np.ndarray]:
        """The per-image table: `index`, `target` and one float32 array per metric (read
        from every shard once per `Explanations`, then kept: `summary()` reuses it)."""
        columns: dict[str, list[np.ndarray]] = {}
        for number in range(len(self._entries)):
            arrays = self._shard(number)
            for key, value in arrays.items():
                if key in ("index", "target", "file") or key.startswith(shards.METRIC):
                    columns.setdefault(key.removeprefix(shards.METRIC), []).append(value)
        return {key: np.concatenate(parts) for key, parts in columns.items()}

    def summary(self) -> dict[str, float]:
        """The mean of each metric over the images (NaN values skipped), and `count`."""
        table = self.metrics
        means = {
            name: float(np.nanmean(table[name]))
            for name in self.manifest["settings"].get("metrics", [])
            if name in table
        }
        return {"count": float(len(self)), **means}

    def _locate(self, position: int) -> tuple[int, int]:
        size = len(self)
        if not -size <= position < size:
            raise IndexError(f"key: index {position} is out of range for {size} maps.")
        position %= size
        number = bisect.bisect_right(self._starts, position) - 1
        return number, position - self._starts[number]

    def _shard(self, number: int) -> dict:
        entry = self._entries[number]
        if self._last is not None and self._last[0] == entry["file"]:
            return self._last[1]
        arrays = shards.read_shard(self.folder, entry)
        self._last = (entry["file"], arrays)
        return arrays

    def _empty(self) -> np.ndarray:
        shape = self.manifest.get("map_shape") or [0, 0]
        return np.zeros((0, *shape), self.manifest["settings"].get("dtype", "float16"))


def load_explanations(out_dir: str) -> Explanations:
    """Opens an explained dataset written by `explain_dataset` or the Beam transform.

    Args:
        out_dir: String, the output folder of the run.

    Returns:
        An `Explanations`: `res[i]` (a map), `res[a:b]`, `len(res)`, `res.metrics` (dict of
        per-image arrays: `index`, `target`, one per metric; `file` for a folder source)
        and `res.summary()` (the mean of each metric).

    Raises:
        ValueError: If the folder holds no manifest, or a shard read does not match its
            checksum.

    Example:
        >>> res = tfxai.load_explanations("runs/val-gradcam")
        >>> res[0].shape, res.summary()["deletion"]
    """
    return Explanations(out_dir)
