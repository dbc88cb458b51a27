"""Galleries: render every channel of some layers, save PNGs and static HTML pages.

Layout of `out_dir`:

```
index.html                   the layers, each with its channel count and grid thumbnail
gallery.json                 the manifest: per layer and channel, value, PNG and settings key
<layer_slug>.html            every channel of a layer with its objective value + settings
<layer_slug>/channel_0007.png
<layer_slug>/grid.png        every channel of the layer in one labeled grid
```

Every file is written atomically (a temporary file in the same folder, then `os.replace`).
Re-running skips the channels already rendered with the same settings, so a gallery can be
built in several sittings or resumed after an interruption.
"""

import dataclasses
import hashlib
import json
import math
import numbers
import os
import re
import uuid
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from tfxai import engine, inputs, viz
from tfxai.featurevis import _html, objectives, preprocessing
from tfxai.featurevis import param as param_lib
from tfxai.featurevis.render import image_options
from tfxai.featurevis.render import render as _render

MANIFEST = "gallery.json"
MANIFEST_FORMAT = 1
_PER_CHUNK = ("objective", "batch")  # render settings that vary from chunk to chunk


@dataclasses.dataclass
class _Layer:
    path: str
    layer: object
    slug: str
    count: int
    channels: list = None
    key: str = ""


@dataclasses.dataclass
class _Run:
    """What one `gallery` call writes to: the folder, the manifest, the bar, the summary."""

    out: Path
    manifest: dict
    bar: object
    summary: dict


def gallery(
    model,
    layers,
    channels=None,
    out_dir="tfxai-gallery",
    *,
    size=None,
    steps=512,
    batch_size=16,
    param="fft",
    decorrelate=None,
    transforms="standard",
    preprocess=None,
    seed=0,
    progress=True,
    title=None,
):
    """Renders channels of one or more layers and writes them as a static HTML gallery.

    The channels of each layer are rendered `batch_size` at a time, one
    `tfxai.featurevis.render.render` call per chunk with the objective
    `objectives.channel(layer, chunk)` (one channel per batch element). Every chunk starts
    from the same `seed`, so a channel's image depends on the seed and on its position in
    its chunk, not on the other channels.

    Each channel is recorded in `<out_dir>/gallery.json` with its objective value, its PNG
    and a settings key: a hash of the model name, a fingerprint of its weights, the layer
    path and `size`, `steps`, `param`, `decorrelate`, `transforms`, `preprocess` and
    `seed` (callables are keyed by their `name` or `__qualname__`). A channel whose key
    matches and whose PNG exists is skipped; the pages and grids are always rebuilt and
    show the layers and channels of this call (the manifest keeps earlier ones too).
    `batch_size` is not part of the key.

    Models with 1-channel (grayscale) inputs get grayscale PNGs; other channel counts
    than 1 and 3 cannot be written as PNGs and are refused.

    Args:
        model: A Keras model. Never changed.
        layers: A layer reference or a list of them: name, nested path
            (`"resnet50/conv5_block3_out"`), index or layer object.
        channels: Which channels, default `None` (every channel: the last axis of the
            layer's output, read from `layer.output` or found by tracing the model once).
            An integer `N` (the first `N` channels, fewer if the layer has fewer; more
            than every layer has is an error), a list
            of channel indices, or a dict `{layer_ref: None | N | list}` with one entry
            per layer.
        out_dir: String or path, default "tfxai-gallery". Created if missing; checked
            to be writable before anything is rendered.
        size: Integer, `(height, width)` or `None` (default: the model's fixed input
            height and width, 128 for a side the model leaves open). Image size.
        steps: Integer >= 0, default 512. Optimization steps per chunk.
        batch_size: Integer, default 16. Channels rendered together in one optimization.
        param: String, default "fft". `"fft"` or `"pixel"` (see `param.image`).
        decorrelate: Boolean or `None` (default: True for 3-channel models, else
            False). Optimize in the decorrelated color space (3-channel models only).
        transforms: Default "standard". `"standard"`, `None`, a transform or a list of
            them, as for `render`.
        preprocess: Default `None` (the model takes [0, 1] images). `"caffe"`, `"tf"`,
            `"torch"` (3-channel RGB models only) or a callable, as for `render`.
        seed: Integer >= 0, default 0. Seed of every chunk.
        progress: Boolean, default True. Show progress bars.
        title: String, default `None` ("Feature visualization: <model name>").

    Returns:
        Dict with `out_dir`, `index`, `manifest`, `rendered` and `skipped` (channel counts),
        `files` (every file written by this call) and `layers`:
        `{path: {"slug", "count", "channels", "rendered", "skipped", "page", "grid"}}`.

    Raises:
        ValueError: On a bad argument (named in the message): an unknown layer, a channel
            out of range, a non-positive `size`, `steps` or `batch_size`, an RGB-only
            option on a grayscale model, an `out_dir` that cannot be created or written
            (checked before rendering), ...
        TypeError: If `model` is not a Keras model or an argument has the wrong type.

    Example:
        >>> summary = gallery(model, ["conv1", "resnet50/conv5_block3_out"], channels=32,
        ...                   out_dir="gallery", steps=256)
        >>> summary["rendered"], summary["index"]
        (64, 'gallery/index.html')
    """
    inputs.check_model(model)
    _check_options(steps, batch_size, param, transforms, seed, title, progress)
    size, decorrelate = _image_options(model, size, decorrelate, preprocess)
    plan = _plan(model, layers, channels)
    out = inputs.writable_folder(out_dir, "out_dir")  # before anything is rendered
    options = {
        "size": size,
        "steps": steps,
        "param": param,
        "decorrelate": decorrelate,
        "transforms": transforms,
        "preprocess": preprocess,
        "seed": seed,
    }
    shared = {"model": model.name, "weights": _fingerprint(model), **_jsonable(options)}
    for item in plan:
        item.key = settings_key({**shared, "layer": item.path})
    manifest = _load_manifest(out / MANIFEST)
    summary = {
        "out_dir": str(out),
        "index": str(out / "index.html"),
        "manifest": str(out / MANIFEST),
        "rendered": 0,
        "skipped": 0,
        "files": [],
        "layers": {},
    }
    run = _Run(out, manifest, _progress(sum(len(i.channels) for i in plan), progress), summary)
    try:
        for item in plan:
            _render_layer(model, item, {**options, "progress": progress}, shared, batch_size, run)
    finally:
        run.bar.close()
    title = title or f"Feature visualization: {model.name}"
    _write_pages(plan, run, title, dict(shared, batch_size=batch_size))
    return summary


