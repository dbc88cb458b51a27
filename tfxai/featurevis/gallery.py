"""Galleries: render every channel of some layers, save PNGs and static HTML pages.

This module is the entry point and the rendering loop; the planning (which layers and
channels) is `tfxai.featurevis.gallery_plan`, the files (manifest, pages, grids)
`tfxai.featurevis.gallery_files`.

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

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import keras

from tfxai import arguments, inputs, viz
from tfxai.featurevis import objectives
from tfxai.featurevis import param as param_lib
from tfxai.featurevis import preprocessing as preprocessing_lib
from tfxai.featurevis.gallery_files import (
    MANIFEST,
    MANIFEST_FORMAT,
    fingerprint,
    jsonable,
    load_manifest,
    png_name,
    settings_key,
    write_manifest,
    write_pages,
)
from tfxai.featurevis.gallery_plan import LayerPlan
from tfxai.featurevis.gallery_plan import plan as _plan
from tfxai.featurevis.render import image_options
from tfxai.featurevis.render import render as _render

__all__ = ["MANIFEST", "MANIFEST_FORMAT", "gallery", "settings_key"]

_PER_CHUNK = ("objective", "batch")  # render settings that vary from chunk to chunk


@dataclasses.dataclass
class _Run:
    """What one `gallery` call writes to: the folder, the manifest, the bar, the summary."""

    out: Path
    manifest: dict
    bar: Any
    summary: dict


def gallery(
    model: keras.Model,
    layers: Any,
    channels: Any = None,
    out_dir: str | Path = "tfxai-gallery",
    *,
    size: int | tuple[int, int] | None = None,
    steps: int = 512,
    batch_size: int = 16,
    param: str = "fft",
    decorrelate: bool | None = None,
    transforms: Any = "standard",
    preprocessing: Any = None,
    seed: int = 0,
    progress: bool = True,
    title: str | None = None,
    preprocess: Any = None,
) -> dict:
    """Renders channels of one or more layers and writes them as a static HTML gallery.

    The channels of each layer are rendered `batch_size` at a time, one
    `tfxai.featurevis.render.render` call per chunk with the objective
    `objectives.channel(layer, chunk)` (one channel per batch element). Every chunk starts
    from the same `seed`, so a channel's image depends on the seed and on its position in
    its chunk, not on the other channels.

    Each channel is recorded in `<out_dir>/gallery.json` with its objective value, its PNG
    and a settings key: a hash of the model name, a fingerprint of its weights, the layer
    path and `size`, `steps`, `param`, `decorrelate`, `transforms`, `preprocessing` and
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
        preprocessing: Default `None` (the model takes [0, 1] images). `"caffe"`, `"tf"`,
            `"torch"` (3-channel RGB models only) or a callable, as for `render`.
        seed: Integer >= 0, default 0. Seed of every chunk.
        progress: Boolean, default True. Show progress bars.
        title: String, default `None` ("Feature visualization: <model name>").
        preprocess: The former spelling of `preprocessing` (deprecated).

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
    inputs.expected_image_shape(model)  # refuses a model with several inputs
    _check_options(steps, batch_size, param, transforms, seed, title, progress)
    preprocessing, prep_name = preprocessing_lib.spelled(preprocessing, preprocess)
    size, decorrelate = _image_options(model, size, decorrelate, preprocessing, prep_name)
    plan = _plan(model, layers, channels)
    out = inputs.writable_folder(out_dir, "out_dir")  # before anything is rendered
    options = {
        "size": size,
        "steps": steps,
        "param": param,
        "decorrelate": decorrelate,
        "transforms": transforms,
        "preprocessing": preprocessing,
        "seed": seed,
    }
    shared = {"model": model.name, "weights": fingerprint(model), **jsonable(options)}
    for item in plan:
        item.key = settings_key({**shared, "layer": item.path})
    manifest = load_manifest(out / MANIFEST)
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
    write_pages(plan, run, title, dict(shared, batch_size=batch_size))
    return summary


# --------------------------------------------------------------------------- checks


def _check_options(steps, batch_size, param, transforms, seed, title, progress):
    arguments.non_negative_int(steps, "steps")
    arguments.positive_int(batch_size, "batch_size")
    if param not in param_lib.PARAMS:
        raise ValueError(
            f"param: expected one of {', '.join(map(repr, param_lib.PARAMS))}, got {param!r}."
        )
    arguments.check_bool(progress, "progress")
    if not (
        transforms in ("standard", None)
        or callable(transforms)
        or isinstance(transforms, (list, tuple))
    ):
        raise ValueError(
            f"transforms: expected 'standard', None, a transform or a list of "
            f"them, got {transforms!r}."
        )
    arguments.check_seed(seed)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title: expected a string or None, got {type(title).__name__}.")


def _image_options(model, size, decorrelate, preprocessing, prep_name="preprocessing"):
    """`size` (an int when square, as keyed before) and `decorrelate` resolved for `model`.

    Also checks `preprocessing` against the model's channel count and refuses models whose
    images cannot be written as PNGs (other than 1 or 3 channels).
    """
    pair, channels, decorrelate = image_options(model, size, decorrelate)
    if channels not in (1, 3):
        raise ValueError(
            f"model: {model.name!r} takes {channels}-channel inputs; a gallery "
            f"writes PNGs and expects a 1-channel (grayscale) or 3-channel "
            f"(RGB) model."
        )
    preprocessing_lib.preprocessor(preprocessing, channels, prep_name)  # a ValueError
    return (pair[0] if pair[0] == pair[1] else pair), decorrelate


# --------------------------------------------------------------------------- rendering


def _render_layer(model, item: LayerPlan, options, shared, batch_size, run):
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
        png = png_name(item, c)
        run.summary["files"].append(viz.save_png(run.out / png, _pixels(rendering.images[i])))
        done[str(c)] = {"value": _finite(rendering.values[i]), "png": png, "key": item.key}
    write_manifest(run.out, run.manifest)  # after every chunk: an interrupted run resumes


def _pixels(image):
    """uint8 pixels of a rendered `(H, W, C)` image: RGB, or `(H, W, 1)` grayscale."""
    pixels = viz.to_uint8_image(image)  # grayscale comes back repeated into RGB
    return pixels[..., :1] if image.shape[-1] == 1 else pixels


def _is_current(entry, item, channel, out):
    return (
        isinstance(entry, dict)
        and entry.get("key") == item.key
        and (out / png_name(item, channel)).is_file()
    )


def _finite(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _progress(total, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit="channel", desc="gallery")
