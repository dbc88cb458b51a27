"""Drawing the synthetic shapes: scenes sampled from a seed, rasterized with numpy.

One idea: drawing a scene from a seed; kept whole because its three layers (background,
shapes, clutter) share the seed streams, the chunked coordinate grid and one palette.

Each image gets a textured background (a smooth random gradient, low-frequency texture
and pixel noise), class shapes with random size, position, rotation and colour, and
distractor clutter (thin lines, small dots) drawn underneath the shapes. Everything is
vectorized over a coordinate grid (one inside-test per shape, on chunks of images), and a
seed gives bit-identical arrays. The public face is `tfxai.datasets.shapes`.
"""

from __future__ import annotations

import math

import numpy as np

from tfxai.arguments import check_bool

CLASSES = ("circle", "square", "triangle", "star", "cross")
TASKS = ("classification", "segmentation")

_BASE = 96.0  # sizes below are in pixels at 96 px and scale with `size`
_RADIUS = {"classification": (10.0, 24.0), "segmentation": (10.0, 20.0)}
_EXTENT = 1.2  # every class fits in a disc of radius 1.2 r around its centre
_SPACING = 0.8  # segmentation: centres at least 0.8 (r_i + r_j) apart if possible
_TILT = math.radians(15)  # shapes are upright, tilted by up to 15 degrees
_CONTRAST = 0.4  # minimum RGB distance of a shape to its background and its peers
_CANDIDATES = 24  # rejection-sampling candidates for positions and colours
_LINES, _DOTS = 5, 8  # at most this many clutter lines / dots per image
_CHUNK = 64  # images rendered together (keeps temporaries in cache)


