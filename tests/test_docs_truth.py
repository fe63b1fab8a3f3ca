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
    texts = [doc.read_text(encoding="utf-8") for doc in DOCS]
    dangling = [
        item for doc, text in zip(DOCS, texts, strict=True) for item in dangling_citations(text, doc.name)
    ]
    assert not dangling, "tests cited in the docs that do not exist:\n" + "\n".join(dangling)
    # the walk sees the docs' citations (a pattern matching nothing would pass everything)
    assert sum(len(_CITATION.findall(text)) + len(_BARE.findall(text)) for text in texts) >= 500


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


# --- commands the docs show ------------------------------------------------------------------

_COMMAND = re.compile(r"driftwatch (?:scan|inspect|validate|run|history|demo)\b[^|>#;`\n]*")
_PLACEHOLDER = re.compile(r"[…<\[]")  # `--root … --role-arn …`, `--config <the file>`


def commands_shown(text: str) -> list[tuple[int, str]]:
    """Each ``driftwatch COMMAND ...`` the text shows: in a fenced code block, or in an inline
    code span; up to a pipe, a redirection or a comment. Placeholders are left out."""
    found: list[tuple[int, str]] = []
    in_block = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_block = not in_block
            continue
        spans = [line] if in_block else re.findall(r"`([^`]+)`", line)
        for span in spans:
            found += [
                (number, m[0].strip()) for m in _COMMAND.finditer(span) if not _PLACEHOLDER.search(m[0])
            ]
    return found


def refused(command: str) -> str | None:
    """argparse's complaint about ``command``, None when driftwatch accepts the command line."""
    import contextlib
    import io
    import shlex

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(shlex.split(command)[1:])
        except SystemExit as exit:
            if exit.code in (0, None):  # --help, --version: accepted, and they exit 0
                return None
            return stderr.getvalue().strip().splitlines()[-1]
    return None


def test_every_command_the_docs_show_is_accepted_as_written() -> None:
    """A reader copies the examples: each must be a command line driftwatch accepts (a flag
    renamed or a choice removed since would fail on their machine, not here)."""
    shown = [(doc.name, n, c) for doc in DOCS for n, c in commands_shown(doc.read_text(encoding="utf-8"))]
    bad = [f"{name}:{n}: {command}: {refused(command)}" for name, n, command in shown if refused(command)]
    assert not bad, "commands in the docs driftwatch refuses:\n" + "\n".join(bad)
    assert len(shown) >= 50  # the walk sees the README's and docs' examples


def test_the_command_check_sees_a_wrong_flag() -> None:
    """Guards the guard: a misspelt flag in a code block or a span is caught; placeholders and
    prose around the command are not read as arguments."""
    text = (
        "```bash\ndriftwatch scan --config c.yaml --fromat json  # comment\n```\n"
        "see `driftwatch inspect --root … x`"
    )
    assert [(n, c) for n, c in commands_shown(text)] == [(2, "driftwatch scan --config c.yaml --fromat json")]
    assert "unrecognized arguments: --fromat json" in (refused(commands_shown(text)[0][1]) or "")
    assert refused("driftwatch history --config c.yaml --all --limit 5") is None
    assert refused("driftwatch run --help") is None  # argparse exits 0 for it, and says nothing on stderr


# --- metrics ---------------------------------------------------------------------------------

_SUFFIXES = re.compile(r"_(?:total|bucket|count|sum)$")


