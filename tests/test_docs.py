"""The API reference covers the public API, and its docstrings have the sections it renders.

`docs/api/*.md` hold mkdocstrings directives (`::: tfxai.cam`, with an optional indented
`options:` block). This test resolves them the way mkdocstrings does, without building the
site: a module directive renders its `members:` when they are listed, else its `__all__`
(else its public names), minus what its `filters:` exclude; any other directive renders the
one object it names. Every name of `tfxai.__all__` must be rendered on some page (a module
by its own directive), and every public function and class must have a docstring with
`Args:` (when it takes arguments), `Returns:` (functions that return a value) and `Example:`.
`mkdocs build --strict` (in .ci/run) checks the rest: that the pages build and that griffe
can parse every docstring it renders.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import re
import types
from pathlib import Path

import pytest

import tfxai

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "api"
MKDOCS = ROOT / "mkdocs.yml"
DIRECTIVE = re.compile(r"^:::\s+(\S+)\s*$")
DEFAULT_FILTERS = ["!^_[^_]"]
# Pages of an optional extra, checked only where the extra is installed (CI installs it;
# README's `.[dev]` does not): {module prefix: the package it needs}.
OPTIONAL = {"tfxai.scale.beam": "apache_beam"}


def unavailable(ident: str) -> bool:
    """True for a directive under a module whose optional extra is not installed."""
    return any(
        ident.startswith(prefix) and importlib.util.find_spec(package) is None
        for prefix, package in OPTIONAL.items()
    )


def resolve(path: str) -> object:
    """The object at a dotted path, as Python sees it (the longest importable module first)."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(path)


def parse_options(lines: list[str]) -> dict:
    """The `members:` and `filters:` of a directive's indented `options:` block."""
    options: dict = {}
    key = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("- ") and key == "members":
            options["members"].append(stripped[2:].strip().strip("\"'"))
            continue
        match = re.match(r"(members|filters):\s*(.*)$", stripped)
        if not match:
            key = None
            continue
        key, value = match.groups()
        if key == "members":
            options["members"] = [] if value == "" else (False if value == "false" else value)
        else:
            options["filters"] = re.findall(r"\"([^\"]*)\"|'([^']*)'", value)
            options["filters"] = [a or b for a, b in options["filters"]]
    return options


def directives(text: str) -> list[tuple[str, dict]]:
    """`(identifier, options)` for every `::: identifier` of a page."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if not match:
            continue
        block = []
        for following in lines[i + 1 :]:
            if following.strip() and not following.startswith((" ", "\t")):
                break
            block.append(following)
        found.append((match.group(1), parse_options(block)))
    return found


def global_filters() -> list[str]:
    match = re.search(r"^\s*filters:\s*(\[.*\])\s*$", MKDOCS.read_text(), re.MULTILINE)
    if not match:
        return DEFAULT_FILTERS
    return [a or b for a, b in re.findall(r"\"([^\"]*)\"|'([^']*)'", match.group(1))]


def kept(name: str, filters: list[str]) -> bool:
    """mkdocstrings' filters: a name is dropped by any `!regex` it matches."""
    return not any(f.startswith("!") and re.search(f[1:], name) for f in filters)


def rendered() -> tuple[list[tuple[str, object]], set[str]]:
    """`(qualified name, object)` of everything the API pages render, and the modules."""
    objects: list[tuple[str, object]] = []
    modules: set[str] = set()
    base_filters = global_filters()
    for page in sorted(API.glob("*.md")):
        for ident, options in directives(page.read_text()):
            if unavailable(ident):
                continue
            obj = resolve(ident)
            objects.append((ident, obj))
            if not isinstance(obj, types.ModuleType):
                continue
            modules.add(ident)
            members = options.get("members")
            if members is False:
                continue
            if not members:
                names = getattr(obj, "__all__", None)
                members = list(names) if names is not None else list(vars(obj))
            filters = options.get("filters", base_filters)
            for name in members:
                if kept(name, filters) and hasattr(obj, name):
                    objects.append((f"{ident}.{name}", getattr(obj, name)))
    return objects, modules


