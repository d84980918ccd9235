"""The notebooks execute from top to bottom on the current package (so they never rot).

Needs nbformat, nbclient and ipykernel (and matplotlib for the plots): skipped,
with the reason, until they are installed (the dev extras).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NEEDED = ("nbformat", "nbclient", "ipykernel", "matplotlib")
MISSING = [m for m in NEEDED if importlib.util.find_spec(m) is None]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason=f"notebook tests need {', '.join(MISSING)} (pip install {' '.join(MISSING)})"),
]


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")), ids=lambda p: p.name)
def test_notebook_executes(path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and not [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]


def test_notebooks_match_their_generator() -> None:
    """The committed notebooks hold the cells of notebooks/make_notebooks.py (outputs aside)."""
    import sys

    import nbformat

    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import make_notebooks
    finally:
        sys.path.remove(str(NOTEBOOKS))
    for name in make_notebooks.NOTEBOOKS:
        committed = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert [c.source for c in committed.cells] == [c.source for c in make_notebooks.build(name).cells], name
