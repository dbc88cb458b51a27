"""`tfxai explain MODEL IMAGE [IMAGE ...]`: a map per image, as an overlay PNG and `.npy`."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from tfxai.commands import catalog, checks

#: The API argument each flag becomes, so an error names what the user typed.
FLAGS = {
    "method": "--method",
    "layer": "--layer",
    "target": "--target",
    "preprocess": "--preprocess",
    "out_dir": "--out",
    "weights": "--weights",
    "top": "--top",
}

EPILOG = """examples:
  tfxai explain shapes-classifier star.png
  tfxai explain model.keras a.jpg b.jpg --method grad_cam_plus_plus --layer conv5_block3_out
  tfxai explain resnet50 cat.jpg --weights imagenet --target 281 --out maps
  tfxai explain model.keras a.png b.png --target 3,5 --preprocess tf"""


def add_parser(commands: Any) -> None:
    """Adds the `explain` command to the `tfxai` sub-parsers."""
    parser = commands.add_parser(
        "explain",
        help="explain a model's prediction on images (overlay PNG + raw map .npy)",
        description="Explains MODEL's output on each IMAGE with one method and writes "
        "IMAGE-STEM.METHOD.png (the map over the image) and IMAGE-STEM.METHOD.npy (the "
        "raw (H, W) float32 map at the model's input size) to --out, printing the "
        "top classes and the explained class per image. MODEL is a bundled model "
        f"({', '.join(catalog.ZOO_MODELS)}), a .keras file, or resnet50. Images of any "
        "size and mode are read with Pillow and resized to the model's input.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="bundled model name, .keras file, resnet50")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    parser.add_argument(
        "--method", default="grad_cam", help="method name (default: %(default)s; tfxai methods)"
    )
    parser.add_argument(
        "--layer",
        default=None,
        help="layer name or nested path, for the methods that take one (default: the last "
        "layer with a spatial output; tfxai layers MODEL lists them)",
    )
    parser.add_argument(
        "--target",
        default="predicted",
        help="class to explain: 'predicted', a class id, or ids one per image: 3,5 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--preprocess",
        default="none",
        choices=catalog.PREPROCESS_MODES,
        help="the model's input convention for [0, 1] RGB images (default: none: the "
        "model takes [0, 1] images)",
    )
    parser.add_argument(
        "--out", default="tfxai-explain", help="output folder (default: ./%(default)s)"
    )
    parser.add_argument("--top", type=int, default=5, help="top classes printed (default: 5)")
    parser.add_argument(
        "--weights", default=None, help="resnet50 only: 'imagenet' (downloads) or a weights file"
    )


def run(args: argparse.Namespace) -> int:
    """Runs `tfxai explain`: the cheap checks first, then TensorFlow and the model."""
    method = checks.check_method(args.method)
    checks.check_layer_option(method, args.layer)
    if args.top < 1:
        raise ValueError(f"--top: expected a positive integer, got {args.top}.")
    checks.check_model_name(args.model, args.weights)
    images = checks.read_images(args.images)
    target = checks.parse_target(args.target, len(images))
    checks.check_out_dir(args.out)

    from tfxai.commands.loading import load_model

    model = load_model(args.model, args.weights)
    height, width, channels = _input_size(model, images[0])
    batch = np.stack([_pixels(image, (height, width), channels) for image in images])
    inputs = _preprocess(batch, args.preprocess, channels)
    scores = _class_scores(model, inputs)
    explained = _explained_classes(target, scores)
    from tfxai import methods

    explain = methods.build(method, model, layer=args.layer)
    maps = np.asarray(explain(inputs, explained), np.float32)
    layer = getattr(
        getattr(getattr(explain, "explainer", None), "engine", None), "layer_path", None
    )
    names = _class_names(args.model, scores.shape[1])
    os.makedirs(args.out, exist_ok=True)
    for path, stem, image, heatmap, row, cls in zip(
        args.images, _stems(args.images), images, maps, scores, explained
    ):
        files = _write(args.out, f"{stem}.{method}", image, heatmap)
        at = f" at layer {layer}" if layer else ""
        print(f"{path}: {method}{at}, explained class {_label(cls, names)} (p={row[cls]:.3f})")
        for rank, k in enumerate(np.argsort(-row, kind="stable")[: args.top], start=1):
            print(f"  {rank}. {_label(int(k), names):<24} p={row[k]:.3f}")
        print(f"  wrote {files[0]}, {files[1]}")
    return 0


def _input_size(model: Any, first: Image.Image) -> tuple[int, int, int]:
    """`(height, width, channels)` of the model's image input (the first image's size
    where the model leaves it open)."""
    shape = model.input_shape
    if isinstance(shape, list) or len(shape) != 4:
        raise ValueError(
            f"model: expected one image input (batch, height, width, channels), got input "
            f"shape {shape}."
        )
    _, height, width, channels = shape
    if channels not in (1, 3):
        raise ValueError(
            f"model: takes {channels}-channel images; tfxai explain reads RGB (3) or "
            f"grayscale (1) images."
        )
    return height or first.height, width or first.width, channels


def _pixels(image: Image.Image, size: tuple[int, int], channels: int) -> np.ndarray:
    """The image as float32 `(H, W, C)` in [0, 1], resized (bilinear) to `size`."""
    converted = image.convert("RGB" if channels == 3 else "L")
    resized = converted.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    return np.asarray(resized, np.float32).reshape(size[0], size[1], channels) / 255.0


def _preprocess(batch: np.ndarray, mode: str, channels: int) -> np.ndarray:
    """The model's input for [0, 1] images (`--preprocess`)."""
    if mode == "none":
        return batch
    import tensorflow as tf

    from tfxai.featurevis.preprocessing import preprocessor

    function, _ = preprocessor(mode, channels=channels)
    return np.asarray(function(tf.constant(batch, tf.float32)), np.float32)


