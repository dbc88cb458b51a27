"""The checks that need no model, made before TensorFlow is imported.

Each raises `ValueError` whose message starts with the option it is about (`IMAGE:`,
`--method:`, `--out:`, `--target:`, `model:`), says what was given and what is expected;
`tfxai.cli` prints it as one line and exits with status 2.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence

from PIL import Image, UnidentifiedImageError

from tfxai.commands import catalog

#: `--target` as parsed: `None` (the predicted class), one class, or one per image.
ParsedTarget = int | list[int] | None


def check_method(name: str) -> str:
    """A method name of the registry, or a `--method` error suggesting the closest one.

    Raises:
        ValueError: On a name that is not in `catalog.METHOD_LAYERS`.
    """
    if name in catalog.METHOD_LAYERS:
        return name
    close = catalog.closest(name, catalog.METHOD_LAYERS)
    hint = f"; did you mean {close!r}?" if close else ";"
    raise ValueError(f"--method: unknown method {name!r}{hint} (tfxai methods lists them)")


def check_layer_option(method: str, layer: str | None) -> None:
    """Refuses `--layer` for a method that explains the input pixels.

    Raises:
        ValueError: Naming `--layer`, when `method` takes no layer.
    """
    if layer is not None and not catalog.METHOD_LAYERS[method]:
        takes = ", ".join(name for name, has in catalog.METHOD_LAYERS.items() if has)
        raise ValueError(
            f"--layer: {method!r} explains the input pixels and takes no layer, got "
            f"{layer!r}; drop --layer, or use a method that takes one ({takes})."
        )


def check_model_name(model: str, weights: str | None) -> None:
    """MODEL is a bundled name, `resnet50` or an existing `.keras` file; `--weights` fits.

    Raises:
        ValueError: Naming `model` or `--weights`.
    """
    names = (*catalog.ZOO_MODELS, "resnet50")
    if weights is not None and model != "resnet50":
        raise ValueError(f"--weights: only for the resnet50 model, got model {model!r}.")
    if model in names:
        return
    if not model.endswith(".keras"):
        close = catalog.closest(model, names)
        hint = f" Did you mean {close!r}?" if close else ""
        raise ValueError(
            f"model: expected one of {', '.join(names)} or a .keras file, got {model!r}.{hint}"
        )
    if not os.path.exists(model):
        raise ValueError(f"model: no such file {model!r}; expected a .keras file.")
    if not os.path.isfile(model):
        raise ValueError(f"model: {model!r} is a folder; expected a .keras file.")


def read_images(paths: Sequence[str]) -> list[Image.Image]:
    """Decodes every IMAGE with Pillow (any size or mode), before any model is loaded.

    Args:
        paths: The image files.

    Returns:
        The decoded images, in order.

    Raises:
        ValueError: Naming `IMAGE` and the file, for a missing file, a folder or a file
            that is not an image Pillow can read.
    """
    images = []
    for path in paths:
        if not os.path.exists(path):
            raise ValueError(f"IMAGE: no such file {path!r}; expected an image file.")
        if os.path.isdir(path):
            raise ValueError(f"IMAGE: {path!r} is a folder; expected an image file.")
        try:
            with Image.open(path) as image:
                image.load()
                images.append(image.copy())
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            cause = " ".join(str(error).split()) or type(error).__name__
            raise ValueError(
                f"IMAGE: {path!r} is not an image Pillow can read ({cause}); expected "
                f"a PNG, JPEG, BMP, GIF, TIFF or WebP file."
            ) from None
    return images


def check_out_dir(path: str, flag: str = "--out", default: str = "./tfxai-explain") -> str:
    """Checks that `--out` (or `flag`) is a folder that exists or can be made and written to.

    Nothing is left behind: a probe folder is made in the nearest existing folder on the
    way and removed.

    Returns:
        String, the path.

    Raises:
        ValueError: Naming `--out`, with the reason (a file is in the way, permission).
    """
    target = os.path.abspath(path)
    probe_in = target
    while not os.path.exists(probe_in):
        probe_in = os.path.dirname(probe_in)
    reason = None
    if not os.path.isdir(probe_in):
        reason = "File exists" if probe_in == target else "Not a directory"
    else:
        try:
            shutil.rmtree(tempfile.mkdtemp(prefix=".tfxai-probe-", dir=probe_in))
        except OSError as error:
            reason = error.strerror or type(error).__name__
    if reason is not None:
        raise ValueError(
            f"{flag}: cannot write to {path!r} ({reason}); expected a folder you can write "
            f"to{f' (default {default})' if default else ''}."
        )
    return path


def parse_target(text: str, count: int) -> ParsedTarget:
    """`--target`: `predicted`, one class id, or a comma list with one id per image.

    Args:
        text: String, what the user typed.
        count: Integer, the number of images.

    Returns:
        `None` (predicted), an integer, or a list of `count` integers.

    Raises:
        ValueError: Naming `--target`, on anything else.
    """
    if text.strip() == "predicted":
        return None
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() for part in parts):
        raise ValueError(
            f"--target: expected 'predicted', a class id (an integer >= 0) or a comma list "
            f"of ids, one per image, got {text!r}."
        )
    ids = [int(part) for part in parts]
    if len(ids) == 1:
        return ids[0]
    if len(ids) != count:
        raise ValueError(
            f"--target: got {len(ids)} class ids for {count} image(s); expected one id, "
            f"or one per image."
        )
    return ids
