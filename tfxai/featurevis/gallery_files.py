"""Gallery files: the manifest and its settings keys, the pages and grids, atomic writes.

The folder's layout is described in `tfxai.featurevis.gallery`. Every file is written
atomically (a temporary file in the same folder, then `os.replace`). The HTML itself is
`tfxai.featurevis._html`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np
from PIL import Image

from tfxai import viz
from tfxai.featurevis import _html

MANIFEST = "gallery.json"
MANIFEST_FORMAT = 1


def settings_key(settings: dict) -> str:
    """A short stable hash (16 hex digits) of a JSON-friendly settings dict."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def jsonable(options: dict) -> dict:
    """Render options as JSON values; callables are named by `name` or `__qualname__`."""

    def name(value):
        if value is None or isinstance(value, (str, bool, int, float)):
            return value
        if isinstance(value, (tuple, list)):
            return [name(v) for v in value]
        return (
            getattr(value, "name", None)
            or getattr(value, "__qualname__", None)
            or type(value).__name__
        )

    return {key: name(value) for key, value in options.items()}


def fingerprint(model: keras.Model) -> str:
    """SHA-256 (16 hex digits) of every weight of `model`, in order."""
    digest = hashlib.sha256()
    for weight in model.weights:
        values = np.ascontiguousarray(keras.ops.convert_to_numpy(weight))
        digest.update(str((values.dtype.str, values.shape)).encode("ascii"))
        digest.update(values.tobytes())
    return digest.hexdigest()[:16]


def png_name(item: Any, channel: int) -> str:
    """The PNG of a channel, relative to the gallery folder."""
    return f"{item.slug}/channel_{channel:04d}.png"


def load_manifest(path: Path) -> dict:
    """The manifest at `path`, or an empty one (missing, unreadable with a warning, or of
    another format)."""
    empty = {"format": MANIFEST_FORMAT, "layers": {}, "settings": {}}
    if not path.is_file():
        return empty
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        warnings.warn(
            f"out_dir: ignoring the unreadable manifest {str(path)!r} ({error}); "
            f"every channel will be rendered again.",
            stacklevel=3,
        )
        return empty
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return empty
    manifest.setdefault("layers", {})
    manifest.setdefault("settings", {})
    return manifest


def write_manifest(out: Path, manifest: dict) -> str:
    """Writes the manifest, dropping settings that no channel refers to any more."""
    used = {
        entry.get("key")
        for record in manifest["layers"].values()
        for entry in record.get("channels", {}).values()
    }
    manifest["settings"] = {k: v for k, v in manifest["settings"].items() if k in used}
    return write_text(out / MANIFEST, json.dumps(manifest, indent=1, allow_nan=False))


def write_text(path: Path, text: str) -> str:
    """Writes `text` (UTF-8) to `path` atomically; returns the path as a string."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return str(path)


def write_pages(plan: list, run: Any, title: str, settings: dict) -> None:
    """Writes each layer's grid and page, the index page and the manifest."""
    rows = []
    for item in plan:
        entries = run.manifest["layers"][item.path]["channels"]
        channels = [(c, png_name(item, c), entries[str(c)]["value"]) for c in item.channels]
        grid = f"{item.slug}/grid.png"
        layer_settings = dict(
            run.manifest["settings"].get(item.key) or {"layer": item.path, **settings}, key=item.key
        )
        page = _html.layer_page(title, item.path, grid, channels, layer_settings)
        run.summary["files"] += [
            viz.save_png(run.out / grid, _grid(run.out, channels)),
            write_text(run.out / f"{item.slug}.html", page),
        ]
        rows.append(
            {
                "path": item.path,
                "page": f"{item.slug}.html",
                "grid": grid,
                "shown": len(channels),
                "count": item.count,
            }
        )
    index = _html.index_page(title, rows, settings)
    run.summary["files"] += [
        write_text(run.out / "index.html", index),
        write_manifest(run.out, run.manifest),
    ]


def _grid(out, channels):
    """One uint8 grid of the channel PNGs, each tile labeled with its channel number."""
    tiles = [
        viz.image_grid(_load_rgb(out / png)[None, None], col_labels=[str(c)], pad=1)
        for c, png, _ in channels
    ]
    cols = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / cols)
    blank = np.full_like(tiles[0], 255)
    tiles += [blank] * (rows * cols - len(tiles))
    return viz.image_grid(np.stack(tiles).reshape((rows, cols) + tiles[0].shape), pad=0)


def _load_rgb(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))
