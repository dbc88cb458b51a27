"""The `tfxai` command line.

tfxai demo [--out DIR] [--images N] [--seed S] [--methods M ...] [--top-n K]
tfxai gallery MODEL --layers L [L ...] [--channels N] [--out DIR] [--size S [W]]
              [--steps K]
tfxai --version
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `tfxai` command."""
    parser = argparse.ArgumentParser(
        prog="tfxai", description="Explainability for Keras 3 / TensorFlow image models."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser(
        "demo",
        help="every CAM method on the bundled zoo, with overlays and metrics",
        description="Runs every CAM method on the bundled shapes classifier and U-Net with "
        "freshly generated images; writes overlay grids (PNG) and a metrics "
        "table (Markdown + JSON). Nothing is downloaded.",
    )
    demo.add_argument("--out", default="tfxai-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--images", type=int, default=8, help="images per model (default: 8)")
    demo.add_argument("--seed", type=int, default=2024, help="image seed (default: 2024)")
    demo.add_argument(
        "--methods", nargs="+", default=None, metavar="METHOD", help="CAM methods (default: all)"
    )
    demo.add_argument(
        "--top-n",
        type=int,
        default=None,
        help="channels kept by Score-CAM / Ablation-CAM (default: all)",
    )
    demo.add_argument(
        "--steps", type=int, default=24, help="deletion/insertion steps (default: 24)"
    )
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_gallery(commands)
    return parser


def _add_gallery(commands: Any) -> None:
    gallery = commands.add_parser(
        "gallery",
        help="feature-visualization gallery of some layers (PNG + HTML)",
        description="Renders the channels of the given layers (Lucid's recipe) and writes "
        "PNGs, grids and a static HTML site. MODEL is a bundled model name "
        "(shapes-classifier, shapes-unet), a .keras file, or 'resnet50' "
        "(tfxai.models.resnet50: Keras' ResNet50 taking [0, 1] RGB, "
        "weights=None unless --weights is given).",
    )
    gallery.add_argument("model", help="bundled model name, .keras file, or resnet50")
    gallery.add_argument(
        "--layers",
        nargs="+",
        required=True,
        metavar="LAYER",
        help="layer names or nested paths (resnet50/conv5_block3_out)",
    )
    gallery.add_argument(
        "--channels",
        type=int,
        default=None,
        help="the first N channels of each layer (default: all)",
    )
    gallery.add_argument(
        "--out", default="tfxai-gallery", help="output folder (default: %(default)s)"
    )
    gallery.add_argument(
        "--size",
        type=int,
        nargs="+",
        default=None,
        metavar="S",
        help="image size: S (square) or H W (default: the model's input "
        "size, 128 where it is not fixed)",
    )
    gallery.add_argument("--steps", type=int, default=512, help="steps (default: 512)")
    gallery.add_argument(
        "--batch-size", type=int, default=16, help="channels optimized together (default: 16)"
    )
    gallery.add_argument(
        "--preprocess",
        default=None,
        choices=["caffe", "tf", "torch"],
        help="the model's input preprocessing, RGB models only "
        "(default: none, the model takes [0, 1] images)",
    )
    gallery.add_argument(
        "--weights", default=None, help="resnet50 only: 'imagenet' (downloads) or a weights file"
    )
    gallery.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    gallery.add_argument("--no-progress", action="store_true", help="hide progress bars")


# The API argument each flag becomes, so an error names what the user typed.
_FLAGS = {
    "gallery": {
        "layers": "--layers",
        "channels": "--channels",
        "out_dir": "--out",
        "size": "--size",
        "steps": "--steps",
        "batch_size": "--batch-size",
        "preprocess": "--preprocess",
        "weights": "--weights",
        "seed": "--seed",
    },
    "demo": {
        "out_dir": "--out",
        "images": "--images",
        "seed": "--seed",
        "methods": "--methods",
        "top_n": "--top-n",
        "deletion_steps": "--steps",
        "steps": "--steps",
    },
}


def _load_model(name: str, weights: str | None) -> keras.Model:
    """A bundled model, a `.keras` file, or Keras' ResNet50."""
    from tfxai import models

    if name == "resnet50":
        return models.resnet50(weights=weights)
    if weights is not None:
        raise ValueError(f"--weights: only for the resnet50 model, got model {name!r}.")
    if name in models.available():
        return models.load(name)
    if name.endswith(".keras"):
        return _load_keras_file(name)
    raise ValueError(
        f"model: expected one of {', '.join(models.available())}, resnet50 "
        f"or a .keras file, got {name!r}."
    )


def _load_keras_file(path: str) -> keras.Model:
    """The model saved in a `.keras` file; every failure is one `ValueError` naming MODEL."""
    import os

    if not os.path.exists(path):
        raise ValueError(f"model: no such file {path!r}; expected a .keras file.")
    if not os.path.isfile(path):
        raise ValueError(f"model: {path!r} is a folder; expected a .keras file.")
    import keras

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # Keras raises many kinds for a file it cannot read
        text = str(err).strip()
        cause = f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__
        raise ValueError(
            f"model: cannot load {path!r} as a Keras model ({cause}); expected "
            f"a file saved with model.save('name.keras')."
        ) from None


def _size(values: Sequence[int] | None) -> int | tuple[int, int] | None:
    """`--size`: None, one integer (square) or two (height, width)."""
    if values is None:
        return None
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return values[0], values[1]
    raise ValueError(f"--size: expected S or H W, got {len(values)} values: {values}.")


def _run_gallery(args: argparse.Namespace) -> int:
    from tfxai.featurevis import gallery

    size = _size(args.size)
    model = _load_model(args.model, args.weights)
    summary = gallery(
        model,
        args.layers,
        channels=args.channels,
        out_dir=args.out,
        size=size,
        steps=args.steps,
        batch_size=args.batch_size,
        preprocess=args.preprocess,
        seed=args.seed,
        progress=not args.no_progress,
    )
    print(
        f"rendered {summary['rendered']} channels, skipped {summary['skipped']}; "
        f"open {summary['index']}"
    )
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from tfxai import demo

    results = demo.run_demo(
        args.out,
        images=args.images,
        seed=args.seed,
        methods=args.methods,
        top_n=args.top_n,
        deletion_steps=args.steps,
        progress=not args.no_progress,
    )
    print(demo.to_markdown(results))
    print("wrote " + ", ".join(results["files"]))
    return 0


def error_message(error: BaseException, flags: Mapping[str, str]) -> str:
    """One line for a failed command: the API argument at the start becomes its flag.

    Args:
        error: The exception (a `ValueError`, `TypeError` or `OSError`).
        flags: Dict `{argument: flag}` of the command.

    Returns:
        String, e.g. `"--channels: got 999, more channels than any layer has ..."`.
    """
    if isinstance(error, OSError) and error.strerror:
        where = f" {error.filename!r}" if error.filename else ""
        return f"{error.strerror}:{where}"
    text = " ".join(str(error).split()) or type(error).__name__
    name, colon, rest = text.partition(": ")
    if colon and name in flags:
        return f"{flags[name]}: {rest}"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tfxai` console script; returns the exit status.

    Bad arguments (argparse's and tfxai's own) exit with status 2 and one line on stderr,
    `tfxai <command>: error: <flag>: <what was given and what is expected>`, never a
    traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from tfxai import __version__

        print(__version__)
        return 0
    runs = {"gallery": _run_gallery, "demo": _run_demo}
    if args.command not in runs:
        parser.print_help()
        return 0
    try:
        return runs[args.command](args)
    except (ValueError, TypeError, OSError) as error:
        message = error_message(error, _FLAGS[args.command])
        print(f"tfxai {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
