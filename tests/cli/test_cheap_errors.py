"""What needs no model is answered before TensorFlow is imported: one line, status 2.

Each case runs `tfxai` in a fresh subprocess through the real package (whose `__init__`
loads the flat API lazily), so the run shows that nothing imports TensorFlow before the
command answers. The seconds each run took are printed (`-s`), not asserted.
"""

import os
import shutil
import stat
import subprocess

import pytest

from tests.cli.helpers import one_error_line, run_bare


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from PIL import Image

    tmp = tmp_path_factory.mktemp("cheap")
    Image.new("RGB", (40, 30), (200, 10, 10)).save(tmp / "red.png")
    (tmp / "notes.txt").write_text("not an image\n")
    (tmp / "file").write_text("a regular file")
    (tmp / "folder").mkdir()
    (tmp / "model.keras").write_text("")  # exists: the cheap check lets it through
    return tmp


E = ["explain", "shapes-classifier"]
CASES = {
    "missing image": (E + ["{t}/missing.png"], r"IMAGE: no such file '.*missing.png'"),
    "text file as image": (
        E + ["{t}/notes.txt"],
        r"IMAGE: '.*notes.txt' is not an image Pillow can read",
    ),
    "folder as image": (E + ["{t}/folder"], r"IMAGE: '.*folder' is a folder"),
    "unknown method": (
        E + ["{t}/red.png", "--method", "gradcam"],
        r"--method: unknown method 'gradcam'; did you mean 'grad_cam'\? \(tfxai methods lists",
    ),
    "layer for a pixel method": (
        E + ["{t}/red.png", "--method", "saliency", "--layer", "block4_out"],
        r"--layer: 'saliency' explains the input pixels and takes no layer",
    ),
    "out is a file": (
        E + ["{t}/red.png", "--out", "{t}/file"],
        r"--out: cannot write to '.*file' \(File exists\)",
    ),
    "out under a file": (
        E + ["{t}/red.png", "--out", "{t}/file/sub"],
        r"--out: cannot write to '.*sub' \(Not a directory\)",
    ),
    "target not a class": (E + ["{t}/red.png", "--target", "cat"], r"--target: expected"),
    "target count": (
        E + ["{t}/red.png", "--target", "1,2"],
        r"--target: got 2 class ids for 1 image\(s\)",
    ),
    "preprocess unknown": (
        E + ["{t}/red.png", "--preprocess", "caffee"],
        r"argument --preprocess: invalid choice: 'caffee'",
    ),
    "top zero": (E + ["{t}/red.png", "--top", "0"], r"--top: expected a positive integer"),
    "model name": (
        ["explain", "shapes-classifer", "{t}/red.png"],
        r"model: expected one of .*got 'shapes-classifer'\. Did you mean 'shapes-classifier'\?",
    ),
    "model file missing": (
        ["explain", "{t}/missing.keras", "{t}/red.png"],
        r"model: no such file '.*missing.keras'",
    ),
    "weights for a zoo model": (
        E + ["{t}/red.png", "--weights", "imagenet"],
        r"--weights: only for the resnet50 model",
    ),
    "no image": (["explain", "shapes-classifier"], r"the following arguments are required: IMAGE"),
    "layers of a missing model": (
        ["layers", "{t}/missing.keras"],
        r"model: no such file '.*missing.keras'",
    ),
    "unknown command": (["explian"], r"argument COMMAND: invalid choice: 'explian'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_no_model_error_is_one_line_before_tensorflow(case, files):
    import re

    argv, pattern = CASES[case]
    result, report = run_bare(*[a.format(t=files) for a in argv])
    line = one_error_line(result.stderr)
    command = argv[0] if argv[0] in ("explain", "layers") else None
    prefix = f"tfxai {command}: error: " if command else "tfxai: error: "
    assert line.startswith(prefix), line
    assert re.search(pattern, line), line
    assert report == {**report, "status": 2, "tensorflow": False}, report
    print(f"{case}: {report['seconds']:.3f} s without TensorFlow")


def _unwritable(folder):
    """Makes `folder` unwritable, even for root (chattr +i); returns an undo, or None."""
    os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR)
    if not os.access(folder, os.W_OK):
        return lambda: os.chmod(folder, stat.S_IRWXU)
    if shutil.which("chattr") is None:
        return None
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        return None
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_unwritable_out_folder(files, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    undo = _unwritable(locked)
    if undo is None:
        pytest.skip("cannot make a folder unwritable here")
    try:
        result, report = run_bare(*E, files / "red.png", "--out", locked / "maps")
    finally:
        undo()
    line = one_error_line(result.stderr)
    assert line.startswith("tfxai explain: error: --out: cannot write to "), line
    assert "(Operation not permitted)" in line or "(Permission denied)" in line, line
    assert report["status"] == 2 and not report["tensorflow"]
    assert not (locked / "maps").exists()


def test_help_version_and_no_command_need_no_tensorflow():
    for command in ("explain", "methods", "layers", "demo", "gallery", "version"):
        result, report = run_bare(command, "--help")
        assert report["status"] == 0 and not report["tensorflow"], command
        assert "examples:" in result.stdout or "example:" in result.stdout, command
        assert f"tfxai {command}" in result.stdout
    result, report = run_bare()
    assert report["status"] == 2 and "COMMAND" in result.stderr and "explain" in result.stderr
    for argv in (["--version"], ["version"]):
        result, report = run_bare(*argv)
        assert report["status"] == 0 and result.stdout.splitlines()[0] == "0.1.0"
        assert not report["tensorflow"]
