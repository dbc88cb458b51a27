"""The `tfxai` command line.

    tfxai demo [--out DIR] [--images N] [--seed S] [--methods M ...] [--top-n K]
    tfxai --version
"""

import argparse
import sys


def build_parser():
    """The argument parser of the `tfxai` command."""
    parser = argparse.ArgumentParser(
        prog="tfxai", description="Explainability for Keras 3 / TensorFlow image models.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser(
        "demo", help="every CAM method on the bundled zoo, with overlays and metrics",
        description="Runs every CAM method on the bundled shapes classifier and U-Net with "
                    "freshly generated images; writes overlay grids (PNG) and a metrics "
                    "table (Markdown + JSON). Nothing is downloaded.")
    demo.add_argument("--out", default="tfxai-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--images", type=int, default=8, help="images per model (default: 8)")
    demo.add_argument("--seed", type=int, default=2024, help="image seed (default: 2024)")
    demo.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                      help="CAM methods (default: all)")
    demo.add_argument("--top-n", type=int, default=None,
                      help="channels kept by Score-CAM / Ablation-CAM (default: all)")
    demo.add_argument("--steps", type=int, default=24,
                      help="deletion/insertion steps (default: 24)")
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv=None):
    """Entry point of the `tfxai` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from tfxai import __version__
        print(__version__)
        return 0
    if args.command != "demo":
        parser.print_help()
        return 0
    from tfxai import demo
    try:
        results = demo.run_demo(args.out, images=args.images, seed=args.seed,
                                methods=args.methods, top_n=args.top_n,
                                deletion_steps=args.steps, progress=not args.no_progress)
    except (ValueError, FileNotFoundError) as error:
        print(f"tfxai demo: error: {error}", file=sys.stderr)
        return 2
    print(demo.to_markdown(results))
    print("wrote " + ", ".join(results["files"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
