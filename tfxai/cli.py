"""The `tfxai` command line: the entry point and its argparse wiring.

tfxai explain MODEL IMAGE [IMAGE ...] [--method M] [--layer L] [--target T]
              [--preprocess caffe|tf|torch|none] [--out DIR]
tfxai explain-dataset MODEL IMAGE_DIR OUT [--method M] [--metrics a,b] [--runner direct|beam]
tfxai methods                  the methods --method takes, options, papers
tfxai layers MODEL             the layer paths --layer takes, output shapes
tfxai demo [--out DIR] [--images N] [--seed S] [--methods M ...] [--top-n K]
           [--classifier shapes-gap-classifier|shapes-classifier]
tfxai gallery MODEL --layers L [L ...] [--channels N] [--out DIR] [--size S [W]]
              [--steps K]
tfxai version | tfxai --version

The commands `explain`, `explain-dataset`, `methods` and `layers` live in
`tfxai.commands`, one module each.
Nothing is imported from TensorFlow until a command needs a model, so what needs none
(a missing file, a file that is not an image, an unknown method, an unwritable folder)
is answered at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from tfxai import __version__
from tfxai.commands import explain, explain_dataset, layers, methods_table


class OneLineParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose usage errors are one line on stderr, status 2."""

    def error(self, message: str) -> NoReturn:
        """Prints `prog: error: message (prog --help ...)` and exits with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `tfxai` command."""
    parser = OneLineParser(
        prog="tfxai",
        description="Explainability for Keras 3 / TensorFlow image models.",
        epilog="examples:\n  tfxai explain shapes-classifier star.png\n  tfxai methods\n"
        "  tfxai layers shapes-classifier\n  tfxai COMMAND --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    explain.add_parser(commands)
    explain_dataset.add_parser(commands)
    methods_table.add_parser(commands)
    layers.add_parser(commands)
    demo = commands.add_parser(
        "demo",
        help="every CAM method on the bundled zoo, with overlays and metrics",
        description="Runs every CAM method on the bundled shapes classifier and U-Net with "
        "freshly generated images; writes overlay grids (PNG) and a metrics "
        "table (Markdown + JSON). Nothing is downloaded.",
        epilog="examples:\n  tfxai demo\n  tfxai demo --images 4 --methods grad_cam "
        "eigen_cam --out demo\n  tfxai demo --classifier shapes-classifier",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    demo.add_argument(
        "--classifier",
        default="shapes-gap-classifier",
        metavar="NAME",
        help="bundled classifier: shapes-gap-classifier (global average pooling, the "
        "default) or shapes-classifier (max pooling, mask-supervised)",
    )
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_gallery(commands)
    commands.add_parser(
        "version",
        help="print the version",
        description="Prints the version of tfxai, as tfxai --version does.",
        epilog="example:\n  tfxai version",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
        epilog="examples:\n  tfxai gallery shapes-classifier --layers block4_out --channels 8\n"
        "  tfxai gallery resnet50 --layers conv5_block3_out --weights imagenet --steps 256",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        "preprocessing": "--preprocess",
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
        "classifier": "--classifier",
    },
    "explain": explain.FLAGS,
    "explain-dataset": explain_dataset.FLAGS,
    "layers": layers.FLAGS,
    "methods": methods_table.FLAGS,
    "version": {},
}


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
    from tfxai.commands.loading import load_model

    size = _size(args.size)
    model = load_model(args.model, args.weights)
    from tfxai.featurevis import gallery

    summary = gallery(
        model,
        args.layers,
        channels=args.channels,
        out_dir=args.out,
        size=size,
        steps=args.steps,
        batch_size=args.batch_size,
        preprocessing=args.preprocess,
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
        classifier=args.classifier,
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


def _run_version(args: argparse.Namespace) -> int:
    print(__version__)
    return 0


_RUNS: dict[str, Callable[[argparse.Namespace], int]] = {
    "explain": explain.run,
    "explain-dataset": explain_dataset.run,
    "methods": methods_table.run,
    "layers": layers.run,
    "gallery": _run_gallery,
    "demo": _run_demo,
    "version": _run_version,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tfxai` console script; returns the exit status.

    Bad arguments (argparse's and tfxai's own) exit with status 2 and one line on stderr,
    `tfxai <command>: error: <flag>: <what was given and what is expected>`, never a
    traceback. Without a command, the help goes to stderr and the status is 2.

    Args:
        argv: The arguments, default `None` (`sys.argv[1:]`).

    Returns:
        Integer, 0 on success, 2 on bad input.

    Example:
        >>> main(["explain", "shapes-classifier", "star.png", "--out", "maps"])
        0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version and usage errors end here
        return done.code if isinstance(done.code, int) else 2
    if args.command not in _RUNS:
        parser.print_help(sys.stderr)
        return 2
    try:
        return _RUNS[args.command](args)
    except (ValueError, TypeError, OSError) as error:
        message = error_message(error, _FLAGS[args.command])
        print(f"tfxai {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tfxai {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