def test_directives_are_found_and_resolve():
    """The parser finds the pages' directives and each names a real object (or this test
    would pass on an empty or broken reference)."""
    objects, modules = rendered()
    assert {"tfxai.cam", "tfxai.attribution", "tfxai.metrics", "tfxai.featurevis"} <= modules
    assert len(objects) > len(tfxai.__all__)


def test_every_public_name_is_in_the_api_reference():
    objects, modules = rendered()
    missing = []
    for name in tfxai.__all__:
        obj = getattr(tfxai, name)
        if isinstance(obj, types.ModuleType):
            if obj.__name__ not in modules:
                missing.append(name)
        elif not any(
            found is obj and qualified.rsplit(".", 1)[-1] == name for qualified, found in objects
        ):
            missing.append(name)
    assert not missing, f"names of tfxai.__all__ not rendered by docs/api/*.md: {missing}"


def takes_arguments(obj: object) -> bool:
    target = obj.__init__ if inspect.isclass(obj) else obj  # type: ignore[misc]
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name not in ("self", "cls") for p in parameters)


def returns_value(function: object) -> bool:
    annotation = inspect.signature(function).return_annotation  # type: ignore[arg-type]
    return annotation not in (None, "None", inspect.Signature.empty)


def section(doc: str, *names: str) -> bool:
    return any(re.search(rf"^\s*{name}:\s*$", doc, re.MULTILINE) for name in names)


def docstring_gaps(name: str, obj: object) -> list[str]:
    """The sections the docstring of `obj` lacks (a class's `__init__` docstring counts:
    the reference merges it into the class)."""
    doc = inspect.getdoc(obj) or ""
    if inspect.isclass(obj) and "__init__" in vars(obj):
        doc += "\n" + (inspect.getdoc(obj.__init__) or "")
    if not doc.strip():
        return ["docstring"]
    gaps = []
    # A dataclass's arguments are its fields, documented as `Attributes:`.
    args = ("Args", "Arguments", "Attributes") if dataclasses.is_dataclass(obj) else ("Args",)
    if takes_arguments(obj) and not section(doc, *args):
        gaps.append("Args")
    if inspect.isfunction(obj) and returns_value(obj) and not section(doc, "Returns"):
        gaps.append("Returns")
    if not section(doc, "Example", "Examples"):
        gaps.append("Example")
    return gaps


PUBLIC = [
    name
    for name in tfxai.__all__
    if inspect.isfunction(getattr(tfxai, name)) or inspect.isclass(getattr(tfxai, name))
]


def test_public_docstrings_have_args_returns_and_example():
    gaps = {name: docstring_gaps(name, getattr(tfxai, name)) for name in PUBLIC}
    gaps = {name: missing for name, missing in gaps.items() if missing}
    assert not gaps, f"docstring sections missing (name: sections): {gaps}"


@pytest.mark.parametrize(
    "doc, expected",
    [
        ("Summary.\n\nArgs:\n    x: Integer.\n\nReturns:\n    y.\n\nExample:\n    >>> f(1)", []),
        ("Summary.\n\nArgs:\n    x: Integer.\n\nExample:\n    >>> f(1)", ["Returns"]),
        ("Summary. Args: x. Returns: y. Example: f(1).", ["Args", "Returns", "Example"]),
        ("", ["docstring"]),
    ],
)
def test_the_docstring_check_can_fail(doc, expected):
    def f(x: int) -> int:
        return x

    f.__doc__ = doc
    assert docstring_gaps("f", f) == expected


def test_the_coverage_check_can_fail(tmp_path, monkeypatch):
    """A reference without the CAM page misses the CAM names."""
    for page in API.glob("*.md"):
        if page.name != "cam.md":
            (tmp_path / page.name).write_text(page.read_text())
    monkeypatch.setitem(globals(), "API", tmp_path)
    with pytest.raises(AssertionError, match="grad_cam"):
        test_every_public_name_is_in_the_api_reference()
