"""The one cache (`tfxai.cache`): bounded per kind, keyed weakly on models, cleared as one."""

import ast
import pathlib
import re
import weakref

import numpy as np
import pytest

import tfxai
from tfxai import cache


class Owner:
    """Stands in for a model: anything that takes a weak reference."""


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def _fetch(kind, owner, key):
    built = []
    value, hit = cache.fetch(kind, owner, key, lambda: built.append(key) or f"{kind}:{key}")
    assert hit == (not built)
    return value, hit


def test_each_kind_keeps_its_last_entries_least_recently_used_first_out():
    owner = Owner()
    for key in range(cache.SIZES[cache.EXPLAINER] + 2):
        assert _fetch(cache.EXPLAINER, owner, key) == (f"explainer:{key}", False)
    view = cache.View(cache.EXPLAINER)
    assert len(view) == cache.SIZES[cache.EXPLAINER]
    assert view.values()[0] == "explainer:2"  # 0 and 1 went first
    assert _fetch(cache.EXPLAINER, owner, 5)[1]  # kept: a hit, now the most recent
    assert view.values()[-1] == "explainer:5"
    assert not _fetch(cache.EXPLAINER, owner, 0)[1]  # evicted: built again


def test_kinds_have_their_own_bounds_and_clear_one_kind_or_all():
    owner = Owner()
    for key in range(6):
        _fetch(cache.RENDER_STEP, owner, key)
        _fetch(cache.SCORER, owner, key)
    assert len(cache.View(cache.RENDER_STEP)) == cache.SIZES[cache.RENDER_STEP] == 4
    assert len(cache.View(cache.SCORER)) == 6  # the render steps did not push scorers out
    cache.clear(cache.SCORER)
    assert len(cache.View(cache.SCORER)) == 0 and len(cache.View(cache.RENDER_STEP)) == 4
    tfxai.clear_cache()
    assert len(cache.View(cache.RENDER_STEP)) == 0


def test_an_entry_serves_only_the_model_it_was_built_for():
    first, second = Owner(), Owner()
    _fetch(cache.EXPLAINER, first, "k")
    # A model whose id is the id of a dead one (Python reuses ids) must not get its graphs:
    # make the stored weak reference point elsewhere, as a dead model's would.
    ((key, (owner_ref, value)),) = cache._store.items()
    assert owner_ref() is first
    cache._store[key] = (weakref.ref(second), value)
    assert not _fetch(cache.EXPLAINER, first, "k")[1]  # rebuilt, not reused
    assert _fetch(cache.EXPLAINER, first, "k")[1]


def test_render_view_pairs_each_step_with_its_owner():
    owner = Owner()
    _fetch(cache.RENDER_STEP, owner, "k")
    ((owner_ref, value),) = cache.View(cache.RENDER_STEP, with_owner=True).values()
    assert owner_ref() is owner and value == "render step:k"


def test_function_forms_scorers_and_render_steps_share_the_store(tiny_model):
    images = np.random.default_rng(0).uniform(size=(2, 16, 16, 3)).astype(np.float32)
    tfxai.grad_cam(tiny_model, images, layer="conv")
    tfxai.saliency(tiny_model, images)
    tfxai.metrics.deletion(tiny_model, images, np.ones((2, 16, 16), np.float32), steps=2)
    tfxai.render(tiny_model, tfxai.featurevis.channel("conv", 0), size=16, steps=1, progress=False)
    kinds = sorted(key[0] for key in cache._store)
    assert kinds == ["explainer", "explainer", "render step", "scorer"]
    assert all(ref() is tiny_model for ref, _ in cache._store.values())


@pytest.fixture
def tiny_model():
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ]
    )


def _filled_at_run_time(tree, name):
    """Whether the module writes into its module-level `name` (`name[k] = v`, `.update`,
    `.setdefault`, ...): a store that fills while the program runs, i.e. a cache."""
    writes = ("update", "setdefault", "move_to_end", "__setitem__", "append", "add")
    for node in ast.walk(tree):
        stored = isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)
        called = isinstance(node, ast.Attribute) and node.attr in writes
        if (stored or called) and isinstance(node.value, ast.Name) and node.value.id == name:
            return True
    return False


def _functools_cache(text):
    """True where a module uses functools' module-level caches (not `cached_property`, which
    lives and dies with its object)."""
    return re.search(r"lru_cache|functools\.cache\b", text) is not None


def test_the_functools_check_tells_a_cache_from_a_cached_property():
    assert _functools_cache("@functools.cache\ndef f(): ...")
    assert _functools_cache("@functools.lru_cache(8)\ndef f(): ...")
    assert not _functools_cache("@functools.cached_property\ndef f(self): ...")


def test_no_module_keeps_a_cache_of_its_own():
    """Module-level stores that start empty and fill at run time (dicts, ordered or weak
    dicts, lru_cache) live in tfxai/cache.py only; a module may hold a `cache.View`."""
    stores = ("OrderedDict", "dict", "WeakKeyDictionary", "WeakValueDictionary", "defaultdict")
    found = []
    for path in pathlib.Path(tfxai.__file__).parent.rglob("*.py"):
        if path.name == "cache.py" and path.parent.name == "tfxai":
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            value = getattr(node, "value", None)
            target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
            called = value.func if isinstance(value, ast.Call) else None
            name = getattr(called, "attr", getattr(called, "id", None))
            empty_store = name in stores and not value.args and not value.keywords
            empty = (isinstance(value, ast.Dict) and value.keys == []) or empty_store
            if empty and isinstance(target, ast.Name) and _filled_at_run_time(tree, target.id):
                found.append(f"{path.name}:{node.lineno}")
        if _functools_cache(path.read_text()):
            found.append(f"{path.name}: functools cache")
    assert not found, found