@cache
def exported_families() -> dict[str, frozenset[str]]:
    """Every metric family /metrics renders, with the labels of its samples: a real
    ``DriftwatchMetrics`` after a scan with drift, ignored drift, an error, a target error, an
    AWS call, a worker stop, the module cache and a Slack channel (what the daemon wires)."""
    from datetime import UTC, datetime

    from prometheus_client.parser import text_string_to_metric_families

    from driftwatch.aws.calls import ApiCallRecorder
    from driftwatch.metrics import DriftwatchMetrics
    from driftwatch.spec import Drift, IgnoredDrift, ScanReport, TableResult, TableStatus, TargetError

    now = datetime(2026, 1, 1, tzinfo=UTC)
    recorder = ApiCallRecorder()
    recorder.record("DescribeTable", "success", retries=1)
    metrics = DriftwatchMetrics(version="0", recorder=recorder, worker_stops=lambda: {"timeout": 0})
    row = TableResult(
        target="prod",
        address="module.orders",
        source=None,
        table_name="orders",
        region="us-east-1",
        status=TableStatus.DRIFTED,
        drift=(Drift("point_in_time_recovery", True, False),),
        ignored=(IgnoredDrift("tags.Team", "a", "b", "accepted"),),
    )
    report = ScanReport(generated_at=now, commit="c0ffee", tables=(row,), errors=(TargetError("prod", "x"),))
    metrics.scan_started(now)
    metrics.observe_scan(report, first_seen={}, result="partial", duration_seconds=1.0, started_at=now)
    metrics.observe_module_cache(held=1, limit=2, evictions=0)
    metrics.notification_channel("slack")
    metrics.observe_outbox("slack", pending=0, sent=1, dropped=0, oldest_pending=None)
    text = metrics.render().decode()
    families: dict[str, set[str]] = {
        name: set() for name in re.findall(r"^# HELP (driftwatch_\w+)", text, re.MULTILINE)
    }
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = _SUFFIXES.sub("", sample.name)
            if name in families:
                families[name].update(set(sample.labels) - {"le"})
    return {_SUFFIXES.sub("", name): frozenset(labels) for name, labels in families.items()}


def test_every_metric_the_docs_name_is_exported() -> None:
    exported = exported_families()
    for doc in (
        *DOCS,
        *sorted((ROOT / "deploy").rglob("*.yaml")),
        *sorted((ROOT / "deploy").rglob("*.json")),
    ):
        named = {
            _SUFFIXES.sub("", n) for n in re.findall(r"\bdriftwatch_[a-z_]+[a-z]", doc.read_text("utf-8"))
        }
        assert named <= set(exported), (
            f"{doc.name} names metrics /metrics does not have: {named - set(exported)}"
        )
    assert {
        "driftwatch_aws_api_retries",
        "driftwatch_module_cache_bytes",
        "driftwatch_outbox_messages",
    } <= set(exported)  # the render holds the families that appear only once wired or used


# The README's metrics table names the per-table labels once, above the table.
_TABLE_LABELS = frozenset({"target", "table", "region", "attribute"})