def settings_key(settings):
    """A short stable hash (16 hex digits) of a JSON-friendly settings dict."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- checks


def _check_options(steps, batch_size, param, transforms, seed, title, progress):
    inputs.non_negative_int(steps, "steps")
    inputs.positive_int(batch_size, "batch_size")
    if param not in param_lib.PARAMS:
        raise ValueError(
            f"param: expected one of {', '.join(map(repr, param_lib.PARAMS))}, got {param!r}."
        )
    inputs.check_bool(progress, "progress")
    if not (
        transforms in ("standard", None)
        or callable(transforms)
        or isinstance(transforms, (list, tuple))
    ):
        raise ValueError(
            f"transforms: expected 'standard', None, a transform or a list of "
            f"them, got {transforms!r}."
        )
    inputs.check_seed(seed)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title: expected a string or None, got {type(title).__name__}.")


def _image_options(model, size, decorrelate, preprocess):
    """`size` (an int when square, as keyed before) and `decorrelate` resolved for `model`.

    Also checks `preprocess` against the model's channel count and refuses models whose
    images cannot be written as PNGs (other than 1 or 3 channels).
    """
    pair, channels, decorrelate = image_options(model, size, decorrelate)
    if channels not in (1, 3):
        raise ValueError(
            f"model: {model.name!r} takes {channels}-channel inputs; a gallery "
            f"writes PNGs and expects a 1-channel (grayscale) or 3-channel "
            f"(RGB) model."
        )
    preprocessing.preprocessor(preprocess, channels)  # a ValueError naming `preprocess`
    return (pair[0] if pair[0] == pair[1] else pair), decorrelate


# --------------------------------------------------------------------------- planning


def _plan(model, layers, channels):
    """Resolves `layers` and `channels` into a list of `_Layer`, checked."""
    refs = list(layers) if isinstance(layers, (list, tuple)) else [layers]
    if not refs:
        raise ValueError("layers: expected at least one layer, got an empty list.")
    plan, slugs = [], set()
    for ref in refs:
        layer = _resolve(model, ref, "layers")
        path = engine.layer_path(model, layer)
        if any(item.layer is layer for item in plan):
            raise ValueError(f"layers: {path!r} is listed more than once.")
        slug = _slug(path, slugs)
        plan.append(_Layer(path, layer, slug, _channel_count(model, layer, path)))
    for item, wanted in zip(plan, _per_layer(model, plan, channels), strict=True):
        item.channels = _channel_list(wanted, item)
    _check_first_n(channels, plan)
    return plan


def _check_first_n(channels, plan):
    """Refuses `channels=N` larger than every layer's channel count (a typo, not a limit).

    N is clamped to the count of a smaller layer when another layer has N channels or more.
    """
    if isinstance(channels, bool) or not isinstance(channels, numbers.Integral):
        return
    most = max(item.count for item in plan)
    if channels > most:
        counts = ", ".join(f"{item.path!r} has {item.count}" for item in plan)
        raise ValueError(
            f"channels: got {channels}, more channels than any layer has "
            f"({counts}); expected at most {most}, or None for every channel."
        )


def _resolve(model, ref, name):
    try:
        return engine.resolve_layer(model, ref)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name}: {str(error).removeprefix('layer: ')}") from error


def _slug(path, taken):
    """A file-name-safe, unique name for a layer path: `/` becomes `--`.

    Paths that needed other changes (or already hold `--`) get a short hash of the path.
    """
    plain = path.replace("/", "--")
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", plain).lstrip(".") or "layer"
    if slug != plain or "--" in path or slug.lower() in taken:
        slug = f"{slug}-{hashlib.sha256(path.encode('utf-8')).hexdigest()[:6]}"
    taken.add(slug.lower())
    return slug


def _channel_count(model, layer, path):
    """The size of the last axis of `layer`'s output (static, else traced once)."""
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError, RuntimeError):
        shape = _traced_shape(model, layer, path)
    if shape is None or len(shape) < 2 or shape[-1] is None:
        raise ValueError(
            f"layers: {path!r} has an output of shape {shape}; a gallery needs "
            f"a layer with a known number of channels on its last axis."
        )
    return int(shape[-1])