def render(
    n: int,
    *,
    size: int = 96,
    seed: int | tuple[int, ...] = 0,
    task: str = "classification",
    max_shapes: int = 3,
    clutter: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`make_shapes` with a compact mask: `(images, labels, classmap)`.

    `classmap` is uint8 `(n, H, W)`: 0 for background, `1 + c` for class `c`; it is what
    `make_shapes` one-hot encodes (6x less memory, handy for training sets).

    Args:
        n, size, seed, task, max_shapes, clutter: As for
            `tfxai.datasets.shapes.make_shapes`.

    Returns:
        `(images, labels, classmap)`: float32 `(n, H, W, 3)`, int32 `(n,)`, uint8
        `(n, H, W)`.

    Raises:
        ValueError: If `n`, `size`, `task` or `max_shapes` is invalid.
    """
    n, size, max_shapes = _check(n, size, task, max_shapes)
    clutter = check_bool(clutter, "clutter")
    scale = size / _BASE
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    bg_rng, shape_rng, clutter_rng, noise_rng = streams

    background = _background_params(bg_rng, n, size)
    slots = 1 if task == "classification" else max_shapes
    shapes = _shape_params(shape_rng, n, size, scale, task, slots, background)
    lines, dots = _clutter_params(clutter_rng, n, size, scale, clutter)
    sigma = noise_rng.uniform(0.01, 0.04, n).astype(np.float32)

    images = np.empty((n, size, size, 3), np.float32)
    owner = np.empty((n, size, size), np.int8)
    for start in range(0, n, _CHUNK):
        part = slice(start, min(n, start + _CHUNK))
        m = part.stop - part.start
        image = _background(background, part, size)
        owner[part] = _shape_owner(shapes, part, size)
        # one palette per image: clutter colours, then shape colours; one gather draws all
        palette = shapes["colour"][part]
        index = owner[part].astype(np.int16)
        if clutter:
            palette = np.concatenate([lines["colour"][part], dots["colour"][part], palette], 1)
            index = np.where(
                index >= 0, index + _LINES + _DOTS, _clutter_owner(lines, dots, part, size)
            )
        colours = palette[np.arange(m)[:, None, None], np.maximum(index, 0)]
        image = np.where((index >= 0)[..., None], colours, image)
        image += sigma[part, None, None, None] * noise_rng.standard_normal(
            image.shape, dtype=np.float32
        )
        images[part] = np.clip(image, 0.0, 1.0)

    cls = shapes["cls"]
    owner_cls = cls[np.arange(n)[:, None, None], np.maximum(owner, 0)]
    classmap = np.where(owner >= 0, owner_cls + 1, 0)
    visible = (owner[..., None] == np.arange(slots, dtype=np.int8)).sum(axis=(1, 2))
    labels = np.take_along_axis(cls, visible.argmax(axis=1)[:, None], axis=1)[:, 0]
    return images, labels.astype(np.int32), classmap.astype(np.uint8)


def _check(n, size, task, max_shapes):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n: expected an integer >= 0, got {n!r}.")
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 32:
        raise ValueError(f"size: expected an integer >= 32 (pixels), got {size!r}.")
    if task not in TASKS:
        raise ValueError(f"task: expected one of {TASKS}, got {task!r}.")
    if (
        not isinstance(max_shapes, (int, np.integer))
        or isinstance(max_shapes, bool)
        or not 1 <= max_shapes <= 100
    ):
        raise ValueError(f"max_shapes: expected an integer in [1, 100], got {max_shapes!r}.")
    return int(n), int(size), int(max_shapes)


def _grid(size):
    """Pixel-centre coordinates as broadcastable `x (1, 1, W)` and `y (1, H, 1)`."""
    c = np.arange(size, dtype=np.float32) + 0.5
    return c[None, None, :], c[None, :, None]


def _background_params(rng, n, size):
    low = rng.uniform(0.0, 1.0, (n, 3))
    high = np.clip(low + rng.uniform(-0.3, 0.3, (n, 3)), 0.0, 1.0)
    angle = rng.uniform(0.0, 2 * math.pi, n)
    cells = 5
    texture = rng.standard_normal((n, cells, cells, 3)) * rng.uniform(0.02, 0.07, (n, 1, 1, 1))
    # bilinear upsampling of the coarse texture: one (size, cells) matrix per axis
    pos = np.clip((np.arange(size) + 0.5) / size * (cells - 1), 0, cells - 1)
    lo = np.minimum(pos.astype(int), cells - 2)
    up = np.zeros((size, cells))
    up[np.arange(size), lo] = 1 - (pos - lo)
    up[np.arange(size), lo + 1] = pos - lo
    f32 = np.float32
    return {
        "low": low.astype(f32),
        "high": high.astype(f32),
        "cos": np.cos(angle).astype(f32),
        "sin": np.sin(angle).astype(f32),
        "texture": texture.astype(f32),
        "up": up.astype(f32),
    }


def _background(p, part, size):
    """Background `(m, H, W, 3)`: a linear colour gradient plus smooth texture."""
    x, y = _grid(size)
    t = (
        (x - size / 2) * p["cos"][part, None, None] + (y - size / 2) * p["sin"][part, None, None]
    ) / size + 0.5
    low, high = p["low"][part, None, None, :], p["high"][part, None, None, :]
    image = low + (high - low) * t[..., None]
    texture = np.einsum("hi,nijc,wj->nhwc", p["up"], p["texture"][part], p["up"], optimize=True)
    return image + texture


def _background_at(p, xy, size):
    """Background colour (without pixel noise) at points `xy (n, k, 2)`: `(n, k, 3)`."""
    x, y = xy[..., 0], xy[..., 1]
    t = ((x - size / 2) * p["cos"][:, None] + (y - size / 2) * p["sin"][:, None]) / size + 0.5
    colour = p["low"][:, None] + (p["high"] - p["low"])[:, None] * t[..., None]
    rows = np.clip(y.astype(int), 0, size - 1)
    cols = np.clip(x.astype(int), 0, size - 1)
    up = p["up"]
    texture = np.einsum("nki,nijc,nkj->nkc", up[rows], p["texture"], up[cols])
    return colour + texture


def _first_valid(ok, score):
    """Index per row of the first True in `ok (n, k)`, else of the best `score`."""
    return np.where(ok.any(axis=1), ok.argmax(axis=1), score.argmax(axis=1))


def _shape_params(rng, n, size, scale, task, slots, background):
    """Class, centre, radius, rotation and colour of every shape slot (`cls`: -1 if empty)."""
    k = _CANDIDATES
    if task == "classification":
        cls = rng.permutation(np.arange(n) % len(CLASSES))[:, None]
        count = np.ones(n, int)
    else:
        cls = rng.integers(0, len(CLASSES), (n, slots))
        count = rng.integers(1, slots + 1, n)
    active = np.arange(slots) < count[:, None]
    radius = rng.uniform(*_RADIUS[task], (n, slots)) * scale
    angle = rng.uniform(-_TILT, _TILT, (n, slots))
    margin = _EXTENT * radius
    candidates = (
        margin[..., None, None]
        + rng.uniform(0.0, 1.0, (n, slots, k, 2)) * (size - 2 * margin)[..., None, None]
    )
    colour_candidates = rng.uniform(0.0, 1.0, (n, slots, k, 3))

    centre = np.zeros((n, slots, 2))
    colour = np.zeros((n, slots, 3))
    rows = np.arange(n)
    for s in range(slots):
        cand = candidates[:, s]  # (n, k, 2)
        gap = np.full((n, k), np.inf)
        for j in range(s):  # distance to earlier
            need = _SPACING * (radius[:, s] + radius[:, j])[:, None]
            d = np.linalg.norm(cand - centre[:, j, None], axis=-1) - need
            gap = np.minimum(gap, np.where(active[:, j, None], d, np.inf))
        centre[:, s] = cand[rows, _first_valid(gap >= 0, gap)]

        under = _background_at(background, centre[:, s, None], size)  # (n, 1, 3)
        col = colour_candidates[:, s]  # (n, k, 3)
        dist = np.linalg.norm(col - under, axis=-1)
        for j in range(s):
            d = np.linalg.norm(col - colour[:, j, None], axis=-1)
            dist = np.minimum(dist, np.where(active[:, j, None], d, np.inf))
        colour[:, s] = col[rows, _first_valid(dist >= _CONTRAST, dist)]

    f32 = np.float32
    return {
        "cls": np.where(active, cls, -1),
        "centre": centre.astype(f32),
        "radius": radius.astype(f32),
        "cos": np.cos(angle).astype(f32),
        "sin": np.sin(angle).astype(f32),
        "colour": colour.astype(f32),
    }


def _inside(kind, u, v, r):
    """Boolean inside-test of class `kind` in shape coordinates `u, v` at radius `r`."""
    name = CLASSES[kind]
    if name == "circle":
        return u * u + v * v <= (0.95 * r) ** 2
    au, av = np.abs(u), np.abs(v)
    if name == "square":
        return np.maximum(au, av) <= 0.8 * r
    if name == "cross":
        arm, half_width = r, 0.32 * r
        return ((au <= arm) & (av <= half_width)) | ((av <= arm) & (au <= half_width))
    if name == "triangle":  # equilateral, circumradius 1.15 r
        apothem = 0.575 * r
        inside = v <= apothem
        for phi in (math.pi / 2 + 2 * math.pi / 3, math.pi / 2 + 4 * math.pi / 3):
            inside &= u * math.cos(phi) + v * math.sin(phi) <= apothem
        return inside
    if name == "star":  # five points, outer 1.15 r, inner 0.5 outer
        outer = 1.15 * r
        inner = 0.5 * outer
        sector = 2 * math.pi / 5
        phi = np.mod(np.arctan2(v, u) + math.pi / 2, sector)  # a tip points up
        phi = np.minimum(phi, sector - phi)  # fold: 0 at a tip, sector / 2 at a notch
        rho = np.sqrt(u * u + v * v)
        px, py = rho * np.cos(phi), rho * np.sin(phi)
        ex = inner * math.cos(sector / 2) - outer
        ey = inner * math.sin(sector / 2)
        return ex * py - ey * (px - outer) >= 0
    raise ValueError(f"kind: expected an index into {CLASSES}, got {kind!r}.")


def _shape_owner(shapes, part, size):
    """Index of the visible shape slot per pixel `(m, H, W)` int8, -1 for background."""
    x, y = _grid(size)
    cls = shapes["cls"][part]
    m, slots = cls.shape
    owner = np.full((m, size, size), -1, np.int8)
    for s in range(slots):
        cx = shapes["centre"][part, s, 0, None, None]
        cy = shapes["centre"][part, s, 1, None, None]
        c = shapes["cos"][part, s, None, None]
        n = shapes["sin"][part, s, None, None]
        r = shapes["radius"][part, s, None, None]
        for kind in range(len(CLASSES)):
            sel = np.flatnonzero(cls[:, s] == kind)
            if not len(sel):
                continue
            dx, dy = x - cx[sel], y - cy[sel]
            u = dx * c[sel] + dy * n[sel]
            v = dy * c[sel] - dx * n[sel]
            inside = _inside(kind, u, v, r[sel])
            owner[sel] = np.where(inside, np.int8(s), owner[sel])
    return owner


def _clutter_params(rng, n, size, scale, enabled):
    f32 = np.float32
    return (
        {
            "active": np.arange(_LINES) < rng.integers(1, _LINES + 1, (n, 1)),
            "a": rng.uniform(0, size, (n, _LINES, 2)).astype(f32),
            "b": rng.uniform(0, size, (n, _LINES, 2)).astype(f32),
            "half_width": (rng.uniform(0.6, 1.1, (n, _LINES)) * scale).astype(f32),
            "colour": rng.uniform(0, 1, (n, _LINES, 3)).astype(f32),
        },
        {
            "active": np.arange(_DOTS) < rng.integers(2, _DOTS + 1, (n, 1)),
            "centre": rng.uniform(0, size, (n, _DOTS, 2)).astype(f32),
            "radius": (rng.uniform(1.0, 3.0, (n, _DOTS)) * scale).astype(f32),
            "colour": rng.uniform(0, 1, (n, _DOTS, 3)).astype(f32),
        },
    )


def _clutter_owner(lines, dots, part, size):
    """Index of the clutter item per pixel `(m, H, W)` int16 (lines, then dots), -1 if none."""
    x, y = _grid(size)
    m = part.stop - part.start
    owner = np.full((m, size, size), -1, np.int16)
    for i in range(_LINES):
        sel = np.flatnonzero(lines["active"][part, i])
        if not len(sel):
            continue
        idx = part.start + sel
        ax, ay = (lines["a"][idx, i, k, None, None] for k in (0, 1))
        ex, ey = (
            lines["b"][idx, i, k, None, None] - lines["a"][idx, i, k, None, None] for k in (0, 1)
        )
        dx, dy = x - ax, y - ay
        t = np.clip((dx * ex + dy * ey) / np.maximum(ex * ex + ey * ey, 1e-6), 0.0, 1.0)
        dist2 = (dx - t * ex) ** 2 + (dy - t * ey) ** 2
        hit = dist2 <= lines["half_width"][idx, i, None, None] ** 2
        owner[sel] = np.where(hit, np.int16(i), owner[sel])
    for i in range(_DOTS):
        sel = np.flatnonzero(dots["active"][part, i])
        if not len(sel):
            continue
        idx = part.start + sel
        dx = x - dots["centre"][idx, i, 0, None, None]
        dy = y - dots["centre"][idx, i, 1, None, None]
        hit = dx * dx + dy * dy <= dots["radius"][idx, i, None, None] ** 2
        owner[sel] = np.where(hit, np.int16(_LINES + i), owner[sel])
    return owner
