"""The documentation names only what exists, and documents what a user can set.

A reader of README.md and docs/ relies on the tests they cite as proof, on the flags they show
and on the environment variables they list. Each of these drifted once (a renamed test left a
dangling citation, a flag and two variables were documented nowhere), so each is checked here
against the source, cheaply and without running anything:

- every test a document cites (``tests/test_x.py::test_y``, ``::test_z`` after it, or a bare
  `` `test_y` ``) is defined in the tests;
- every subcommand and long flag of ``driftwatch`` appears in README.md or docs/;
- every ``DRIFTWATCH_*`` variable driftwatch reads has a row in docs/configuration.md's
  Environment table.

Config keys (tests/test_config_docs.py) and alerts (tests/test_monitoring.py) have their own.
"""

from __future__ import annotations

import argparse
import re
from functools import cache
from pathlib import Path

from driftwatch.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

# tests/test_x.py, optionally ::test_y (and a further ::name); the tests/ prefix may be left out.
_CITATION = re.compile(r"(?:tests/)?(test_\w+\.py)(?:::(\w+))?")
# ::test_z continuing the file cited before it on the same line; a bare `test_y` (its
# parametrize id, if any, in brackets inside the backticks).
_CONTINUATION = re.compile(r"(?<![\w.])::(test_\w+)")
_BARE = re.compile(r"`(test_\w+)(?:\[[^\]`]*\])?`")
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(test_\w+)", re.MULTILINE)


@cache
def defined(test_file: str) -> frozenset[str] | None:
    """The test functions of ``tests/<test_file>``, None when the file does not exist."""
    path = ROOT / "tests" / test_file
    return frozenset(_DEF.findall(path.read_text(encoding="utf-8"))) if path.is_file() else None


def all_defined() -> frozenset[str]:
    return frozenset().union(*(defined(path.name) or () for path in (ROOT / "tests").glob("test_*.py")))


def dangling_citations(text: str, where: str) -> list[str]:
    """Each cited test that does not exist, as ``where:line: citation``. A ``::test_z`` is
    looked up in the file cited last before it in the same paragraph (a citation list may
    wrap onto the next line)."""
    dangling: list[str] = []
    everywhere = all_defined()
    last_file: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("|"):
            last_file = None  # a new paragraph, or a table row of its own
        found = sorted(
            [(m.start(), "file", m) for m in _CITATION.finditer(line)]
            + [(m.start(), "continuation", m) for m in _CONTINUATION.finditer(line)]
            + [(m.start(), "bare", m) for m in _BARE.finditer(line)],
            key=lambda item: item[0],
        )
        for _, kind, match in found:
            if kind == "file":
                names = defined(match[1])
                if names is None:
                    dangling.append(f"{where}:{number}: tests/{match[1]} does not exist")
                    continue
                last_file = match[1]
                if match[2] and match[2] not in names:
                    dangling.append(f"{where}:{number}: {match[1]}::{match[2]}")
            elif kind == "continuation":
                if last_file is not None and match[1] not in (defined(last_file) or ()):
                    dangling.append(f"{where}:{number}: ::{match[1]} (after {last_file})")
            elif match[1] not in everywhere:
                dangling.append(f"{where}:{number}: `{match[1]}`")
    return dangling


def test_every_test_the_docs_cite_exists() -> None:
    dangling = [
        item for doc in DOCS for item in dangling_citations(doc.read_text(encoding="utf-8"), doc.name)
    ]
    assert not dangling, "tests cited in the docs that do not exist:\n" + "\n".join(dangling)


def test_the_citation_check_sees_a_renamed_test() -> None:
    """Guards the guard: each citation form is read, and a name that is not defined is caught."""
    real = "tests/test_docs_truth.py::test_every_test_the_docs_cite_exists"
    assert dangling_citations(f"see {real}, `test_the_citation_check_sees_a_renamed_test`", "x") == []
    text = "\n".join(
        [
            "tests/test_docs_truth.py::test_gone",
            f"{real}, ::test_gone_too",
            "`test_gone_bare[case]`",
            "tests/test_no_such_file.py",
        ]
    )
    assert [item.split(": ", 1)[1] for item in dangling_citations(text, "x")] == [
        "test_docs_truth.py::test_gone",
        "::test_gone_too (after test_docs_truth.py)",
        "`test_gone_bare`",
        "tests/test_no_such_file.py does not exist",
    ]


def commands_and_flags() -> dict[str, set[str]]:
    """Each subcommand and the long flags it takes (argparse's own --help left out)."""
    parser = build_parser()
    found = {"": {o for a in parser._actions for o in a.option_strings if o.startswith("--")}}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[name] = {o for a in sub._actions for o in a.option_strings if o.startswith("--")}
    for flags in found.values():
        flags.discard("--help")
    return found


def test_every_command_and_flag_is_documented() -> None:
    text = "\n".join(doc.read_text(encoding="utf-8") for doc in DOCS)
    missing = []
    for command, flags in commands_and_flags().items():
        if command and not re.search(rf"driftwatch {command}\b", text):
            missing.append(f"driftwatch {command}")
        missing += [f"{command} {flag}" for flag in sorted(flags) if not re.search(rf"{flag}(?![\w-])", text)]
    assert not missing, f"documented nowhere in README.md or docs/: {missing}"
    assert {"scan", "run", "history"} <= set(commands_and_flags())  # the walk sees the subcommands


def test_every_environment_variable_driftwatch_reads_is_documented() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "driftwatch").rglob("*.py"))
    read = set(re.findall(r"[\"'](DRIFTWATCH_[A-Z_]+)[\"']", source))
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = page.split("## Environment", 1)[1]
    documented = set(re.findall(r"^\| `(DRIFTWATCH_[A-Z_]+)`", table, re.MULTILINE))
    assert read - documented == set(), "variables missing from docs/configuration.md's Environment table"
    assert {"DRIFTWATCH_CONFIG", "DRIFTWATCH_MODULE_CACHE"} <= read  # the search sees them