def _traced_shape(model, layer, path):
    input_shape = engine._model_input_shape(model)
    if input_shape is None:
        raise ValueError(
            f"layers: cannot find the channel count of {path!r}: model "
            f"{model.name!r} has no known input shape; call it once first."
        )
    shapes = []

    def record(_, output):
        shapes.append(getattr(output, "shape", None))
        return output

    def trace(x):
        with engine.shadow_calls([layer], record):
            model(x, training=False)
        return tf.constant(0.0)

    tf.function(trace).get_concrete_function(
        tf.TensorSpec((1,) + tuple(input_shape[1:]), tf.float32)
    )
    return tuple(shapes[0]) if shapes and shapes[0] is not None else None


def _per_layer(model, plan, channels):
    """`channels` as one entry per planned layer (a dict is matched by resolved layer)."""
    if not isinstance(channels, dict):
        return [channels] * len(plan)
    by_layer = {}
    for ref, wanted in channels.items():
        layer = _resolve(model, ref, "channels")
        if not any(item.layer is layer for item in plan):
            raise ValueError(f"channels: the key {ref!r} is not one of `layers`.")
        by_layer[id(layer)] = wanted
    for item in plan:
        if id(item.layer) not in by_layer:
            raise ValueError(
                f"channels: no entry for layer {item.path!r}; give one per layer "
                f"(None for every channel)."
            )
    return [by_layer[id(item.layer)] for item in plan]


def _channel_list(wanted, item):
    if wanted is None:
        return list(range(item.count))
    if isinstance(wanted, numbers.Integral) and not isinstance(wanted, bool):
        inputs.positive_int(wanted, "channels")
        return list(range(min(int(wanted), item.count)))
    if not isinstance(wanted, (list, tuple, range, np.ndarray)) or len(wanted) == 0:
        raise ValueError(
            f"channels: expected None, a positive integer, a non-empty list of "
            f"channel indices or a dict of them, got {wanted!r}."
        )
    for c in wanted:
        if isinstance(c, bool) or not isinstance(c, numbers.Integral) or not 0 <= c < item.count:
            raise ValueError(
                f"channels: expected channel indices in [0, {item.count - 1}] "
                f"for layer {item.path!r}, got {c!r}."
            )
    if len({int(c) for c in wanted}) != len(wanted):
        raise ValueError(
            f"channels: repeated channel indices for layer {item.path!r}: {list(wanted)!r}."
        )
    return [int(c) for c in wanted]


