"""`tfxai methods`: every explainer of the registry, its options and its paper."""

from __future__ import annotations

import argparse
import inspect
import re
from typing import Any

FLAGS: dict[str, str] = {}

EPILOG = """examples:
  tfxai methods
  tfxai methods --markdown > methods.md"""


def add_parser(commands: Any) -> None:
    """Adds the `methods` command to the `tfxai` sub-parsers."""
    parser = commands.add_parser(
        "methods",
        help="the methods --method takes, with their options and papers",
        description="Lists every explainer of tfxai.methods.METHODS: its name (for "
        "--method), whether it takes --layer, its options (as in the Python API) and "
        "the paper it implements.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")


def _paper(cls: type) -> str:
    """The link in the `Reference:` section of the class docstring (`""` if none)."""
    doc = inspect.getdoc(cls) or ""
    section = doc.split("Reference:", 1)[1] if "Reference:" in doc else doc
    found = re.search(r"https?://\S+", section)
    return found.group(0).rstrip(".,)") if found else ""


def _title(cls: type) -> str:
    """The method's name from the class docstring's summary (`"Grad-CAM"`)."""
    summary = (inspect.getdoc(cls) or cls.__name__).splitlines()[0]
    return summary.split(":", 1)[0].strip().rstrip(".")


def _options(cls: Any) -> list[str]:
    """The options of the class twin: constructor keywords and call options."""
    init = inspect.signature(cls.__init__).parameters
    names = [
        name
        for name, p in init.items()
        if name not in ("self", "model") and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    return names + [n for n in ("batch_size", "normalize", *cls.call_options) if n not in names]


def rows() -> list[tuple[str, str, str, str, str]]:
    """`(name, title, layer, options, paper)` for every method of the registry.

    Returns:
        List of string tuples, in registry order.
    """
    from tfxai.commands.quiet import import_tensorflow

    import_tensorflow()
    from tfxai import methods

    return [
        (
            name,
            _title(cls),
            "yes" if methods.takes_layer(cls) else "no",
            ", ".join(_options(cls)),
            _paper(cls),
        )
        for name, cls in methods.METHODS.items()
    ]


def run(args: argparse.Namespace) -> int:
    """Runs `tfxai methods`: a plain-text (or Markdown) table."""
    table = rows()
    header = ("METHOD (--method)", "NAME", "LAYER", "OPTIONS", "PAPER")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in table:
            cells = [f"`{row[0]}`", *row[1:3], row[3], f"<{row[4]}>" if row[4] else ""]
            print("| " + " | ".join(cells) + " |")
        return 0
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(4)]
    for row in [header, *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
    print(f"{len(table)} methods; options as in the Python API, e.g. tfxai.grad_cam(model, ...)")
    return 0
