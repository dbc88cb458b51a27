"""`tfxai demo`: CAM (and attribution) methods on the bundled zoo and fresh images, scored.

Nothing is downloaded: the models ship with the package and the images are generated.
Writes overlay grids (PNG) and a metrics table (Markdown + JSON) to the output folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tfxai import attribution, cam, datasets, engine, inputs, metrics, models, targets, viz

if TYPE_CHECKING:
    import keras

    from tfxai.datasets.shapes import Shapes

CLASSIFIER_LAYER = "block4_out"  # the last block of both classifiers (24 x 24 and 12 x 12)
CLASSIFIER = "shapes-gap-classifier"  # the demo's default: a conventional GAP head
CLASSIFIERS = ("shapes-gap-classifier", "shapes-classifier")  # bundled, `classifier=`
ALL_METHODS = {**cam.CAM_METHODS, **attribution.ATTRIBUTION_METHODS}
LAYER_METHODS = (*cam.CAM_METHODS, "guided_grad_cam")  # the methods that take a `layer`

METRIC_COLUMNS = {
    "pointing_game": "pointing game ↑",
    "energy_pointing_game": "energy PG ↑",
    "iou": "IoU@0.5 ↑",
    "deletion": "deletion AUC ↓",
    "insertion": "insertion AUC ↑",
    "average_drop": "avg drop % ↓",
    "increase_in_confidence": "increase % ↑",
}


def run_demo(
    out_dir: str | os.PathLike = "tfxai-demo",
    *,
    images: int = 8,
    seed: int = 2024,
    methods: Sequence[str] | None = None,
    top_n: int | None = None,
    deletion_steps: int = 24,
    progress: bool = True,
    classifier: str = CLASSIFIER,
) -> dict:
    """Runs every CAM method on a bundled classifier and the U-Net and writes the results.

    Args:
        out_dir: String or path, default "tfxai-demo". Created if missing.
        images: Integer >= 1, default 8. Images per model.
        seed: Integer >= 0, default 2024. Seed of the generated images (the zoo was trained on
            other seeds).
        methods: List of names from `tfxai.CAM_METHODS` (default: all of them) or
            `tfxai.ATTRIBUTION_METHODS`.
        top_n: Integer or `None` (default, every channel) for Score-CAM and Ablation-CAM.
        deletion_steps: Integer, default 24. Steps of the deletion/insertion curves.
        progress: Boolean, default True. Show a progress bar.
        classifier: String, default `"shapes-gap-classifier"` (global average pooling,
            trained on labels: CAMs cover a region, as on most classifiers), or
            `"shapes-classifier"` (max pooling, mask-supervised: CAMs peak at one point
            inside the object). Both are explained at `"block4_out"`.

    Returns:
        Dict `{"classifier": {method: {metric: value}}, "unet": {...}, "files": [...]}`.

    Raises:
        ValueError: On an unknown method or `classifier`, a bad `images`, `seed`,
            `top_n` or `deletion_steps`, or an `out_dir` that cannot be created or
            written (all checked before anything runs).
        TypeError: If `progress` is not a boolean.

    Example:
        >>> results = run_demo("out", images=4, methods=["grad_cam"])
    """
    methods = _check_methods(methods)
    _check_options(images, seed, top_n, deletion_steps, progress)
    _check_classifier(classifier)
    out = inputs.writable_folder(out_dir, "out_dir")  # before anything is computed
    bar = _progress(2 * len(methods), progress)
    section = _classifier_section(classifier, methods, images, seed, top_n, deletion_steps, bar)
    unet = _unet_section(methods, images, seed + 1, top_n, bar)
    bar.close()
    files = [
        viz.save_png(out / "classifier_cams.png", section.pop("grid")),
        viz.save_png(out / "unet_cams.png", unet.pop("grid")),
    ]
    results = {
        "classifier": section["scores"],
        "unet": unet["scores"],
        "settings": {
            "images": images,
            "seed": seed,
            "top_n": top_n,
            "deletion_steps": deletion_steps,
            "classifier": classifier,
            "classifier_layer": section["layer"],
            "unet_layer": unet["layer"],
        },
    }
    files.append(_write(out / "metrics.json", json.dumps(results, indent=2) + "\n"))
    files.append(_write(out / "metrics.md", to_markdown(results)))
    results["files"] = [str(f) for f in files]
    return results


def _check_methods(methods):
    names = list(cam.CAM_METHODS) if methods is None else list(methods)
    unknown = [m for m in names if m not in ALL_METHODS]
    if unknown or not names:
        raise ValueError(
            f"methods: unknown {unknown or names}; expected names from {', '.join(ALL_METHODS)}."
        )
    return names


def _check_options(images, seed, top_n, deletion_steps, progress):
    """Checks the numbers and flags of `run_demo` before anything runs."""
    inputs.positive_int(images, "images")
    inputs.check_seed(seed)
    if top_n is not None:
        inputs.positive_int(top_n, "top_n")
    inputs.positive_int(deletion_steps, "deletion_steps")
    inputs.check_bool(progress, "progress")


def _check_classifier(classifier):
    if classifier not in CLASSIFIERS:
        raise ValueError(
            f"classifier: expected one of {', '.join(CLASSIFIERS)}, got {classifier!r}."
        )


def explainer(method: str, model: keras.Model, layer: Any, top_n: int | None) -> Any:
    """The class twin of `method` on `model`, with `layer` and `top_n` where it takes them."""
    options = {"top_n": top_n} if method in ("score_cam", "ablation_cam") else {}
    if method in LAYER_METHODS:
        return ALL_METHODS[method](model, layer, **options)
    return ALL_METHODS[method](model, **options)


def _classifier_section(name, methods, count, seed, top_n, steps, bar):
    model = models.load(name)
    data = datasets.make_shapes(count, seed=seed, task="classification")
    objects = object_masks(data)
    layer = CLASSIFIER_LAYER
    scores, columns = {}, [viz.to_uint8_image(image) for image in data.images]
    columns = [np.stack(columns)]
    for method in methods:
        bar.set_description(f"classifier {method}")
        maps = explainer(method, model, layer, top_n)(data.images, data.labels)
        scores[method] = classifier_scores(model, data, maps, objects, steps)
        columns.append(viz.overlay(data.images, maps, alpha=0.5))
        bar.update()
    grid = viz.image_grid(
        np.stack(columns, axis=1),
        col_labels=["input"] + methods,
        row_labels=[data.class_names[c] for c in data.labels],
    )
    return {"scores": scores, "grid": grid, "layer": layer}


def object_masks(data: Shapes) -> np.ndarray:
    """Boolean `(B, H, W)` masks of each image's labeled class in a `Shapes` batch."""
    channels = 1 + data.labels[:, None, None, None]
    return np.take_along_axis(data.masks, channels, axis=-1)[..., 0] > 0.5


