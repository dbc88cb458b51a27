"""Under a tf.distribute strategy each batch is split across replicas; same maps."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tfxai.datasets import make_shapes
from tfxai.models import zoo
from tfxai.scale import replicas


def test_bounds_split_a_batch_in_order():
    assert replicas.bounds(4, 2) == [(0, 2), (2, 4)]
    assert replicas.bounds(5, 2) == [(0, 2), (2, 5)]
    assert replicas.bounds(1, 3) == [(0, 0), (0, 1), (1, 1)]  # a replica may get nothing
    assert replicas.bounds(7, 1) == [(0, 7)]


def test_one_device_mirrored_strategy_gives_the_same_maps(tmp_path):
    model = zoo.load("shapes-classifier")
    images = make_shapes(12, seed=2).images
    plain = tfxai.explain_dataset(
        model,
        images,
        "grad_cam",
        tmp_path / "plain",
        shard_size=8,
        batch_size=4,
        dtype="float32",
        progress=False,
    )
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    mirrored = tfxai.explain_dataset(
        model,
        images,
        "grad_cam",
        tmp_path / "mirrored",
        shard_size=8,
        batch_size=4,
        dtype="float32",
        progress=False,
        strategy=strategy,
    )
    np.testing.assert_array_equal(mirrored[:], plain[:])


TWO_CPUS = textwrap.dedent(
    """
    import sys
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import tfxai
    from tfxai.datasets import make_shapes
    from tfxai.models import zoo
    from tfxai.scale import replicas

    model = zoo.load("shapes-classifier")
    images = make_shapes(14, seed=3).images
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    seen = []
    run_split = replicas.run_split
    def spy(strategy, explain, count, shape):
        def traced(start, stop):
            seen.append((start, stop))
            return explain(start, stop)
        return run_split(strategy, traced, count, shape)
    replicas.run_split = spy
    kwargs = dict(shard_size=8, batch_size=4, dtype="float32", progress=False)
    two = tfxai.explain_dataset(model, images, "grad_cam", sys.argv[1] + "/two",
                                strategy=strategy, **kwargs)
    one = tfxai.explain_dataset(model, images, "grad_cam", sys.argv[1] + "/one", **kwargs)
    print("parts", sorted(seen))
    print("maxdiff", float(np.abs(two[:] - one[:]).max()))
    smooth = dict(kwargs, samples=3, target=1)
    two = tfxai.explain_dataset(model, images, "smooth_grad", sys.argv[1] + "/s2",
                                strategy=strategy, **smooth)
    one = tfxai.explain_dataset(model, images, "smooth_grad", sys.argv[1] + "/s1", **smooth)
    print("smoothdiff", float(np.abs(two[:] - one[:]).max()))
    """
)


@pytest.mark.slow
def test_two_logical_cpus_split_each_batch_and_agree(tmp_path):
    script = tmp_path / "two.py"
    script.write_text(TWO_CPUS)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.getcwd())
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    # 14 images in batches of 4: 4, 4, 4, 2 -> each batch halved across the two replicas
    assert eval(lines["parts"]) == sorted([(0, 2), (2, 4)] * 3 + [(0, 1), (1, 2)])
    assert float(lines["maxdiff"]) < 1e-5
    assert float(lines["smoothdiff"]) < 1e-5  # each image keeps its position's noise
