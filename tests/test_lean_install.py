"""moto is the demo's embedded AWS only: a `demo` extra, out of the runtime install and the image."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from driftwatch.cli import main

REPO = Path(__file__).resolve().parents[1]


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_moto_is_an_extra_not_a_runtime_dependency() -> None:
    project = _pyproject()["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("moto")]
    assert any(d.startswith("moto[dynamodb]") for d in project["optional-dependencies"]["demo"])
    # The tests still get it (CI installs .[dev], which includes test).
    assert any(d.startswith("moto[") for d in project["optional-dependencies"]["test"])


def test_the_readme_first_command_still_installs_the_demo() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first = next(line for line in readme.splitlines() if "pip install" in line)
    assert re.search(r'pip install -e "\.\[demo,[^"]*\]" && driftwatch demo', first), first


def test_the_image_installs_no_extra() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    installs = re.findall(r"uv pip install [^\n]*", dockerfile)
    assert installs and all("[" not in line and "moto" not in line for line in installs)


def test_demo_without_moto_says_how_to_install_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "moto" else real(name, *a)
    )
    monkeypatch.setattr("driftwatch.demo.run.run_demo", lambda **_: pytest.fail("the demo ran without moto"))
    assert main(["demo"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'driftwatch[demo]'" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
