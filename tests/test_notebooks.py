"""The notebooks in `notebooks/`, executed top to bottom, and their figures checked.

This is the one place the notebooks run (nbmake no longer collects `notebooks/`): each is
executed once by nbclient with the `python3` kernel, its working directory the notebook's
folder and this checkout first on `PYTHONPATH`, so the kernel imports this tree's tfxai
(checked) even when another checkout is installed editable.

Figure cells carry the marker comment `# figure`. Every marked cell must leave at least
one `image/png` output (figures are shown inline, so a notebook that switches matplotlib
to a non-interactive backend fails here), and a cell that makes a figure without the
marker is reported too, so a new plot cannot slip past the check.
"""

import os
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MARKER = "# figure"
# Calls that draw a matplotlib figure (or switch its backend away from inline display).
FIGURE_CALL = re.compile(
    r"\bplt\.(subplots|subplot|figure|imshow|plot|bar|barh|scatter|hist|matshow)\s*\("
    r"|\.imshow\s*\(|\bmatplotlib\.use\s*\("
)
CHECK_IMPORT = (
    "import os as _os, tfxai as _tfxai\nprint(_os.path.dirname(_os.path.abspath(_tfxai.__file__)))"
)
TIMEOUT = 600  # per cell, seconds; the notebooks take well under a minute or two each


def figure_problems(notebook) -> list[str]:
    """Lists what is wrong with the figures of an executed notebook (empty: nothing)."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        source = cell.source
        marked = any(line.strip() == MARKER for line in source.splitlines())
        if "matplotlib.use(" in source:
            problems.append(f"cell {index}: matplotlib.use(...) hides inline figures")
        if marked:
            images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
            if not images:
                problems.append(f"cell {index}: marked {MARKER!r} but shows no image/png")
        elif FIGURE_CALL.search(source):
            problems.append(f"cell {index}: draws a figure but lacks the {MARKER!r} marker")
    return problems


def test_figure_check_can_fail():
    """The checker flags a marked cell without an image and an unmarked figure cell."""
    nb = nbformat.v4
    notebook = nb.new_notebook(
        cells=[
            nb.new_code_cell(f"{MARKER}\nplt.plot([1, 2])"),  # marked, no image output
            nb.new_code_cell("fig, ax = plt.subplots()"),  # unmarked figure call
            nb.new_code_cell("import matplotlib\nmatplotlib.use('Agg')"),
            nb.new_code_cell("x = 1"),  # fine
        ]
    )
    shown = nb.new_code_cell(f"{MARKER}\nplt.plot([1, 2])")
    shown.outputs = [nb.new_output("display_data", data={"image/png": "iVBOR", "text/plain": ""})]
    notebook.cells.append(shown)  # fine
    problems = figure_problems(notebook)
    assert [p.split(":")[0] for p in problems] == ["cell 0", "cell 1", "cell 2", "cell 2"]


def test_notebooks_are_stripped():
    """Outputs and execution counts are cleared in the repository."""
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                assert not cell.outputs, f"{path.name} cell {index}: outputs not stripped"
                assert cell.execution_count is None, f"{path.name} cell {index}: count kept"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_shows_its_figures(path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(CHECK_IMPORT))
    client = nbclient.NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    print(f"{path.name}: executed in {time.perf_counter() - start:.1f} s")
    imported = "".join(o.get("text", "") for o in notebook.cells[-1].outputs).strip()
    assert imported == str(ROOT / "tfxai"), f"the kernel imported tfxai from {imported}"
    notebook.cells.pop()
    assert figure_problems(notebook) == []
