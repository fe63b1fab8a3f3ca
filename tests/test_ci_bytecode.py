""".ci/run writes driftwatch's bytecode before the suite, to save the interpreters it starts
compiling it again: an optimisation, which must neither stop CI nor do so without a word."""

from __future__ import annotations

import subprocess
from pathlib import Path

_RUN = Path(__file__).resolve().parents[1] / ".ci" / "run"


def _bytecode_step() -> str:
    """The step's lines of .ci/run: from its comment to the blank line after it."""
    lines = _RUN.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# Bytecode for driftwatch"))
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    return "\n".join(lines[start:end])


def test_bytecode_that_cannot_be_written_is_said_and_ci_goes_on(tmp_path: Path) -> None:
    """A ``__pycache__`` that cannot be written (a read-only checkout, another uid's; here a
    file in its place): compileall exits 1 with its reason on stdout, which went to /dev/null,
    so ``set -e`` ended CI before the suite ran, saying nothing."""
    (tmp_path / "driftwatch").mkdir()
    (tmp_path / "driftwatch/mod.py").write_text("X = 1\n")
    (tmp_path / "driftwatch/__pycache__").write_text("")
    script = f"set -euo pipefail\n{_bytecode_step()}\necho suite-runs\n"
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "suite-runs" in done.stdout, done
    assert "mod.py" in done.stdout + done.stderr
