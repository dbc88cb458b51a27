"""The Beam transform writes what explain_dataset writes: same maps, shards, manifest.

Every pipeline runs on Beam's in-process Python runner (`FnApiRunner`), offline.
"""

import importlib
import json
import pathlib
import random
import sys

import numpy as np
import pytest
from PIL import Image

import tfxai
from tfxai.datasets import make_shapes
from tfxai.models import zoo

beam = pytest.importorskip("apache_beam")
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions  # noqa: E402

import tfxai.beam  # noqa: E402
from tfxai.scale import beam as beam_lib  # noqa: E402
from tfxai.scale import beam_steps  # noqa: E402

N = 40
SHARD, BATCH = 16, 8


@pytest.fixture(scope="module")
def model():
    return zoo.load("shapes-classifier")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """40 PNGs, every other one at 80 px (resized to the model's 96 px when read)."""
    folder = tmp_path_factory.mktemp("images")
    for i, image in enumerate(make_shapes(N, seed=5).images):
        picture = Image.fromarray(np.round(image * 255).astype(np.uint8))
        if i % 2:
            picture = picture.resize((80, 80), Image.BILINEAR)
        picture.save(folder / f"img{i:02d}.png")
    return folder


@pytest.fixture(scope="module")
def grad_cam_runs(model, folder, tmp_path_factory):
    """`(explain_dataset's result, explain_folder's result)` on the folder, with deletion."""
    out = tmp_path_factory.mktemp("runs")
    kwargs = {"metrics": ["deletion"], "shard_size": SHARD, "batch_size": BATCH}
    local = tfxai.explain_dataset(
        model, str(folder), "grad_cam", out / "local", progress=False, **kwargs
    )
    path = zoo.path("shapes-classifier")
    beamed = tfxai.beam.explain_folder(path, folder, out / "beam", "grad_cam", **kwargs)
    return local, beamed


def _run(elements, transform):
    with beam.Pipeline(runner=beam_lib.LOCAL_RUNNER, options=PipelineOptions(flags=[])) as p:
        _ = p | beam.Create(elements) | transform


def _recording_runs(monkeypatch):
    """Records `(first index, length)` of every run the Explain step explains."""
    runs = []
    rows = beam_steps.ExplainRuns.rows

    def recorded(self, records, position):
        runs.append((position, len(records)))
        return rows(self, records, position)

    monkeypatch.setattr(beam_steps.ExplainRuns, "rows", recorded)
    return runs


def test_a_folder_gives_explain_datasets_maps_and_shards_bit_for_bit(grad_cam_runs, folder):
    local, beamed = grad_cam_runs
    assert beamed.complete and len(beamed) == N
    assert beamed[:].dtype == np.float16
    np.testing.assert_array_equal(beamed[:], local[:])
    for key in ("index", "target", "file"):
        np.testing.assert_array_equal(beamed.metrics[key], local.metrics[key])
    assert list(beamed.metrics["file"][:3]) == ["img00.png", "img01.png", "img02.png"]
    # Same arrays in the same order: the shard files are byte-identical.
    assert beamed.manifest["shards"] == local.manifest["shards"]
    assert [entry["count"] for entry in beamed.manifest["shards"]] == [16, 16, 8]
    assert beamed.manifest["count"] == N and beamed.manifest["map_shape"] == [96, 96]
    settings = dict(beamed.manifest["settings"])
    assert settings.pop("runner") == "beam"
    assert settings == local.manifest["settings"]
    assert settings["source"]["path"] == str(folder) and settings["source"]["files"] == N
    assert beamed.manifest["model"] == local.manifest["model"]
    reread = tfxai.load_explanations(beamed.folder)
    np.testing.assert_array_equal(reread[[3, 39, 17]], local[[3, 39, 17]])
    assert float(local[:].astype(np.float32).std()) > 0.1  # maps with content, not blanks


