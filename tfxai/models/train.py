"""Trains the bundled zoo on freshly generated shapes and records held-out scores.

    python -m tfxai.models.train --model shapes-classifier|shapes-gap-classifier|shapes-unet|all \\
        --seed 0 --out tfxai/models/assets

Each model is trained on freshly generated shapes (`n` new images every epoch or two,
seeds `(seed, epoch // repeat)`) and evaluated on a held-out set made with another seed
(`seed + 1000`). Runs are seeded (`keras.utils.set_random_seed`) and use deterministic
TensorFlow ops (`--no-determinism` turns that off). The `.keras`
files are saved without optimizer state; `zoo.json` beside them records the scores and
settings (other models' records in it are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tfxai.models.losses import ce_dice_loss, cell_labels, shifted_ce, with_background

if TYPE_CHECKING:
    import keras

RECIPES: dict[str, dict[str, Any]] = {
    "shapes-classifier": {
        "task": "classification",
        "builder": "shapes_classifier",
        "kwargs": {"input_shape": [96, 96, 3], "classes": 5, "width": 16},
        "n": 8000,
        "epochs": 12,
        "repeat": 2,
        "batch_size": 32,
        "learning_rate": 2e-3,
        "class_map_weight": 1.0,
        "dice_weight": 1.0,
    },
    "shapes-gap-classifier": {
        "task": "classification",
        "builder": "shapes_gap_classifier",
        "kwargs": {"input_shape": [96, 96, 3], "classes": 5, "width": 16},
        "n": 8000,
        "epochs": 12,
        "repeat": 2,
        "batch_size": 32,
        "learning_rate": 1e-3,
    },
    "shapes-unet": {
        "task": "segmentation",
        "builder": "unet",
        "kwargs": {"input_shape": [96, 96, 3], "num_classes": 6, "depth": 3, "filters": 16},
        "n": 6000,
        "epochs": 6,
        "batch_size": 32,
        "learning_rate": 3e-3,
        "dice_weight": 1.0,
    },
}
SIZE = 96
HELDOUT_OFFSET = 1000
HELDOUT_N = 1000


def _build(recipe: dict[str, Any]) -> keras.Model:
    from tfxai import models

    return getattr(models, recipe["builder"])(**recipe["kwargs"])


def train(
    name: str,
    *,
    seed: int = 0,
    out: str | os.PathLike[str] | None = None,
    n: int | None = None,
    epochs: int | None = None,
    heldout_n: int = HELDOUT_N,
    deterministic: bool = True,
    verbose: int = 2,
) -> dict[str, Any]:
    """Trains one bundled model, saves `{out}/{name}.keras` and returns its record.

    Every `repeat` epochs (a recipe setting) see `n` freshly generated images
    (`seed=(seed, epoch // repeat)`); the held-out set is `make_shapes(heldout_n,
    seed=seed + 1000)`. `"shapes-classifier"`'s losses put a background logit of 0 beside
    its class scores (`with_background`): cross-entropy of the label on the pooled logits,
    and (deep supervision of `"class_map"` from the masks) the same cross-entropy plus
    soft Dice as the U-Net against `cell_labels`; `"shapes-gap-classifier"` (a recipe
    without `"class_map_weight"`) minimizes the cross-entropy of the labels alone, the
    masks unused; the U-Net minimizes pixel cross-entropy plus soft Dice.

    Args:
        name: String, a key of `RECIPES`.
        seed: Integer, default 0. Seeds the training data, initialization and shuffling.
        out: Directory, default the package's assets directory.
        n: Integer, default the recipe's. Training images per epoch.
        epochs: Integer, default the recipe's.
        heldout_n: Integer, default 1000. Number of held-out images.
        deterministic: Boolean, default True. `tf.config.experimental.enable_op_determinism`.
        verbose: Integer, default 2. Passed to `model.fit`.

    Returns:
        A dict of settings and held-out metrics (what `zoo.json` holds for `name`).

    Raises:
        ValueError: If `name` is not a key of `RECIPES`.
    """
    import keras
    import tensorflow as tf

    from tfxai.datasets import shapes
    from tfxai.models import evaluate, zoo

    if name not in RECIPES:
        raise ValueError(f"name: expected one of {sorted(RECIPES)}, got {name!r}.")
    recipe = dict(RECIPES[name])
    n = recipe["n"] if n is None else n
    epochs = recipe["epochs"] if epochs is None else epochs
    out = Path(out) if out is not None else zoo.ASSETS
    out.mkdir(parents=True, exist_ok=True)
    task = recipe["task"]

    metrics: list[Any]
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    model = _build(recipe)
    if task == "classification" and "class_map_weight" not in recipe:  # labels only
        fit_model = model
        losses: Any = "sparse_categorical_crossentropy"
        loss_weights, metrics = None, ["accuracy"]
    elif task == "classification":
        class_map = model.get_layer("class_map").output
        cell = SIZE // class_map.shape[1]
        fit_model = keras.Model(model.input, [model.output, class_map])
        losses = [
            with_background(shifted_ce),
            with_background(ce_dice_loss(None, recipe["dice_weight"])),
        ]
        loss_weights = [1.0, recipe["class_map_weight"]]
        metrics = [["accuracy"], []]
    else:
        fit_model = model
        losses = ce_dice_loss(model.output.shape[-1], recipe["dice_weight"])
        loss_weights, metrics = None, ["accuracy"]
    steps = epochs * int(np.ceil(n / recipe["batch_size"]))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, steps, warmup_target=recipe["learning_rate"], warmup_steps=max(1, steps // 20)
    )
    fit_model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=losses,
        loss_weights=loss_weights,
        metrics=metrics,
    )

    generation_s = train_s = 0.0
    repeat = recipe.get("repeat", 1)
    for epoch in range(epochs):
        if epoch % repeat == 0:  # fresh images, else the same ones again
            start = time.perf_counter()
            images, labels, classmap = shapes.render(
                n, size=SIZE, task=task, seed=(seed, epoch // repeat)
            )
            targets: Any
            if fit_model is model:
                targets = labels if task == "classification" else classmap
            else:
                targets = (labels, cell_labels(classmap, cell))
            generation_s += time.perf_counter() - start
        start = time.perf_counter()
        fit_model.fit(
            images,
            targets,
            batch_size=recipe["batch_size"],
            epochs=epoch + 1,
            initial_epoch=epoch,
            shuffle=True,
            verbose=verbose,
        )
        train_s += time.perf_counter() - start
    del images, labels, classmap, targets

    heldout_seed = seed + HELDOUT_OFFSET
    test_images, test_labels, test_map = shapes.render(
        heldout_n, size=SIZE, seed=heldout_seed, task=task
    )
    if task == "classification":
        scores: dict[str, Any] = {"accuracy": evaluate.accuracy(model, test_images, test_labels)}
    else:
        miou, per_class = evaluate.mean_iou(model, test_images, test_map)
        scores = {
            "mean_iou": miou,
            "iou_per_class": dict(
                zip(("background",) + shapes.CLASSES, [round(float(v), 4) for v in per_class])
            ),
        }

    clean = _build(recipe)  # no optimizer state in the shipped file
    clean.set_weights(model.get_weights())
    file = out / f"{name}.keras"
    clean.save(file)
    settings = {
        k: v for k, v in recipe.items() if k not in ("task", "builder", "kwargs", "n", "epochs")
    }
    return {
        "file": file.name,
        "task": task,
        "builder": recipe["builder"],
        "kwargs": recipe["kwargs"],
        "size": SIZE,
        "bytes": file.stat().st_size,
        "train": {
            "command": _command(name, seed, n, epochs, heldout_n, deterministic, recipe),
            "n_per_epoch": n,
            "epochs": epochs,
            "n_total": n * epochs,
            "seed": seed,
            "data_seeds": f"({seed}, epoch // repeat)",
            **settings,
            "optimizer": "adam",
            "schedule": "linear warmup 5%, cosine decay",
            "deterministic_ops": deterministic,
            "generation_s": round(generation_s, 1),
            "time_s": round(train_s, 1),
            "cpu_count": os.cpu_count(),
        },
        "heldout": {
            "n": heldout_n,
            "seed": heldout_seed,
            **{k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()},
        },
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }


def _command(
    name: str,
    seed: int,
    n: int,
    epochs: int,
    heldout_n: int,
    deterministic: bool,
    recipe: dict[str, Any],
) -> str:
    """The `python -m tfxai.models.train` command line that makes this record."""
    parts = [f"python -m tfxai.models.train --model {name} --seed {seed}"]
    if n != recipe["n"]:
        parts.append(f"--n {n}")
    if epochs != recipe["epochs"]:
        parts.append(f"--epochs {epochs}")
    if heldout_n != HELDOUT_N:
        parts.append(f"--heldout-n {heldout_n}")
    if not deterministic:
        parts.append("--no-determinism")
    return " ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `python -m tfxai.models.train --model all --seed 0 --out DIR`."""
    parser = argparse.ArgumentParser(
        prog="python -m tfxai.models.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", default="all", choices=sorted(RECIPES) + ["all"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="directory (default: package assets)")
    parser.add_argument("--n", type=int, default=None, help="training images")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--heldout-n", type=int, default=HELDOUT_N)
    parser.add_argument("--no-determinism", action="store_true")
    args = parser.parse_args(argv)

    from tfxai.models import zoo

    out = Path(args.out) if args.out else zoo.ASSETS
    names = sorted(RECIPES) if args.model == "all" else [args.model]
    record_file = out / zoo.METRICS_FILE
    for name in names:
        record = train(
            name,
            seed=args.seed,
            out=out,
            n=args.n,
            epochs=args.epochs,
            heldout_n=args.heldout_n,
            deterministic=not args.no_determinism,
        )
        records = json.loads(record_file.read_text()) if record_file.is_file() else {}
        records[name] = record
        record_file.write_text(json.dumps(records, indent=2, sort_keys=True) + "\n")
        print(json.dumps({name: record}, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