def classifier_scores(
    model: keras.Model, data: Shapes, maps: np.ndarray, objects: np.ndarray, steps: int
) -> dict:
    """Mean localization and faithfulness scores of `maps` for the labeled classes.

    Args:
        model: The classifier.
        data: A `tfxai.datasets.Shapes` classification batch.
        maps: `(B, H, W)` maps in [0, 1].
        objects: Boolean `(B, H, W)` masks of the labeled objects.
        steps: Integer, deletion/insertion steps.

    Returns:
        Dict metric name -> float.
    """
    labels = data.labels
    return {
        "pointing_game": float(np.mean(metrics.pointing_game(maps, objects, tolerance=0))),
        "energy_pointing_game": float(np.mean(metrics.energy_pointing_game(maps, objects))),
        "iou": float(np.mean(metrics.iou(maps, objects))),
        "deletion": float(np.mean(metrics.deletion(model, data.images, maps, labels, steps=steps))),
        "insertion": float(
            np.mean(metrics.insertion(model, data.images, maps, labels, steps=steps))
        ),
        "average_drop": float(metrics.average_drop(model, data.images, maps, labels)),
        "increase_in_confidence": float(
            metrics.increase_in_confidence(model, data.images, maps, labels)
        ),
    }


def decoder_layer(model: keras.Model) -> str:
    """The last 4-D layer before a segmentation model's output layer (its decoder end)."""
    spatial = [
        path
        for path, layer in engine.layer_paths(model)
        if _rank(layer) == 4 and layer is not model.layers[-1]
    ]
    if not spatial:
        raise ValueError(f"model: {model.name!r} has no spatial layer before its output.")
    return spatial[-1]


