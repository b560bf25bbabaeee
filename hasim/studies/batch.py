"""Batch runs that lose nothing: one result per scenario file, written atomically, resumable.

``hasim run scenarios/*.yaml --out-dir results/`` is :func:`run_batch` plus
printing.  For each scenario file ``NAME.yaml`` it writes, as soon as that
scenario finishes::

    results/NAME.summary.csv       the summary table (metric, mean, ci_low, ci_high, std, note)
    results/NAME.replicas.csv      one row per replica
    results/NAME.windows.csv       the stored window availabilities
    results/NAME.attribution.csv   downtime by root cause
    results/NAME.result.json       the ``hasim run --json`` object plus a ``"batch"`` block

(``.parquet`` instead of ``.csv`` with ``table_format="parquet"``).  Every file
is written to a temporary file in the same folder and moved into place with
:func:`os.replace`, so a crash never leaves a half-written file.  The JSON is
written last: it is the marker that the result is complete.  Its ``"batch"``
block keeps a fingerprint (SHA-256 of the canonical scenario and the run
options), which ``resume=True`` compares to skip scenarios whose results are
already there for the same content and options.

A scenario that is invalid or fails is reported (file name and reason) and
the batch carries on with the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from hasim._version import __version__

__all__ = ["Outcome", "run_batch", "atomic_write", "fingerprint", "output_names", "slo_status", "TABLES"]

#: The tables written per scenario, in this order (the JSON comes after them).
TABLES = ("summary", "replicas", "windows", "attribution")
#: Version of the layout of ``*.result.json``; a change makes ``resume`` re-run everything.
_LAYOUT = 1


def atomic_write(target: str | os.PathLike, write: Callable[[str], Any]) -> Path:
    """Write ``target`` atomically: ``write(tmp)`` fills a temporary file in the same folder, then
    :func:`os.replace` moves it into place.

    Parameters
    ----------
    target : path-like
        The final file.  Its folder is created if needed.
    write : callable
        Called with the temporary path (a ``str``); writes the whole content there.

    Returns
    -------
    Path
        ``target``.  If ``write`` raises, the temporary file is removed and
        ``target`` is left as it was (absent, or its previous content).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_frame(frame, target: str | os.PathLike) -> Path:
    """Write a DataFrame atomically as ``.parquet`` or ``.csv`` (by the extension of ``target``)."""
    if str(target).endswith(".parquet"):
        return atomic_write(target, lambda tmp: frame.to_parquet(tmp, index=False))
    return atomic_write(target, lambda tmp: frame.to_csv(tmp, index=False))


def _write_text(target: Path, text: str) -> Path:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    return atomic_write(target, write)


