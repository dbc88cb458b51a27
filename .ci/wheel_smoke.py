"""Smoke test of the INSTALLED wheel, run from outside the source tree by .ci/run.

Checks that the import comes from the venv (not the checkout), that the zoo's files and
manifest were shipped, that `tfxai demo` and `tfxai gallery` run, that a callback works
through `model.fit` and that `explain_dataset` writes shards. Prints one line per check;
any failure raises.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def check(label, condition):
    if not condition:
        raise SystemExit(f"wheel smoke FAILED: {label}")
    print(f"wheel smoke ok: {label}", flush=True)


def main():
    checkout = Path(sys.argv[1]).resolve()
    import keras
    import numpy as np

    import tfxai

    where = Path(tfxai.__file__).resolve()
    check(
        f"tfxai imported from the installed wheel ({where.parent})",
        checkout not in where.parents and "site-packages" in where.parts,
    )
    check("py.typed marker is shipped", (where.parent / "py.typed").is_file())
    for name in tfxai.models.available():  # every bundled model, the demo's GAP one too
        loaded = tfxai.models.load(name)
        info = tfxai.models.info(name)
        check(
            f"zoo model {name} loads and zoo.json is shipped",
            loaded is not None and "heldout" in info,
        )
    classifier = tfxai.models.load("shapes-gap-classifier")
    check("the GAP classifier has five classes", classifier.output.shape[-1] == 5)
    model = tfxai.models.load("shapes-classifier")
    out = Path(tempfile.mkdtemp(prefix="tfxai-smoke-"))
    cli = [str(Path(sys.executable).parent / "tfxai")]  # the installed console script
    subprocess.run(
        cli
        + [
            "demo",
            "--out",
            str(out / "demo"),
            "--images",
            "2",
            "--methods",
            "grad_cam",
            "--no-progress",
        ],
        check=True,
    )
    results = json.loads((out / "demo" / "metrics.json").read_text())
    check("tfxai demo on 2 images", "grad_cam" in results["classifier"])
    subprocess.run(
        cli
        + [
            "gallery",
            "shapes-classifier",
            "--layers",
            "block4_out",
            "--channels",
            "2",
            "--steps",
            "8",
            "--size",
            "48",
            "--out",
            str(out / "gallery"),
            "--no-progress",
        ],
        check=True,
    )
    check("tfxai gallery on 2 channels", (out / "gallery" / "index.html").is_file())
    data = tfxai.datasets.make_shapes(64, seed=1)
    callback = tfxai.ExplanationCallback(
        "grad_cam",
        (data.images[:2], data.labels[:2]),
        target="labels",
        layer="block4_out",
        log_dir=out / "logs",
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(data.images, data.labels, epochs=1, verbose=0, callbacks=[callback])
    check(
        "ExplanationCallback through model.fit",
        (out / "logs" / "tfxai_grad_cam" / "timeline.png").is_file()
        and np.isfinite(model.get_weights()[0]).all()
        and callback.warnings == [],
    )
    res = tfxai.explain_dataset(
        model,
        data.images[:8],
        "grad_cam",
        out / "dataset",
        shard_size=4,
        batch_size=4,
        metrics=["average_drop"],
        progress=False,
    )
    again = tfxai.load_explanations(str(out / "dataset"))
    check(
        "explain_dataset writes shards that load_explanations reads",
        len(again) == 8
        and again[:].shape == (8, 96, 96)
        and res.complete
        and len(again.manifest["shards"]) == 2
        and "average_drop" in again.summary(),
    )


if __name__ == "__main__":
    main()