def _jsonable(options):
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


def _fingerprint(model):
    """SHA-256 (16 hex digits) of every weight of `model`, in order."""
    digest = hashlib.sha256()
    for weight in model.weights:
        values = np.ascontiguousarray(keras.ops.convert_to_numpy(weight))
        digest.update(str((values.dtype.str, values.shape)).encode("ascii"))
        digest.update(values.tobytes())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- rendering


def _render_layer(model, item, options, shared, batch_size, run):
    """Renders the channels of `item` not yet current in the manifest, chunk by chunk."""
    record = run.manifest["layers"].setdefault(item.path, {})
    record.update(slug=item.slug, count=item.count)
    done = record.setdefault("channels", {})
    todo = [c for c in item.channels if not _is_current(done.get(str(c)), item, c, run.out)]
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        _render_chunk(model, item, chunk, options, shared, done, run)
        run.bar.update(len(chunk))
    skipped = len(item.channels) - len(todo)
    run.bar.update(skipped)
    run.summary["rendered"] += len(todo)
    run.summary["skipped"] += skipped
    run.summary["layers"][item.path] = {
        "slug": item.slug,
        "count": item.count,
        "channels": list(item.channels),
        "rendered": len(todo),
        "skipped": skipped,
        "page": str(run.out / f"{item.slug}.html"),
        "grid": str(run.out / item.slug / "grid.png"),
    }


def _render_chunk(model, item, chunk, options, shared, done, run):
    """One `render` call for `chunk`; writes its PNGs, then the manifest."""
    rendering = _render(model, objectives.channel(item.layer, chunk), **options)
    used = {k: v for k, v in rendering.settings.items() if k not in _PER_CHUNK}
    run.manifest["settings"][item.key] = {"model": model.name, "layer": item.path, **used, **shared}
    for i, c in enumerate(chunk):
        png = _png_name(item, c)
        run.summary["files"].append(viz.save_png(run.out / png, _pixels(rendering.images[i])))
        done[str(c)] = {"value": _finite(rendering.values[i]), "png": png, "key": item.key}
    _write_manifest(run.out, run.manifest)  # after every chunk: an interrupted run resumes


def _pixels(image):
    """uint8 pixels of a rendered `(H, W, C)` image: RGB, or `(H, W, 1)` grayscale."""
    pixels = viz.to_uint8_image(image)  # grayscale comes back repeated into RGB
    return pixels[..., :1] if image.shape[-1] == 1 else pixels


def _png_name(item, channel):
    return f"{item.slug}/channel_{channel:04d}.png"


def _is_current(entry, item, channel, out):
    return (
        isinstance(entry, dict)
        and entry.get("key") == item.key
        and (out / _png_name(item, channel)).is_file()
    )


def _finite(value):
    value = float(value)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------- files


def _load_manifest(path):
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


def _write_manifest(out, manifest):
    """Writes the manifest, dropping settings that no channel refers to any more."""
    used = {
        entry.get("key")
        for record in manifest["layers"].values()
        for entry in record.get("channels", {}).values()
    }
    manifest["settings"] = {k: v for k, v in manifest["settings"].items() if k in used}
    return _write_text(out / MANIFEST, json.dumps(manifest, indent=1, allow_nan=False))


def _write_text(path, text):
    """Writes `text` (UTF-8) to `path` atomically; returns the path as a string."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return str(path)


def _write_pages(plan, run, title, settings):
    """Writes each layer's grid and page, the index page and the manifest."""
    rows = []
    for item in plan:
        entries = run.manifest["layers"][item.path]["channels"]
        channels = [(c, _png_name(item, c), entries[str(c)]["value"]) for c in item.channels]
        grid = f"{item.slug}/grid.png"
        layer_settings = dict(
            run.manifest["settings"].get(item.key) or {"layer": item.path, **settings}, key=item.key
        )
        page = _html.layer_page(title, item.path, grid, channels, layer_settings)
        run.summary["files"] += [
            viz.save_png(run.out / grid, _grid(run.out, channels)),
            _write_text(run.out / f"{item.slug}.html", page),
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
        _write_text(run.out / "index.html", index),
        _write_manifest(run.out, run.manifest),
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


def _progress(total, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit="channel", desc="gallery")