def test_the_metrics_column_equals_explain_datasets(grad_cam_runs):
    local, beamed = grad_cam_runs
    deletion = beamed.metrics["deletion"]
    assert deletion.dtype == np.float32 and deletion.shape == (N,)
    np.testing.assert_allclose(deletion, local.metrics["deletion"], rtol=0, atol=1e-5)
    assert beamed.summary()["deletion"] == pytest.approx(local.summary()["deletion"], abs=1e-6)
    assert np.ptp(deletion) > 0.01  # per image, not one value repeated


def test_two_local_workers_write_the_same_shards(grad_cam_runs, folder, tmp_path):
    """`pipeline_options` reach the pipeline: two worker threads, each with its own model
    and explainer, write the bytes one worker writes."""
    flags = ["--runner=FnApiRunner", "--direct_num_workers=2"]
    flags.append("--direct_running_mode=multi_threading")
    res = tfxai.beam.explain_folder(
        "shapes-classifier",
        folder,
        tmp_path,
        metrics=["deletion"],
        shard_size=SHARD,
        batch_size=BATCH,
        pipeline_options=flags,
    )
    assert res.manifest["shards"] == grad_cam_runs[0].manifest["shards"]


def test_a_seeded_method_in_shuffled_order_uses_each_images_position(model, tmp_path, monkeypatch):
    """Shuffled elements reach the Explain step as batches of scattered indices: each run
    of consecutive ones is explained at its own first index, so SmoothGrad's noise is the
    noise explain_dataset draws for that position."""
    images = make_shapes(24, seed=9).images
    order = list(range(len(images)))
    random.Random(0).shuffle(order)
    runs = _recording_runs(monkeypatch)
    options = {"samples": 4, "target": 2, "dtype": "float32", "shard_size": 8, "batch_size": 4}
    transform = tfxai.beam.ExplainImages("shapes-classifier", "smooth_grad", tmp_path, **options)
    _run([(i, images[i]) for i in order], transform)
    local = tfxai.explain_dataset(
        model, images, "smooth_grad", tmp_path / "local", progress=False, **options
    )
    beamed = tfxai.load_explanations(str(tmp_path))
    np.testing.assert_array_equal(beamed[:], local[:])
    assert beamed.manifest["settings"]["options"]["samples"] == 4
    # The test is only worth something if runs started off the batch grid.
    assert any(start % 4 for start, _ in runs) and sum(n for _, n in runs) == len(images)


def test_labels_come_from_the_elements(model, tmp_path):
    shapes = make_shapes(12, seed=4)
    labels = shapes.labels.astype(np.int64)
    elements = [(i, shapes.images[i], labels[i]) for i in range(12)][::-1]
    options = {"target": "labels", "dtype": "float32", "shard_size": 8, "batch_size": 4}
    _run(elements, tfxai.beam.ExplainImages("shapes-classifier", "grad_cam", tmp_path, **options))
    beamed = tfxai.load_explanations(str(tmp_path))
    expected = tfxai.grad_cam(model, shapes.images, [int(k) for k in labels])
    np.testing.assert_array_equal(beamed[:], expected)
    np.testing.assert_array_equal(beamed.metrics["target"], labels)
    assert "file" not in beamed.metrics


def test_positions_with_a_gap_or_twice_are_refused(tmp_path):
    images = make_shapes(4, seed=1).images
    transform = tfxai.beam.ExplainImages(
        "shapes-classifier", "grad_cam", tmp_path / "gap", shard_size=2, batch_size=2
    )
    with pytest.raises(ValueError, match="index: no element has position 2, but later"):
        _run([(i, images[i]) for i in (0, 1, 3)], transform)
    assert not (tmp_path / "gap" / "manifest.json").exists()
    transform = tfxai.beam.ExplainImages("shapes-classifier", "grad_cam", tmp_path / "twice")
    with pytest.raises(ValueError, match="index: position 1 is given twice"):
        _run([(0, images[0]), (1, images[1]), (1, images[2])], transform)


