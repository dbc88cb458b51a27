"""The public API is typed: every public function and method carries annotations.

Walks `tfxai.__all__` and the `__all__` of every subpackage (and of the modules they
list, e.g. `tfxai.methods`, `tfxai.featurevis.param`), and the public modules that no
`__all__` lists: `tfxai.cli` (the console script) and `tfxai.heads`. A callable is an
offender when a parameter other than `self`/`cls` lacks an annotation, or the return
does. `*args` and `**kwargs` may stay unannotated: they forward options whose types
belong to the callee.
For a public class the methods it defines itself are checked: every name without a
leading underscore plus `__init__` and `__call__`, and its properties' getters.
"""

import importlib
import inspect
import pkgutil
from collections import defaultdict
from pathlib import Path

import tfxai

_DUNDERS = ("__init__", "__call__")
_EXEMPT_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
_UNLISTED_MODULES = ("tfxai.cli", "tfxai.heads")


def _subpackages():
    yield tfxai
    for info in pkgutil.iter_modules(tfxai.__path__, "tfxai."):
        if info.ispkg:
            yield importlib.import_module(info.name)
    for name in _UNLISTED_MODULES:
        yield importlib.import_module(name)


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    ]


def _public_objects():
    """(qualified name, object) of every public function and class, each object once."""
    seen, modules, found = set(), list(_subpackages()), []
    done_modules = set()
    while modules:
        module = modules.pop(0)
        if module.__name__ in done_modules:
            continue
        done_modules.add(module.__name__)
        for name in _public_names(module):
            value = getattr(module, name)
            if inspect.ismodule(value):
                if value.__name__.startswith("tfxai."):
                    modules.append(value)
                continue
            if not (inspect.isclass(value) or inspect.isfunction(value)) or id(value) in seen:
                continue
            if not getattr(value, "__module__", "").startswith("tfxai"):
                continue  # re-exported from elsewhere (e.g. a Keras class)
            seen.add(id(value))
            found.append((f"{value.__module__}.{value.__qualname__}", value))
    return found


def _missing(function, *, method=False):
    """The parts of `function`'s signature without an annotation."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []
    missing = []
    for i, (name, parameter) in enumerate(signature.parameters.items()):
        if method and i == 0 and name in ("self", "cls"):
            continue
        if parameter.kind in _EXEMPT_KINDS:
            continue
        if parameter.annotation is inspect.Parameter.empty:
            missing.append(name)
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def _own_methods(cls):
    for name, member in vars(cls).items():
        if name.startswith("_") and name not in _DUNDERS:
            continue
        if isinstance(member, property):
            if member.fget is not None:
                yield name, member.fget, True
        elif isinstance(member, (staticmethod, classmethod)):
            yield name, member.__func__, isinstance(member, classmethod)
        elif inspect.isfunction(member):
            yield name, member, True


def unannotated():
    """{module: ["name (missing parts)", ...]} over the whole public API."""
    offenders = defaultdict(list)
    for qualname, value in _public_objects():
        module = value.__module__
        if inspect.isfunction(value):
            missing = _missing(value)
            if missing:
                offenders[module].append(f"{qualname} ({', '.join(missing)})")
            continue
        for name, method, bound in _own_methods(value):
            missing = _missing(method, method=bound)
            if missing:
                offenders[module].append(f"{qualname}.{name} ({', '.join(missing)})")
    return dict(offenders)


def test_public_api_is_annotated():
    offenders = unannotated()
    lines = [
        f"{module}:\n    " + "\n    ".join(names) for module, names in sorted(offenders.items())
    ]
    count = sum(len(names) for names in offenders.values())
    assert not offenders, f"{count} public callables lack annotations:\n" + "\n".join(lines)


def test_walk_finds_the_api():
    # The walk must see the API, or the test above passes on nothing.
    names = {qualname for qualname, _ in _public_objects()}
    for expected in (
        "tfxai.cam.gradcam.GradCAM",
        "tfxai.viz.overlay.overlay",
        "tfxai.callbacks.explanation.ExplanationCallback",
        "tfxai.methods.build",
        "tfxai.cli.main",
        "tfxai.heads.probabilities",
    ):
        assert expected in names


def test_missing_annotations_are_found():
    def untyped(model, inputs: int, *args, **kwargs):
        return inputs

    def typed(model: object, *args, **kwargs) -> None:
        return None

    class Thing:
        def __init__(self, size): ...

        def method(self) -> int:
            return 1

    assert _missing(untyped) == ["model", "return"]
    assert _missing(typed) == []
    assert [(name, _missing(m, method=b)) for name, m, b in _own_methods(Thing)] == [
        ("__init__", ["size", "return"]),
        ("method", []),
    ]


def test_py_typed_marker_ships_with_the_package():
    assert (Path(tfxai.__file__).parent / "py.typed").is_file()
