"""Progress and compile time on the command line (issue 17, item 10): a bar on a terminal (even one
that reports no width), none with --quiet or into a pipe, the compile notice in a CI log, and the
compile time apart from the simulation time."""

from __future__ import annotations

import os
import pty
import sys
import time

import pytest

import hasim.sim.engine
from hasim import load, simulate
from hasim.cli.main import EXIT_OK, main
from hasim.cli.tables import format_results

from .conftest import ROOT, SCENARIOS

K_OF_N = SCENARIOS / "k-of-n.yaml"


def _in_a_terminal(argv: list[str], columns: int | None, timeout: float = 300.0) -> bytes:
    """Run ``python -m hasim ARGV`` with a pseudo-terminal as stdin/stdout/stderr; return all it wrote.

    ``columns=None`` leaves the terminal without a size (0 x 0), as many pseudo-terminals are.
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once, nothing of pytest may run here
        try:
            if columns is not None:
                import fcntl
                import struct
                import termios

                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
            os.chdir(ROOT)
            os.environ["PYTHONPATH"] = str(ROOT)  # this worktree's hasim, whatever is installed
            os.execv(sys.executable, [sys.executable, "-m", "hasim", *argv])
        finally:
            os._exit(127)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == EXIT_OK, b"".join(chunks)[-2000:]
    return b"".join(chunks)


@pytest.mark.parametrize("columns", [100, None])
def test_run_shows_a_bar_on_a_terminal(columns):
    out = _in_a_terminal(["run", str(K_OF_N), "--replicas", "400"], columns)
    assert b"k-of-n:" in out and b"replica/s" in out and b"/400 [" in out


def test_quiet_shows_no_bar_on_a_terminal():
    out = _in_a_terminal(["run", str(K_OF_N), "--replicas", "400", "-q"], 100)
    assert b"replica/s" not in out and b"%|" not in out


def test_sweep_and_simpy_runs_show_bars():
    out = _in_a_terminal(["sweep", str(K_OF_N), "--set", "services.api.replicas=3,4", "--replicas", "50"], None)
    assert b"point/s" in out or b"s/point" in out
    out = _in_a_terminal(["run", str(K_OF_N), "--replicas", "20", "--engine", "simpy", "--horizon", "1000h"], 100)
    assert b"(simpy)" in out and b"/20 [" in out


def test_no_bar_into_a_pipe(capsys):
    assert main(["run", str(K_OF_N), "--replicas", "50"]) == EXIT_OK
    assert "replica/s" not in capsys.readouterr().err


@pytest.fixture
def cold(monkeypatch):
    """Pretend the kernel is not cached, once (as a real first compile is): the real notice path
    runs, and the (warm) kernel only loads."""
    answers = iter([True])
    monkeypatch.setattr(hasim.sim.engine, "kernel_needs_compiling", lambda: next(answers, False))


def test_compile_notice_reaches_a_ci_log(cold, capsys):
    assert main(["run", str(K_OF_N), "--replicas", "20"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "compiling the numba kernel (first run on this machine, about" in err
    assert "compiling the numba kernel, once per machine)" in out  # the header puts its time apart


def test_quiet_says_nothing_of_a_compile(cold, capsys):
    assert main(["run", str(K_OF_N), "--replicas", "20", "-q"]) == EXIT_OK
    assert "compiling" not in capsys.readouterr().err


def test_no_notice_when_nothing_compiles(capsys):
    simulate(load(K_OF_N), replicas=2)  # the kernel is now loaded in this process
    assert hasim.sim.engine.kernel_needs_compiling() is False
    assert main(["run", str(K_OF_N), "--replicas", "20"]) == EXIT_OK
    assert "compiling" not in capsys.readouterr().err


def test_sweep_notice_and_header(cold, capsys):
    assert main(["sweep", str(K_OF_N), "--set", "services.api.replicas=3,4", "--replicas", "20"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert err.count("compiling the numba kernel (first run") == 1  # the first point compiles, the next reuse it
    assert "simulated in" in out and "compiling the numba kernel, once per machine" in out


def test_header_puts_compile_time_apart():
    r = simulate(load(K_OF_N), replicas=20)
    r.elapsed_seconds, r.compile_seconds, r.kernel_compiled = 0.61, 104.2, True
    assert "simulated in 0.61 s (+ 104 s compiling the numba kernel, once per machine)" in format_results(r)
    r.kernel_compiled, r.compile_seconds = False, 0.05
    head = format_results(r).splitlines()[0]
    assert "simulated in 0.61 s" in head and "compiling" not in head
    assert r.to_dict()["compile_seconds"] == pytest.approx(0.05)


def test_progress_chunks_are_small_enough_to_move():
    assert hasim.sim.engine._chunk_size(1000, progress=True) <= 1000 // 20
    assert hasim.sim.engine._chunk_size(1000) == 256  # without a display: as before


def test_report_shows_its_sensitivity_runs(tmp_path):
    source = tmp_path / "k-of-n.yaml"
    source.write_text(K_OF_N.read_text() + "slo: 99.9\n")
    target = tmp_path / "r.html"
    out = _in_a_terminal(["report", str(source), "--out", str(target), "--replicas", "50",
                          "--sensitivity-replicas", "20"], None)
    assert b"k-of-n sensitivity" in out and (b"run/s" in out or b"s/run" in out)
    assert "Sensitivity" in target.read_text()