BAD = [
    ({"shard_size": 10}, ValueError, r"shard_size: must be a multiple of batch_size \(4\)"),
    ({"dtype": "int8"}, ValueError, "dtype: expected one of float16, float32, got 'int8'"),
    ({"metrics": ["accuracy"]}, ValueError, "metrics: unknown metric 'accuracy'"),
    ({"top_nn": 3}, ValueError, "top_nn: not an option of 'grad_cam'"),
    ({"return_delta": True}, ValueError, "return_delta: .* stores maps only"),
    ({"preprocessing": "bgr"}, ValueError, "preprocessing"),
    ({"overwrite": "yes"}, TypeError, "overwrite: expected True or False"),
    ({"source": "here"}, TypeError, "source: expected a dict"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD, ids=[str(b[0]) for b in BAD])
def test_bad_arguments_name_themselves_before_the_pipeline(tmp_path, kwargs, error, message):
    kwargs = {"batch_size": 4, **kwargs}
    method = "integrated_gradients" if "return_delta" in kwargs else "grad_cam"
    with pytest.raises(error, match=message):
        tfxai.beam.ExplainImages("shapes-classifier", method, tmp_path, **kwargs)


def test_bad_methods_paths_and_folders(model, folder, grad_cam_runs, tmp_path):
    with pytest.raises(TypeError, match="method: each Beam worker builds its own explainer"):
        tfxai.beam.ExplainImages("m.keras", tfxai.GradCAM(model), tmp_path)
    with pytest.raises(TypeError, match="method: ExplainImages runs tfxai's explainers"):
        tfxai.beam.ExplainImages("m.keras", lambda m, x, target=None: x, tmp_path)
    with pytest.raises(ValueError, match="out_dir: the shards are written with local file"):
        tfxai.beam.ExplainImages("m.keras", "grad_cam", "gs://bucket/run")
    with pytest.raises(TypeError, match="model_path: expected a path"):
        tfxai.beam.ExplainImages(3, "grad_cam", tmp_path)
    with pytest.raises(ValueError, match="target: 'labels' .* the files of a folder have none"):
        tfxai.beam.explain_folder("shapes-classifier", folder, tmp_path, target="labels")
    with pytest.raises(ValueError, match="image_dir: no image files"):
        tfxai.beam.explain_folder("shapes-classifier", tmp_path, tmp_path / "out")
    with pytest.raises(TypeError, match="pipeline_options: expected PipelineOptions"):
        tfxai.beam.explain_folder("shapes-classifier", folder, tmp_path, pipeline_options=3)
    done = grad_cam_runs[1].folder
    manifest = pathlib.Path(done) / "manifest.json"
    before = json.loads(manifest.read_text())
    with pytest.raises(ValueError, match="out_dir: .* already holds explanations"):
        tfxai.beam.explain_folder("shapes-classifier", folder, done, metrics=["deletion"])
    assert json.loads(manifest.read_text()) == before
    with pytest.raises(ValueError, match="model_path: cannot load a Keras model"):
        beam_steps.load_model(str(tmp_path / "missing.keras"))


MODULES = ["tfxai.beam", "tfxai.scale.beam", "tfxai.scale.beam_steps"]


@pytest.mark.parametrize("module", MODULES)
def test_without_apache_beam_the_import_error_says_what_to_install(monkeypatch, module):
    monkeypatch.setitem(sys.modules, "apache_beam", None)  # as if not installed
    for name in MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ImportError, match=r'pip install "tfxai\[beam\]"'):
        importlib.import_module(module)


def test_the_default_runner_needs_no_download():
    """Beam's default "DirectRunner" tries the Prism runner first, which downloads a
    binary; explain_folder runs on the in-process Python runner unless told otherwise."""
    assert beam_lib.LOCAL_RUNNER == "FnApiRunner"
    options = beam_lib._pipeline_options(None)
    assert options.view_as(StandardOptions).runner is None
    flags = beam_lib._pipeline_options(["--runner=FlinkRunner", "--flink_master=h:8081"])
    assert flags.view_as(StandardOptions).runner == "FlinkRunner"
    assert flags.get_all_options()["flink_master"] == "h:8081"