def _rank(layer):
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):
        return None


def _unet_section(methods, count, seed, top_n, bar):
    model = models.load("shapes-unet")
    data = datasets.make_shapes(count, seed=seed, task="segmentation")
    target, truth = segmentation_target(model, data)
    layer = decoder_layer(model)
    scores = {}
    predicted = np.argmax(model.predict(data.images, verbose=0), axis=-1)
    columns = [
        np.stack([viz.to_uint8_image(image) for image in data.images]),
        _label_image(np.argmax(data.masks, axis=-1)),
        _label_image(predicted),
    ]
    for method in methods:
        bar.set_description(f"unet {method}")
        maps = explainer(method, model, layer, top_n)(data.images, target)
        scores[method] = {
            "pointing_game": float(np.mean(metrics.pointing_game(maps, truth, tolerance=0))),
            "energy_pointing_game": float(np.mean(metrics.energy_pointing_game(maps, truth))),
            "iou": float(np.mean(metrics.iou(maps, truth))),
        }
        columns.append(viz.overlay(data.images, maps, alpha=0.5))
        bar.update()
    grid = viz.image_grid(
        np.stack(columns, axis=1),
        col_labels=["input", "truth", "predicted"] + methods,
        row_labels=[data.class_names[c] for c in data.labels],
    )
    return {"scores": scores, "grid": grid, "layer": layer}


def segmentation_target(model: keras.Model, data: Shapes) -> tuple[targets.Target, np.ndarray]:
    """Seg-Grad-CAM target for each image's labeled class, and that class's true mask.

    The target sums the class logit over the pixels the model predicts as that class (the
    true pixels where it predicts none).

    Returns:
        `(target, truth)`: a `mask_score` Target and boolean `(B, H, W)` true masks.
    """
    predicted = np.argmax(model.predict(data.images, verbose=0), axis=-1)
    classes = 1 + data.labels
    region = predicted == classes[:, None, None]
    truth = object_masks(data)
    found = region.any(axis=(1, 2))[:, None, None]
    return targets.mask_score(classes, np.where(found, region, truth)), truth


def _label_image(classmap):
    """Class maps `(B, H, W)` drawn with a fixed qualitative palette (background black)."""
    palette = np.array(
        [
            [0, 0, 0],
            [230, 25, 75],
            [60, 180, 75],
            [255, 225, 25],
            [0, 130, 200],
            [245, 130, 48],
            [145, 30, 180],
        ],
        np.uint8,
    )
    return palette[np.clip(classmap, 0, len(palette) - 1)]


def to_markdown(results: dict) -> str:
    """The demo's metrics as two Markdown tables."""
    lines = [
        f"# tfxai demo\n\n{results['settings']['images']} generated shapes images per "
        f"model, seed {results['settings']['seed']}; classifier "
        f"`{results['settings'].get('classifier', 'shapes-classifier')}` at layer "
        f"`{results['settings']['classifier_layer']}`, U-Net layer "
        f"`{results['settings']['unet_layer']}` (Seg-Grad-CAM targets: the labeled "
        f"class over its predicted pixels).\n"
    ]
    for section, title in (("classifier", "Bundled classifier"), ("unet", "Bundled U-Net")):
        table = results[section]
        keys = [k for k in METRIC_COLUMNS if k in next(iter(table.values()))]
        lines.append(f"## {title}\n")
        lines.append("| method | " + " | ".join(METRIC_COLUMNS[k] for k in keys) + " |")
        lines.append("|---" * (len(keys) + 1) + "|")
        for method, row in table.items():
            lines.append(f"| {method} | " + " | ".join(f"{row[k]:.3f}" for k in keys) + " |")
        lines.append("")
    return "\n".join(lines)


def _write(path, text):
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def _progress(total, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit="method")
