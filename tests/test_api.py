"""The public API: ``hasim.__all__`` is what the README documents, and importing it compiles nothing."""

from __future__ import annotations

import re
import subprocess
import sys

import hasim

from .conftest import ROOT


def _documented() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("The public API, `hasim.__all__`")
    paragraph = text[start:text.index("\n\n", start)]
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", paragraph)) - {"hasim"}


def test_all_is_the_documented_api():
    assert set(hasim.__all__) == _documented()
    assert len(hasim.__all__) == len(set(hasim.__all__))
    for name in hasim.__all__:
        assert getattr(hasim, name) is not None


def test_importing_hasim_loads_no_engine():
    code = "import sys, hasim; print(sorted(m for m in ('numba', 'simpy', 'hasim.sim.kernel._loop') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_study_functions_are_functions_whatever_is_imported():
    # Until issue 12 hasim.sweep was both a function and a module: importing the module (as the
    # CLI does) replaced the function on the package.  The modules now live in hasim.studies.
    import types

    import hasim.studies.compare
    import hasim.studies.sensitivity
    import hasim.studies.sweep  # noqa: F401

    for name in ("sweep", "compare", "sensitivity", "simulate", "analyze"):
        assert callable(getattr(hasim, name)) and not isinstance(getattr(hasim, name), types.ModuleType), name
    assert isinstance(hasim.plot, types.ModuleType)