def readme_metrics_table() -> dict[str, frozenset[str] | None]:
    """Each metric of README.md's metrics table, with the labels written in braces after it
    (None when it is written without braces)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("| metric | meaning |", 1)[1].split("\n\n", 1)[0]
    found: dict[str, frozenset[str] | None] = {}
    for row in table.splitlines()[2:]:
        first = row.split("|")[1]
        for name, labels in re.findall(r"`(driftwatch_\w+)(?:\{([\w,]*)\})?`", first):
            found[_SUFFIXES.sub("", name)] = frozenset(labels.split(",")) if labels else None
    return found


def test_the_readme_metrics_table_lists_every_metric_with_its_labels() -> None:
    """Both ways: an exported metric missing from the table is undocumented, and the labels
    written in braces are the ones its series carry (the per-table labels named above the
    table may be left out)."""
    table, exported = readme_metrics_table(), exported_families()
    assert set(exported) - set(table) == set(), "exported metrics missing from README.md's metrics table"
    wrong = {
        name: (sorted(labels), sorted(exported[name]))
        for name, labels in table.items()
        if labels is not None and exported[name] and not (labels <= exported[name] <= labels | _TABLE_LABELS)
    }
    assert not wrong, f"README.md labels (written, exported) that disagree: {wrong}"
    assert table["driftwatch_not_watched"] == {"target", "kind"}  # the braces are read


# --- the JSON report -------------------------------------------------------------------------


def key_paths(value: object, prefix: str = "") -> set[str]:
    """Every key path in a JSON value: ``tables[].drift[].source.file``."""
    if isinstance(value, dict):
        paths = set()
        for key, item in value.items():
            paths |= {f"{prefix}{key}"} | key_paths(item, f"{prefix}{key}.")
        return paths
    if isinstance(value, list):
        return set().union(*(key_paths(item, f"{prefix.rstrip('.')}[].") for item in value))
    return set()


def test_the_readme_json_example_has_exactly_the_keys_of_a_report() -> None:
    """The README's example is the contract scripts are written against: each key it shows is
    one a report has, and each key a report has is in it (lists filled, so that their items'
    keys are compared too)."""
    import json
    from datetime import UTC, date, datetime

    from driftwatch.report.json import render_json
    from driftwatch.spec import (
        Drift,
        IgnoredDrift,
        IgnoreRule,
        NotEvaluated,
        PendingDrift,
        PendingUnavailable,
        RootNotCovered,
        ScanReport,
        SourceLocation,
        TableResult,
        TableStatus,
        TargetError,
        Unresolved,
    )

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = json.loads(
        text.split("## JSON report (stable contract)", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    here = SourceLocation("envs/prod/main.tf", 3)
    row = TableResult(
        target="prod",
        address="module.orders",
        source=here,
        table_name="orders",
        region="us-east-1",
        status=TableStatus.DRIFTED,
        drift=(Drift("point_in_time_recovery", True, False),),
        unresolved=(Unresolved("sse.kms_key_arn", "unknown"),),
        ignored=(IgnoredDrift("tags.Team", "a", "b", "accepted", date(2027, 1, 1)),),
        pending=(PendingDrift("ttl.enabled", True, False, "envs/prod/main.tf", "c0ffee", now, now),),
    )
    report = ScanReport(
        generated_at=now,
        commit="c0ffee",
        tables=(row,),
        errors=(TargetError("prod", "unexpected end of file", "envs/prod/main.tf", 40, 1),),
        expired_ignore_rules=(IgnoreRule("acme-*", "tags.Team", "migration", date(2025, 12, 1)),),
        not_evaluated=(NotEvaluated("prod", "module.queues", here, "S3"),),
        pending_unavailable=(PendingUnavailable("prod", "shallow clone"),),
        roots_not_covered=(RootNotCovered("envs/qa", here, "declares tables"),),
    )
    rendered = key_paths(json.loads(render_json(report)))
    shown = key_paths(example)
    # `pending_unavailable` is shown empty in the example and described in the text below it
    assert shown - rendered == set(), "keys the README's JSON example shows that a report does not have"
    assert rendered - shown == {"pending_unavailable[].target", "pending_unavailable[].reason"}, (
        "keys of the JSON report missing from the README's example"
    )


def test_a_partial_scan_is_what_makes_a_one_shot_scan_exit_1() -> None:
    """README.md's metrics table defines ``driftwatch_scans_total{result="partial"}`` by the
    one-shot exit code 1, and the runbook counts a module call never evaluated among what keeps
    every scan partial (so ``DriftwatchScansStale`` fires with ``DriftwatchModulesNotEvaluated``)."""
    import dataclasses
    from datetime import UTC, datetime

    from driftwatch.daemon import scan_result
    from driftwatch.spec import (
        Drift,
        NotEvaluated,
        ScanReport,
        TableResult,
        TableStatus,
        TargetError,
        Unresolved,
    )

    row = TableResult("prod", "module.t", None, "t", "us-east-1", TableStatus.IN_SYNC)
    clean = ScanReport(generated_at=datetime(2026, 1, 1, tzinfo=UTC), commit=None, tables=(row,))
    reports = [
        clean,
        dataclasses.replace(clean, not_evaluated=(NotEvaluated("prod", "module.q", None, "S3"),)),
        dataclasses.replace(clean, errors=(TargetError("prod", "unexpected end of file"),)),
        dataclasses.replace(
            clean, tables=(dataclasses.replace(row, status=TableStatus.ERROR, error="denied"),)
        ),
        dataclasses.replace(
            clean, tables=(dataclasses.replace(row, status=TableStatus.DRIFTED, drift=(Drift("x", 1, 2),)),)
        ),
        dataclasses.replace(
            clean, tables=(dataclasses.replace(row, unresolved=(Unresolved("x", "unknown"),)),)
        ),
    ]
    assert [scan_result(r) for r in reports] == [
        "success",
        "partial",
        "partial",
        "partial",
        "success",
        "success",
    ]
    assert all((scan_result(r) == "partial") == (r.exit_code == 1) for r in reports)


# --- log events ------------------------------------------------------------------------------

_LOGGED = re.compile(
    r"(?:\.(?:debug|info|warning|error|exception|critical)|warn_once)\(\s*\"([a-z][a-z0-9_]+)\""
)
# `log history_pruned`, `logged \`x\``, `log line \`x\``, `(log \`x\``, `\`x\` in the log`
_EVENT_NAMED = re.compile(
    r"\blog(?:ged|s|\s+line|\s+event)?\s+\(?`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`"
    r"|`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`\s+in\s+the\s+log"
)


def test_every_log_event_the_docs_name_is_logged() -> None:
    """An operator greps the logs for the event the docs name; a renamed event would find
    nothing while the condition it reports goes on."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "driftwatch").rglob("*.py"))
    logged = set(_LOGGED.findall(source))
    named = {
        (doc.name, m[1] or m[2])
        for doc in DOCS
        for m in _EVENT_NAMED.finditer(doc.read_text(encoding="utf-8"))
    }
    assert {event for _, event in named} >= {
        "history_pruned",
        "pending_applies_disabled",
        "slack_drift_unrouted",
    }
    missing = sorted(f"{name}: {event}" for name, event in named if event not in logged)
    assert not missing, f"log events the docs name that driftwatch never logs: {missing}"


