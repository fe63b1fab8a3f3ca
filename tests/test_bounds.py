"""Content bounds: strings that leave a scan, regions per scan, files per target, AWS limits.

Every case of issue 11's "bounded by content" and "invalid text" items that is not a corpus
case (tests/corpus/) is here, as a unit test of the module that enforces it.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftwatch.bounds import MAX_TEXT, bounded, safe_text
from driftwatch.history import History
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.report.json import render_json
from driftwatch.report.text import render_text
from driftwatch.scan import declare
from driftwatch.spec import (
    DeclaredTable,
    Drift,
    Lsi,
    ScanReport,
    SourceLocation,
    TableResult,
    TableSpec,
    TableStatus,
    TagFilter,
    TargetError,
)
from driftwatch.terraform import modules
from driftwatch.terraform.modules import TargetDeclarations, TargetInput
from driftwatch.terraform.parse import ParseCache
from driftwatch.terraform.vet import table_problem, vet_declarations

GOOD = (Path(__file__).resolve().parent / "corpus" / "empty_file" / "root" / "good.tf").read_text()
HUGE = "x" * 512 * 1024
LONE = "corpus-\ud800"  # format("%c", 55296)
ESCAPED_BYTE = "bad\udcff.tf"  # a file name with the byte 0xFF, as os.listdir gives it


def test_safe_text_escapes_and_cuts() -> None:
    assert safe_text("plain") == "plain"
    assert safe_text(LONE) == "corpus-\\ud800"
    assert safe_text(ESCAPED_BYTE) == "bad\\xff.tf"
    cut = safe_text(HUGE)
    assert len(cut) == MAX_TEXT and cut.endswith("(524,288 characters)")


def _hostile_report() -> ScanReport:
    row = TableResult(
        target="prod",
        address=f'aws_dynamodb_table.t["{HUGE}"]',
        source=SourceLocation(ESCAPED_BYTE, 1),
        table_name=LONE,
        region="us-east-1",
        status=TableStatus.DRIFTED,
        drift=(Drift(f"tags.{LONE}", HUGE, LONE),),
    )
    error = TargetError("prod", f"cannot parse: {HUGE}", ESCAPED_BYTE, 3)
    return ScanReport(datetime.now(UTC), None, (row,), (error,))


def test_a_bounded_report_is_written_to_history_metrics_and_text(tmp_path: Path) -> None:
    """Lone surrogates and 512 KiB strings made every history write fail and /metrics answer
    500; bounded, every output takes them and stays small."""
    report = bounded(_hostile_report())
    history = History.open(tmp_path / "state.db")
    try:
        history.record_scan(report, datetime.now(UTC))
        history.record_scan(report, datetime.now(UTC))  # the same drift again: still one episode
    finally:
        history.close()
    metrics = DriftwatchMetrics(version="test")
    metrics.observe_scan(
        report, first_seen={}, result="partial", duration_seconds=1.0, started_at=datetime.now(UTC)
    )
    body = metrics.render()
    assert b"corpus-\\\\ud800" in body and len(body) < 64 * 1024
    assert len(render_json(report)) < 16 * 1024
    from io import StringIO

    from driftwatch.report.console import make_console

    out = StringIO()
    render_text(report, make_console(out), verbose=True)
    assert "corpus-\\ud800" in out.getvalue()


def test_without_bounds_the_history_refuses_a_lone_surrogate(tmp_path: Path) -> None:
    """What the bound is for (so the test above proves something)."""
    history = History.open(tmp_path / "state.db")
    try:
        with pytest.raises(Exception, match=r"surrogate|encode"):
            history.record_scan(_hostile_report(), datetime.now(UTC))
    finally:
        history.close()


def _declared(spec: TableSpec, address: str = "aws_dynamodb_table.t") -> DeclaredTable:
    return DeclaredTable(address, SourceLocation("main.tf", 1), spec)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (TableSpec(name="n" * 256), "the table name is 256 characters long; AWS allows at most 255"),
        (TableSpec(name="t", tags={"k" * 129: "v"}), "is 129 characters long; AWS allows 1 to 128"),
        (TableSpec(name="t", tags={"Team": "v" * 257}), "the value of tag 'Team' is 257 characters"),
        (TableSpec(name="t", tags={"Team": LONE}), "invalid text (a lone surrogate) in tags.Team"),
        (TableSpec(name=LONE), "invalid text (a lone surrogate) in name"),
        (TableSpec(name="t", region="x" * 40), "is not an AWS region name"),
        (TableSpec(name="t", hash_key="h" * 256), "the hash_key attribute name is 256 characters long"),
        # `tags = { for i in range(100000) : "k${i}" => "v" }`: one line made 100,000 drift items
        # a scan, each a `driftwatch_attribute_drift` series and a history row; AWS refuses it.
        (
            TableSpec(name="t", tags={f"k{i}": "v" for i in range(100_000)}),
            "declares 100,000 tags; DynamoDB allows at most 50 a table",
        ),
        (TableSpec(name="t", tags={f"k{i}": "v" for i in range(51)}), "declares 51 tags"),
        (
            TableSpec(name="t", lsis=tuple(Lsi(f"l{i}", "r") for i in range(10_000))),
            "declares 10,000 local secondary indexes; DynamoDB allows at most 5 a table",
        ),
    ],
)
def test_values_aws_forbids_are_a_table_problem(spec: TableSpec, problem: str) -> None:
    found = table_problem(_declared(spec))
    assert found is not None and problem in found


def test_a_refused_table_keeps_only_a_short_safe_name() -> None:
    table = _declared(TableSpec(name=HUGE, region="us-east-1", tags={"a": "b"}), f"x[{HUGE}]")
    (refused,) = vet_declarations(TargetDeclarations(tables=[table]), "prod").tables
    assert refused.problem is not None and "524,288 characters" in refused.problem
    assert isinstance(refused.spec.name, str) and len(refused.spec.name) <= 80
    assert len(refused.address) <= MAX_TEXT and refused.spec.tags == {}
    assert table_problem(_declared(TableSpec(name="acme-prod-orders", tags={"Team": "x"}))) is None
    fifty = {f"k{i}": "v" for i in range(50)}
    assert table_problem(_declared(TableSpec(name="acme-prod-orders", tags=fifty))) is None
    five = tuple(Lsi(f"l{i}", "r") for i in range(5))
    assert table_problem(_declared(TableSpec(name="acme-prod-orders", lsis=five))) is None


def test_the_tag_limit_counts_what_the_provider_sends_at_create() -> None:
    """At create the provider sends default_tags merged under the resource's tags with only
    the ``aws:`` keys dropped (IgnoreSystem), not the keys of its ``ignore_tags``: those count.
    Keys differing only in case are distinct tags in AWS and count twice."""
    declared = {f"k{i}": "v" for i in range(45)} | {f"managed-by-ci/{i}": "v" for i in range(10)}
    ignoring = TagFilter(key_prefixes=("managed-by-ci/",))
    found = table_problem(_declared(TableSpec(name="acme-prod-orders", tags=declared, ignore_tags=ignoring)))
    assert found is not None and "declares 55 tags" in found
    cased = {f"k{i}": "v" for i in range(26)} | {f"K{i}": "v" for i in range(25)}
    found = table_problem(_declared(TableSpec(name="acme-prod-orders", tags=cased)))
    assert found is not None and "declares 51 tags" in found
    reserved = {f"k{i}": "v" for i in range(50)} | {"aws:cloudformation:stack-name": "s"}
    assert table_problem(_declared(TableSpec(name="acme-prod-orders", tags=reserved))) is None


def _target(tmp_path: Path, name: str, region: str) -> TargetInput:
    root = tmp_path / name
    root.mkdir()
    (root / "good.tf").write_text(GOOD.replace("corpus-good", f"corpus-{name}"))
    return TargetInput(name=name, repo=tmp_path, root=root, region=region, env={})


def test_regions_per_scan_are_capped(tmp_path: Path) -> None:
    """1,000 made-up regions were 1,985 threads: past aws.max_regions, tables are errors."""
    targets = [_target(tmp_path, f"t{i}", f"xx-fake-{i}") for i in range(4)]
    declared = declare(targets, ParseCache(), max_regions=2)
    assert sorted(job.region for job in declared.jobs) == ["xx-fake-0", "xx-fake-1"]
    assert [row.error for row in declared.early] == [
        f"the scan already reads 2 regions (aws.max_regions); tables in xx-fake-{i} are not read"
        for i in (2, 3)
    ]
    assert all(row.status is TableStatus.ERROR for row in declared.early)


def test_files_per_target_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """60,000 tiny .tf files held 492 MB: past MAX_TARGET_FILES the rest are not read."""
    monkeypatch.setattr(modules, "MAX_TARGET_FILES", 20)
    target = _target(tmp_path, "many", "us-east-1")
    for index in range(40):
        (target.root / f"x{index:02d}.tf").write_text(f"locals {{\n  a{index} = {index}\n}}\n")
    declared = declare([target], ParseCache())
    assert [job.name for job in declared.jobs] == ["corpus-many"]  # good.tf sorts first
    (error,) = declared.errors
    assert "more than 20 Terraform files" in error.message and error.file == "many/x19.tf"


def test_a_table_refused_by_vet_is_an_error_row_without_aws(tmp_path: Path) -> None:
    target = _target(tmp_path, "long", "us-east-1")
    (target.root / "good.tf").write_text(GOOD.replace("corpus-good", "n" * 300))
    declared = declare([target], ParseCache())
    assert declared.jobs == []
    (row,) = declared.early
    assert row.status is TableStatus.ERROR and row.error is not None and "300 characters" in row.error
    assert row.table_name is not None and len(row.table_name) <= 80


def test_bytes_per_target_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Var files are not token-counted: what a target reads is bounded in bytes too."""
    monkeypatch.setattr(modules, "MAX_TARGET_BYTES", 4096)
    target = _target(tmp_path, "heavy", "us-east-1")
    for index in range(10):
        (target.root / f"v{index}.auto.tfvars.json").write_text('{"x": "' + "y" * 1000 + '"}')
    declared = declare([target], ParseCache())
    assert [job.name for job in declared.jobs] == ["corpus-heavy"]
    (error,) = declared.errors
    assert "more than 4,096 bytes" in error.message and error.file == "heavy/v4.auto.tfvars.json"


def test_targets_not_started_by_the_scan_deadline_are_errors(tmp_path: Path) -> None:
    """Many targets each taking their whole parse.max_seconds cannot hold a scan forever."""
    from driftwatch.scan import Deadline

    now = [0.0]
    deadline = Deadline(10, clock=lambda: now[0])
    first, second = (
        dataclasses.replace(_target(tmp_path, name, "us-east-1"), allow_empty=True)
        for name in ("first", "second")
    )

    class Slow:
        def declare(self, target: TargetInput, fn: object = None) -> TargetDeclarations:
            now[0] += 11  # this evaluation used up the scan's deadline
            return TargetDeclarations()

        def call(self, fn: object, target: TargetInput) -> object:
            raise NotImplementedError

        def close(self) -> None:
            pass

    declared = declare([first, second], Slow(), deadline=deadline)  # type: ignore[arg-type]
    (error,) = declared.errors
    assert error.target == "second"
    assert error.message == "not evaluated: scan deadline of 10 s exceeded before this target was evaluated"