def _class_scores(model: Any, inputs: np.ndarray) -> np.ndarray:
    """Class probabilities `(B, K)`: the output itself if it is one, else its softmax."""
    output = model(inputs, training=False)
    if isinstance(output, (list, tuple, dict)) or len(output.shape) != 2:
        many = isinstance(output, (list, tuple))
        shape = [tuple(o.shape) for o in output] if many else getattr(output, "shape", "?")
        raise ValueError(
            f"model: expected a classifier with one (batch, classes) output, got output "
            f"shape {shape}; tfxai explain explains classes."
        )
    scores = np.asarray(output, np.float64)
    if np.all(scores >= 0) and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3):
        return scores
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _explained_classes(target: checks.ParsedTarget, scores: np.ndarray) -> list[int]:
    """One class per image: the predicted one, or `--target`'s, checked against the model."""
    count, classes = scores.shape
    if target is None:
        return [int(k) for k in scores.argmax(axis=1)]
    ids = [target] * count if isinstance(target, int) else list(target)
    for k in ids:
        if k >= classes:
            raise ValueError(
                f"--target: class {k} is out of range; the model has {classes} classes "
                f"(0-{classes - 1})."
            )
    return ids


def _class_names(model: str, classes: int) -> Sequence[str] | None:
    """The zoo's class names when MODEL is a bundled classifier, else `None`."""
    if model not in catalog.ZOO_MODELS:
        return None
    from tfxai.datasets import CLASSES
    from tfxai.models import info

    if info(model).get("task") != "classification" or len(CLASSES) != classes:
        return None
    return CLASSES


def _label(k: int, names: Sequence[str] | None) -> str:
    return f"{k} ({names[k]})" if names else str(k)


def _stems(paths: Sequence[str]) -> list[str]:
    """File stems made unique (`a`, `a-2`, ...) so no two images share an output file."""
    stems: list[str] = []
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0] or "image"
        unique, n = stem, 1
        while unique in stems:
            n += 1
            unique = f"{stem}-{n}"
        stems.append(unique)
    return stems


def _write(out: str, name: str, image: Image.Image, heatmap: np.ndarray) -> tuple[str, str]:
    """Writes the overlay on the image at its own size (PNG) and the raw map (`.npy`)."""
    from tfxai.viz import overlay, save_png

    png, npy = os.path.join(out, f"{name}.png"), os.path.join(out, f"{name}.npy")
    np.save(npy, heatmap)
    save_png(png, overlay(np.asarray(image.convert("RGB")), heatmap))
    return png, npy