def test_the_readme_names_every_key_of_inspects_json_view() -> None:
    """README.md describes ``inspect --format json`` key by key; a key it does not name (as
    ``not_checkable`` was) is one a user cannot know the meaning of."""
    import io
    import json

    from driftwatch.report.inspect import render_inspect
    from driftwatch.scan import declare
    from driftwatch.terraform.modules import TargetInput
    from driftwatch.terraform.parse import ParseCache

    examples = ROOT / "examples"
    target = TargetInput(
        name="prod", repo=examples, root=examples / "envs" / "prod", var_files=("prod.tfvars",), env={}
    )
    out = io.StringIO()
    render_inspect(declare([target], ParseCache()), "json", out)
    view = json.loads(out.getvalue())
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = text.split("The JSON view (not a stable contract", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`(\w+)`", paragraph))
    keys = set(view) | set(view["tables"][0]) | {"not_compared"} & set(view["tables"][0]["spec"])
    assert keys - named == set(), "keys of inspect's JSON view README.md does not name"
    assert {"not_checkable", "rejections", "not_compared"} <= keys


def test_the_readme_names_every_reason_an_episode_closes_and_every_history_json_key() -> None:
    """``resolved_reason`` is what a script reading ``driftwatch history --format json`` sees;
    README.md listed five of the seven reasons, and none of the keys."""
    from datetime import UTC, datetime

    from driftwatch.history.ledger import Episode, ResolveReason
    from driftwatch.report.history import episode_to_dict

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    bullet = re.sub(r"\s+", " ", text.split("- **History** (`state.path`", 1)[1].split("\n- **", 1)[0])
    named = set(re.findall(r"`([^`]+)`", bullet))
    assert {reason.value for reason in ResolveReason} - named == set(), "reasons README.md does not name"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    episode = Episode(
        1, "prod", "t", "x", "us-east-1", None, None, 1, 2, now, now, None, None, None, None, None
    )
    assert set(episode_to_dict(episode)) - named == set(), "history JSON keys README.md does not name"


# --- config keys named in prose ---------------------------------------------------------------

# Dotted names in the docs that start like a config key and are something else: a provider
# alias (`aws.prod`), docs/configuration.md's placeholder, a file name.
_NOT_KEYS = frozenset({"aws.prod", "targets[].x", "state.db"})


def test_every_config_key_the_docs_name_in_prose_exists() -> None:
    """docs/configuration.md's tables are checked against the model (test_config_docs.py); the
    prose of README.md and docs/ names keys too (`aws.retry_mode`, `unmanaged.alert`), and a
    renamed key would leave a reader setting one the configuration refuses."""
    from tests.test_config_docs import model_keys

    keys = set(model_keys())
    sections = sorted({key.split(".")[0].removesuffix("[]") for key in keys if "." in key})
    first = "|".join([*sections, "unmanaged"])
    named = re.compile(rf"`((?:{first})(?:\[\])?(?:\.[a-z_]+)+)`")
    unknown = []
    seen: set[str] = set()
    for doc in DOCS:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for key in named.findall(line):
                seen.add(key)
                spellings = {key, key.replace("targets.", "targets[].", 1), f"targets[].{key}"}
                if key not in _NOT_KEYS and not spellings & keys:
                    unknown.append(f"{doc.name}:{number}: {key}")
    assert not unknown, "config keys the docs name that the model does not have:\n" + "\n".join(unknown)
    assert {"aws.retry_mode", "targets[].unmanaged.alert"} <= keys
    assert {"aws.retry_mode", "unmanaged.alert"} <= seen  # the pattern finds keys in the docs' prose
