"""The one cache of the package: compiled state kept per model between calls.

Three kinds of values are kept, all built around a user's model: the explainers behind the
function forms (`tfxai.grad_cam`, ...), the metrics' probability scorers and the compiled
feature-visualization steps. They share one store and one policy:

- Bounded: each kind keeps its last `SIZES[kind]` entries (least recently used goes first).
- Weak on models: an entry remembers its model by a weak reference and is used only while
  that reference still points at the same model, so a new model that reuses a dead one's
  `id` never gets the dead one's graphs. (The compiled graphs themselves reference the
  model's variables, as Keras requires, so a cached model lives until its entry is evicted
  or the cache is cleared.)
- `tfxai.clear_cache()` empties everything; `clear(kind)` one kind.
"""

from __future__ import annotations

import collections
import weakref
from collections.abc import Callable, Hashable
from typing import Any

EXPLAINER = "explainer"
SCORER = "scorer"
RENDER_STEP = "render step"
SIZES = {EXPLAINER: 8, SCORER: 8, RENDER_STEP: 4}

# (kind, id(model), key) -> (weak reference to the model, value), oldest first.
_store: collections.OrderedDict[tuple, tuple[weakref.ref, Any]] = collections.OrderedDict()


def fetch(kind: str, model: Any, key: Hashable, build: Callable[[], Any]) -> tuple[Any, bool]:
    """The value cached for `(kind, model, key)`, or `build()`'s, now cached.

    Args:
        kind: One of `SIZES`' keys.
        model: The Keras model the value belongs to (held weakly by the key).
        key: Hashable, what else the value depends on.
        build: Callable returning the value on a miss.

    Returns:
        `(value, hit)`: `hit` is True when the value came from the cache.
    """
    full_key = (kind, id(model), key)
    entry = _store.get(full_key)
    if entry is not None and entry[0]() is model:
        _store.move_to_end(full_key)
        return entry[1], True
    value = build()
    _store[full_key] = (weakref.ref(model), value)
    _store.move_to_end(full_key)
    _evict(kind)
    return value, False


def _evict(kind: str) -> None:
    keys = [key for key in _store if key[0] == kind]
    for key in keys[: max(0, len(keys) - SIZES[kind])]:
        del _store[key]


def clear(kind: str | None = None) -> None:
    """Drops every entry (of `kind` only, when given) and the models they hold."""
    for key in [key for key in _store if kind is None or key[0] == kind]:
        del _store[key]


class View:
    """A read-only look at one kind's entries, oldest first (tests and benchmarks use it).

    Args:
        kind: One of `SIZES`' keys.
        with_owner: Boolean, default False. When True, `values()` yields
            `(weak reference to the model, value)` pairs instead of values.
    """

    def __init__(self, kind: str, *, with_owner: bool = False) -> None:
        self.kind = kind
        self.with_owner = with_owner

    def _entries(self) -> list[tuple[weakref.ref, Any]]:
        return [entry for key, entry in _store.items() if key[0] == self.kind]

    def __len__(self) -> int:
        return len(self._entries())

    def values(self) -> list[Any]:
        """The cached values (or `(owner, value)` pairs), oldest first."""
        entries = self._entries()
        return entries if self.with_owner else [value for _, value in entries]

    def clear(self) -> None:
        """Drops this kind's entries."""
        clear(self.kind)