def fingerprint(scenario, options: dict) -> str:
    """SHA-256 of the canonical scenario (its validated model as sorted JSON) and the run options.

    Comments, key order and spelling (``30s`` or ``0.5m``) of the file do not
    change it; any change of a value or of an option that can change a number does.
    """
    canonical = json.dumps({"scenario": scenario.model_dump(mode="json"), "options": options,
                            "hasim": __version__, "layout": _LAYOUT}, sort_keys=True, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def output_names(files: Sequence[str]) -> list[str]:
    """The base name of each file's results: the file's stem, made unique when two stems collide."""
    stems = [Path(f).stem for f in files]
    names, used = [], set()
    for f, stem in zip(files, stems):
        name = stem
        if stems.count(stem) > 1:
            parent = Path(f).resolve().parent.name
            name = f"{parent}-{stem}" if parent else stem
        base, k = name, 2
        while name in used:
            name, k = f"{base}-{k}", k + 1
        used.add(name)
        names.append(name)
    return names


def slo_status(document: dict) -> dict | None:
    """The SLO verdict of a result JSON (:func:`hasim.results.estimate.slo_verdict`), or None when it has no ``slo``.

    ``{"slo", "mean", "ci95", "met", "verdict", "status", "outages", ...}``: ``met``
    compares the estimate with the SLO; ``verdict`` is ``"met"`` when the whole
    95 % interval is at or above it and the run saw enough outages to say so,
    ``"missed"`` when all below, ``"uncertain"`` when it straddles the target and
    ``"insufficient-evidence"`` when the run saw too few outages; ``status`` is
    the same as ``met`` / ``not-met`` / ``too-close`` / ``insufficient-evidence``.
    A document written before the verdict was stored has its outages counted
    back from ``outages_per_year``.
    """
    from hasim.results.estimate import slo_verdict

    slo = document.get("slo")
    if slo is None:
        return None
    stored = document.get("slo_verdict")
    if isinstance(stored, dict) and stored.get("status"):
        return dict(stored)
    ra = document["metrics"]["request_availability"]
    outages = document.get("outages")
    if outages is None:
        rate = document["metrics"].get("outages_per_year", {}).get("mean")
        if rate is not None:
            outages = round(rate * document["horizon_hours"] / 8760.0 * document["replicas"])
    return slo_verdict(slo, ra["mean"], ra["ci95"], outages, document.get("replicas"))


@dataclass
class Outcome:
    """What happened to one scenario file of a batch.

    Attributes
    ----------
    file : str
        The scenario file.
    status : {'ok', 'skipped', 'invalid', 'failed'}
        Ran and written; skipped (``resume`` and up to date); invalid scenario;
        failed while running or writing.
    messages : list of str
        For ``invalid`` / ``failed``: one line per problem, each starting with the file name.
    result : Results or None
        The simulation (``ok`` only).
    scenario : Scenario or None
    document : dict or None
        The result JSON (written, or read back when skipped).
    written : list of str
        Files written for this scenario.
    """

    file: str
    status: str
    messages: list[str] = field(default_factory=list)
    result: Any = None
    scenario: Any = None
    document: dict | None = None
    written: list[str] = field(default_factory=list)

    @property
    def slo(self) -> dict | None:
        """:func:`slo_status` of the result (None without a result or an ``slo``)."""
        return slo_status(self.document) if self.document else None


def _paths(out_dir: Path, name: str, table_format: str) -> tuple[Path, dict[str, Path]]:
    return out_dir / f"{name}.result.json", {t: out_dir / f"{name}.{t}.{table_format}" for t in TABLES}


def _up_to_date(json_path: Path, tables: dict[str, Path], digest: str) -> dict | None:
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
        batch = document["batch"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if batch.get("fingerprint") != digest or not all(p.exists() for p in tables.values()):
        return None
    return document


def run_batch(files: Sequence[str], out_dir: str | os.PathLike | None = None, *, replicas: int | None = None,
              seed: int | None = None, horizon: float | str | None = None, engine: str = "numba",
              precision: float | None = None, max_replicas: int | None = None, client=None,
              resume: bool = False, table_format: str = "csv",
              progress: bool | Callable[[int, int], None] = False,
              compile_notice: bool | Callable[[str], None] | None = None,
              warmup: float | str | None = None) -> Iterator[Outcome]:
    """Simulate each scenario file in turn; yield an :class:`Outcome` as each one finishes.

    Parameters
    ----------
    files : sequence of str
        Scenario files (YAML or TOML).
    out_dir : path-like, optional
        Where to write each result as soon as it is known (see the module
        docstring); nothing is written without it.
    replicas, seed, horizon, engine, precision, max_replicas, client
        Passed to :func:`hasim.simulate` (``precision``, ``max_replicas`` and
        ``client`` only when given).
    resume : bool
        Skip a scenario whose ``NAME.result.json`` in ``out_dir`` has the same
        fingerprint (scenario content and these options) and whose tables exist.
    table_format : {'csv', 'parquet'}
    progress, compile_notice : bool or callable
        Passed to :func:`hasim.simulate` for each scenario.

    Yields
    ------
    Outcome
        One per file, in order.  An invalid or failing scenario yields an
        ``invalid`` / ``failed`` outcome and the batch goes on.
    """
    from hasim.sim.engine import simulate
    from hasim.errors import ScenarioError
    from hasim.model.io import load
    from hasim.model.scenario import window_problem

    if table_format not in ("csv", "parquet"):
        raise ValueError(f"table_format: expected 'csv' or 'parquet', got {table_format!r}")
    if resume and out_dir is None:
        raise ValueError("resume needs out_dir")
    out = Path(out_dir) if out_dir is not None else None
    options = {"replicas": replicas, "seed": seed, "horizon": horizon, "engine": engine, "precision": precision,
               "max_replicas": max_replicas, "table_format": table_format}
    if warmup is not None:  # only when given, so that results stored before it stay up to date
        options["warmup"] = warmup
    extra = {k: v for k, v in (("precision", precision), ("max_replicas", max_replicas), ("client", client),
                               ("warmup", warmup)) if v is not None}
    for path, name in zip(files, output_names(files)):
        path = str(path)
        try:
            sc = load(path)
            short = horizon is not None and window_problem(horizon, sc.window, window_given="window" in sc.model_fields_set)
            if short:
                raise ScenarioError([short], path)
        except ScenarioError as exc:
            yield Outcome(path, "invalid", exc.lines())
            continue
        digest = fingerprint(sc, options)
        json_path, tables = _paths(out, name, table_format) if out is not None else (None, {})
        if resume:
            document = _up_to_date(json_path, tables, digest)
            if document is not None:
                yield Outcome(path, "skipped", scenario=sc, document=document,
                              written=[str(p) for p in (*tables.values(), json_path)])
                continue
        try:
            result = simulate(sc, replicas=replicas, seed=seed, horizon=horizon, engine=engine,
                              progress=progress, compile_notice=compile_notice, **extra)
        except ScenarioError as exc:
            yield Outcome(path, "invalid", exc.with_source(path).lines(), scenario=sc)
            continue
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - reported with the file name; the batch goes on
            yield Outcome(path, "failed", [f"{path}: {_reason(exc)}"], scenario=sc)
            continue
        try:
            document = result.to_dict()
        except Exception as exc:  # noqa: BLE001
            yield Outcome(path, "failed", [f"{path}: {_reason(exc)}"], scenario=sc)
            continue
        written: list[str] = []
        if out is not None:
            try:
                document["batch"] = {"file": path, "fingerprint": digest, "options": options,
                                     "hasim": __version__, "tables": {t: p.name for t, p in tables.items()}}
                status = slo_status(document)
                if status is not None:
                    document["batch"]["slo"] = status
                # A stale marker goes first: until the new JSON is in place the result counts as missing.
                if json_path.exists():
                    json_path.unlink()
                for t, p in tables.items():
                    write_frame(getattr(result, t), p)
                    written.append(str(p))
                _write_text(json_path, json.dumps(document, indent=2, allow_nan=False) + "\n")
                written.append(str(json_path))
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # noqa: BLE001
                yield Outcome(path, "failed", [f"{path}: cannot write results to {out}: {_reason(exc)}"],
                              result=result, scenario=sc, document=document, written=written)
                continue
        yield Outcome(path, "ok", result=result, scenario=sc, document=document, written=written)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, (ValueError, NotImplementedError, OSError)):
        return text
    return f"{type(exc).__name__}: {text}"
