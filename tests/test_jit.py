"""The numba cache of the kernels is keyed by every kernel source, not only the defining file.

numba stamps a cache index with the hash of the file that defines the function; the machine code
also holds what it inlined from other modules and their constants.  ``hasim.sim.kernel._jit.KernelCache``
adds a digest of all kernel sources to the stamp.  Checked on a copy of the package (so the
working tree is never touched) with a small kernel, ``hasim.sim.kernel._rng.sample_key``, in fresh processes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hasim
from hasim.sim.kernel._jit import JIT_DISABLED, KERNEL_SOURCES

pytestmark = pytest.mark.skipif(JIT_DISABLED, reason="numba's cache is off without the JIT")

_PROBE = """
import json, numpy as np
import hasim.sim.kernel._rng as r
r.sample_key(np.uint64(1), np.uint64(2), np.int64(3))
print(json.dumps({"hits": sum(r.sample_key.stats.cache_hits.values()),
                  "misses": sum(r.sample_key.stats.cache_misses.values())}))
"""


def _run(root: Path, cache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root), "NUMBA_CACHE_DIR": str(cache), "HASIM_NUMBA_CACHE": "1"}
    env.pop("NUMBA_DISABLE_JIT", None)
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True,
                          cwd=root)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_kernel_sources_cover_the_kernel_modules():
    assert {"sim/kernel/_loop.py", "sim/kernel/_rng.py", "sim/kernel/_jit.py", "sim/kernel/_output.py",
            "sim/compile.py"} <= set(KERNEL_SOURCES)
    package = Path(hasim.__file__).parent
    assert {p.relative_to(package).as_posix() for p in (package / "sim" / "kernel").glob("*.py")} <= set(KERNEL_SOURCES)


def test_editing_another_kernel_module_invalidates_the_cache(tmp_path):
    root = tmp_path / "src"
    shutil.copytree(Path(hasim.__file__).parent, root / "hasim",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    cache = tmp_path / "cache"
    assert _run(root, cache) == {"hits": 0, "misses": 1}  # cold: compiled and saved
    assert _run(root, cache) == {"hits": 1, "misses": 0}  # unchanged sources: loaded
    # An edit of a module that does not define sample_key (a comment is enough: its digest changes).
    kernel = root / "hasim" / "sim" / "kernel" / "_dns.py"
    kernel.write_text(kernel.read_text() + "\n# edited\n")
    assert _run(root, cache) == {"hits": 0, "misses": 1}  # stale: compiled again
    assert _run(root, cache) == {"hits": 1, "misses": 0}
    # Editing a module outside the kernel sources keeps the cache.
    report = root / "hasim" / "present" / "report.py"
    report.write_text(report.read_text() + "\n# edited\n")
    assert _run(root, cache) == {"hits": 1, "misses": 0}
