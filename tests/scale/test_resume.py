"""A run killed with SIGKILL mid-way resumes to the bytes of an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tfxai.scale import shards

# Reads 48 shapes images slowly (a sleep per image in the input pipeline) so the parent
# can kill it after a few of its 6 shards; the same script resumes and runs uninterrupted.
SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np, tensorflow as tf, tfxai
    from tfxai.datasets import make_shapes
    from tfxai.models import zoo

    def slow(image):
        def wait(x):
            time.sleep(0.03)
            return x
        return tf.ensure_shape(tf.py_function(wait, [image], tf.float32), image.shape)

    shapes = make_shapes(48, seed=4)
    dataset = tf.data.Dataset.from_tensor_slices(shapes.images).map(slow)
    tfxai.explain_dataset(
        zoo.load("shapes-classifier"), dataset, "grad_cam", sys.argv[1], shard_size=8,
        batch_size=4, dtype="float32", metrics=["average_drop"], progress=False)
    """
)


def _run(script, out, env):
    return subprocess.run(
        [sys.executable, str(script), str(out)], env=env, capture_output=True, text=True
    )


def _manifest(folder):
    try:
        with open(folder / "manifest.json", encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        return None


@pytest.mark.slow
def test_kill_9_then_resume_is_bit_identical(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.getcwd())
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert _run(script, whole, env).returncode == 0

    job = subprocess.Popen(
        [sys.executable, str(script), str(killed)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        manifest = _manifest(killed)
        if manifest and len(manifest["shards"]) >= 2:
            break
        time.sleep(0.01)
    job.send_signal(signal.SIGKILL)
    job.wait()
    interrupted = _manifest(killed)
    assert job.returncode == -signal.SIGKILL
    assert not interrupted["complete"] and 2 <= len(interrupted["shards"]) < 6
    kept = {e["file"]: os.stat(killed / e["file"]).st_mtime_ns for e in interrupted["shards"]}

    resumed = _run(script, killed, env)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    expected, got = _manifest(whole), _manifest(killed)
    assert got["complete"] and got["count"] == 48
    assert sorted(got["shards"], key=lambda e: e["number"]) == expected["shards"]
    for number in range(6):
        name = shards.shard_name(number)
        assert (killed / name).read_bytes() == (whole / name).read_bytes()
    for name, stamp in kept.items():  # shards done before the kill were not redone
        assert os.stat(killed / name).st_mtime_ns == stamp
