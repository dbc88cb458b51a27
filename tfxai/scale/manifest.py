"""`manifest.json`: what an explained dataset holds, and whether a run may resume into it.

The manifest records the run's settings (method, options, target, layer, shard and batch
size, dtype, metrics, the source), the model's fingerprint, the tfxai / TensorFlow / Keras
versions and the list of complete shards with their counts and SHA-256 checksums. It is
rewritten atomically after every shard, so it always describes whole shards only.

A run resumes into a folder only when its settings, model and versions equal the
manifest's: anything else is refused, naming what differs, unless `overwrite=True`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from tfxai.scale import shards

NAME = "manifest.json"
FORMAT = "tfxai-explanations"
VERSION = 1


def path_in(folder: str) -> str:
    """The manifest's path in `folder`."""
    return os.path.join(folder, NAME)


def read(folder: str) -> dict | None:
    """The manifest in `folder`, or `None` when there is none.

    Raises:
        ValueError: If the file is not a tfxai manifest.
    """
    path = path_in(folder)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as file:
            manifest = json.load(file)
    except (OSError, ValueError) as error:
        raise ValueError(f"out_dir: {path} is not a readable manifest ({error}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(
            f"out_dir: {path} is not a tfxai explanations manifest (no 'format': {FORMAT!r})."
        )
    return manifest


def write(folder: str, manifest: Mapping[str, Any]) -> None:
    """Writes `manifest` to `folder` atomically."""
    text = json.dumps(manifest, indent=1, sort_keys=True)
    shards.atomic_write(path_in(folder), text.encode("utf-8"))


def new(settings: Mapping[str, Any], model: Mapping[str, Any], versions: Mapping[str, str]) -> dict:
    """An empty manifest for a run: no shard complete yet."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "settings": dict(settings),
        "model": dict(model),
        "versions": dict(versions),
        "shards": [],
        "complete": False,
        "count": None,
    }


def differences(old: Mapping[str, Any], new_manifest: Mapping[str, Any]) -> list[str]:
    """What differs between two manifests' settings, model and versions, one line each."""
    lines = []
    for part in ("settings", "model", "versions"):
        before, after = old.get(part, {}), new_manifest.get(part, {})
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                lines.append(
                    f"{part}.{key}: {_short(before.get(key))} before, {_short(after.get(key))} now"
                )
    return lines


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def refuse_resume(folder: str, lines: list[str]) -> ValueError:
    """The error for a resume into a folder explained with other settings."""
    listed = "; ".join(lines[:6]) + ("; ..." if len(lines) > 6 else "")
    return ValueError(
        f"out_dir: {folder} holds explanations made with other settings ({listed}); "
        f"use another out_dir, or overwrite=True to discard them."
    )
