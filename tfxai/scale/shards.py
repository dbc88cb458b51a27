"""The shard files of an explained dataset: written atomically, trusted only by checksum.

A shard holds the results of `shard_size` consecutive images (the last one fewer) in one
uncompressed `.npz` file `shard-00003.npz`: `maps` `(n, H, W)` (float16 by default),
`index` `(n,)` int64 (each image's position in the dataset), `target` `(n,)` int64 (the
class explained, -1 when the target is not a class id) and one `metric.NAME` `(n,)`
float32 array per metric.

Why `.npz` rather than TFRecord: a shard is read back whole or by position with numpy
alone (no TensorFlow, no parsing of serialized examples), and the file's SHA-256 is the
one check of completeness that the manifest records (the file's bytes depend on the
results alone, so equal runs give equal checksums). A file is written to a temporary
name in the same folder, flushed to disk and renamed (an atomic replace on POSIX), so a
killed run leaves either no shard or a whole one; a shard whose checksum is not in the
manifest is never taken as complete (`tfxai.scale.manifest`).

The module uses numpy and the standard library only: `explain_dataset`, the Beam transform
and `load_explanations` write and read shards through it.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

#: The file name of shard `k`.
PATTERN = "shard-{:05d}.npz"
#: The prefix of per-image metric arrays in a shard.
METRIC = "metric."


def shard_name(number: int) -> str:
    """The file name of shard `number` (`shard-00003.npz`)."""
    return PATTERN.format(number)


def sha256_of(path: str) -> str:
    """The hex SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: str, data: bytes) -> None:
    """Writes `data` to `path` through a temporary file in the same folder, flushed to disk
    and renamed: a reader (or a resumed run) sees the old file, the new one, or none."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """An uncompressed `.npz` of `arrays` whose bytes depend on the arrays alone: members in
    the given order with a fixed timestamp (`np.savez` stamps the current time), so the
    same results give the same file and the same checksum, run after run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(value), allow_pickle=False)
    return buffer.getvalue()


def write_shard(folder: str, number: int, start: int, arrays: Mapping[str, np.ndarray]) -> dict:
    """Writes shard `number` atomically and returns its manifest entry.

    Args:
        folder: String, the output folder.
        number: Integer, the shard's number.
        start: Integer, the dataset position of the shard's first image.
        arrays: Dict of equally long arrays: `maps`, `index`, `target`, `metric.NAME`...

    Returns:
        Dict `{"file", "number", "start", "count", "sha256"}`.
    """
    data = npz_bytes(arrays)
    name = shard_name(number)
    atomic_write(os.path.join(folder, name), data)
    return {
        "file": name,
        "number": int(number),
        "start": int(start),
        "count": int(len(arrays["maps"])),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def is_intact(folder: str, entry: Mapping[str, Any]) -> bool:
    """Whether the file of a manifest `entry` exists and has the recorded checksum."""
    path = os.path.join(folder, entry["file"])
    return os.path.isfile(path) and sha256_of(path) == entry["sha256"]


def read_shard(folder: str, entry: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of a shard, read whole (`np.load` of the `.npz`).

    Raises:
        ValueError: If the file is missing or its checksum differs from the manifest's.
    """
    path = os.path.join(folder, entry["file"])
    data = None
    if os.path.isfile(path):
        with open(path, "rb") as file:
            data = file.read()  # read once: checksummed and parsed from the same bytes
    if data is None or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ValueError(
            f"out_dir: shard {path} is missing or does not match its checksum in "
            f"manifest.json; run explain_dataset again with the same arguments to redo it."
        )
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}


def remove_stale(folder: str, keep: set[str]) -> None:
    """Deletes shard and temporary files in `folder` that are not in `keep`."""
    for name in os.listdir(folder):
        stale = name.startswith(".tmp-") or (name.startswith("shard-") and name.endswith(".npz"))
        if stale and name not in keep:
            os.remove(os.path.join(folder, name))
