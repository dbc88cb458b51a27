"""The `tfxai` command line."""

import argparse
import sys


def build_parser():
    """The argument parser of the `tfxai` command."""
    parser = argparse.ArgumentParser(prog="tfxai", description=__doc__)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def main(argv=None):
    """Entry point of the `tfxai` console script."""
    args = build_parser().parse_args(argv)
    if args.version:
        from tfxai import __version__
        print(__version__)
        return 0
    build_parser().print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
