"""`tfxai layers MODEL`: the layer paths usable as `--layer`, with their output shapes."""

from __future__ import annotations

import argparse
from typing import Any

from tfxai.commands import catalog, checks

FLAGS = {"weights": "--weights"}

EPILOG = """examples:
  tfxai layers shapes-classifier
  tfxai layers model.keras --spatial
  tfxai layers resnet50 --spatial"""


def add_parser(commands: Any) -> None:
    """Adds the `layers` command to the `tfxai` sub-parsers."""
    parser = commands.add_parser(
        "layers",
        help="the layer paths of a model usable as --layer, with output shapes",
        description="Lists every layer of MODEL by the path --layer takes (nested models "
        "expanded: outer/inner; the operations of a Functional model that are not layers, "
        "such as the Add of `x + y`, marked (op)), with its type and output shape. '*' marks "
        "the layers with a "
        "spatial (batch, height, width, channels) output, which the CAM methods explain; "
        "'default' marks the one they use without --layer. MODEL is a bundled model "
        f"({', '.join(catalog.ZOO_MODELS)}), a .keras file, or resnet50.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="bundled model name, .keras file, resnet50")
    parser.add_argument(
        "--spatial", action="store_true", help="only the layers with a 4-D output (for CAMs)"
    )
    parser.add_argument(
        "--weights", default=None, help="resnet50 only: 'imagenet' (downloads) or a weights file"
    )


def run(args: argparse.Namespace) -> int:
    """Runs `tfxai layers`: prints one row per layer path."""
    checks.check_model_name(args.model, args.weights)
    from tfxai.commands.loading import load_model

    model = load_model(args.model, args.weights)
    import keras

    from tfxai.layer_lookup import last_spatial_layer, layer_paths, static_shape, sublayers

    try:
        default = last_spatial_layer(model)
    except ValueError:
        default = None
    rows = []
    for path, layer in layer_paths(model):
        shape = static_shape(layer)
        spatial = shape is not None and len(shape) == 4 and not sublayers(layer)
        if args.spatial and not spatial:
            continue
        mark = "default" if layer is default else ("*" if spatial else "")
        text = "?" if shape is None else ("(several)" if shape == () else str(shape))
        kind = type(layer).__name__ + ("" if isinstance(layer, keras.layers.Layer) else " (op)")
        rows.append((path, kind, text, mark))
    header = ("LAYER (--layer)", "TYPE", "OUTPUT SHAPE", "")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    print(f"{len(rows)} layers of model {model.name!r}")
    return 0
