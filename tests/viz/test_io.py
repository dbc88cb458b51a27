import os

import numpy as np
import pytest
from PIL import Image

from tfxai.viz import overlay, save_png


def _read(path):
    with Image.open(path) as im:
        return im.mode, np.asarray(im)


def test_rgb_round_trip(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    path = str(tmp_path / "rgb.png")
    assert save_png(path, pixels) == path
    mode, back = _read(path)
    assert mode == "RGB"
    np.testing.assert_array_equal(back, pixels)


@pytest.mark.parametrize("shape", [(9, 7), (9, 7, 1)])
def test_grayscale_round_trip(tmp_path, shape):
    pixels = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    path = save_png(tmp_path / "gray.png", pixels)
    mode, back = _read(path)
    assert mode == "L"
    np.testing.assert_array_equal(back, pixels.reshape(9, 7))


def test_float_unit_range_is_scaled(tmp_path):
    array = np.array([[[0.0, 0.2, 1.0], [0.5, 1.0, 0.0]]])
    _, back = _read(save_png(tmp_path / "f.png", array))
    np.testing.assert_array_equal(back, [[[0, 51, 255], [128, 255, 0]]])


def test_integer_dtype_in_range(tmp_path):
    _, back = _read(save_png(tmp_path / "i.png", np.array([[0, 9, 255]], dtype=np.int32)))
    np.testing.assert_array_equal(back, [[0, 9, 255]])


def test_overlay_output_round_trips(tmp_path):
    rng = np.random.default_rng(2)
    out = overlay(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), rng.random((4, 4)))
    _, back = _read(save_png(tmp_path / "cam.png", out))
    np.testing.assert_array_equal(back, out)


def test_creates_parent_dirs_and_accepts_pathlike(tmp_path):
    path = tmp_path / "a" / "b" / "c.png"
    returned = save_png(path, np.zeros((2, 2, 3), dtype=np.uint8))
    assert returned == str(path) and path.is_file()
    assert os.listdir(path.parent) == ["c.png"]  # no temp file left behind


def test_overwrites_existing_file(tmp_path):
    path = tmp_path / "x.png"
    save_png(path, np.zeros((2, 2), dtype=np.uint8))
    save_png(path, np.full((2, 2), 200, dtype=np.uint8))
    np.testing.assert_array_equal(_read(path)[1], np.full((2, 2), 200))
    assert os.listdir(tmp_path) == ["x.png"]


def test_file_permissions_follow_umask(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = save_png(tmp_path / "p.png", np.zeros((2, 2), dtype=np.uint8))
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "keep.png"
    save_png(path, np.full((2, 2), 7, dtype=np.uint8))

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_png(path, np.zeros((2, 2), dtype=np.uint8))
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["keep.png"]
    np.testing.assert_array_equal(_read(path)[1], np.full((2, 2), 7))


@pytest.mark.parametrize(
    "array, pattern",
    [
        (np.zeros(5), r"array: expected shape \(H, W\), \(H, W, 1\) or \(H, W, 3\), got \(5,\)"),
        (np.zeros((2, 2, 4)), r"array: expected shape"),
        (np.full((2, 2), 1.5), r"array: expected values in \[0, 1\]"),
        (np.full((2, 2), -0.5), r"array: expected values in \[0, 1\]"),
        (np.array([[0.5, np.nan]]), r"array: contains NaN"),
        (np.array([[0, 256]]), r"array: expected values in \[0, 255\]"),
        (np.array([["a", "b"]]), r"array: expected an integer or float"),
    ],
)
def test_bad_arrays_raise_and_write_nothing(tmp_path, array, pattern):
    with pytest.raises(ValueError, match=pattern):
        save_png(tmp_path / "out" / "bad.png", array)
    assert not (tmp_path / "out").exists()
