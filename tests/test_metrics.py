"""Tests of driftwatch.metrics: what /metrics shows after each scan, parsed back from the text.

Every assertion goes through ``render()`` and the official parser, so the tests check what a
Prometheus server would actually ingest, not the collector's internals.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.metrics import DURATION_BUCKETS, DriftwatchMetrics
from driftwatch.spec import (
    Drift,
    PendingUnavailable,
    ScanReport,
    TableResult,
    TableStatus,
    TargetError,
    Unresolved,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FIRST = datetime(2025, 12, 24, 8, 30, tzinfo=UTC)

Labels = frozenset[tuple[str, str]]


def samples(metrics: DriftwatchMetrics) -> dict[tuple[str, Labels], float]:
    """Every sample of a render, keyed by (sample name, labels); fails on duplicates."""
    out: dict[tuple[str, Labels], float] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in out, f"duplicate series {key}"
            out[key] = sample.value
    return out


def series(metrics: DriftwatchMetrics, name: str) -> dict[Labels, float]:
    return {labels: value for (sample, labels), value in samples(metrics).items() if sample == name}


def lbl(**labels: str) -> Labels:
    return frozenset(labels.items())


def row(
    table: str | None,
    status: TableStatus,
    *,
    target: str = "prod",
    region: str | None = "us-east-1",
    drift: tuple[str, ...] = (),
    unresolved: tuple[str, ...] = (),
    address: str | None = None,
) -> TableResult:
    return TableResult(
        target=target,
        address=address or f"module.{table}",
        source=None,
        table_name=table,
        region=region,
        status=status,
        drift=tuple(Drift(attribute, "declared", "live") for attribute in drift),
        unresolved=tuple(Unresolved(attribute, "var has no value") for attribute in unresolved),
        error="boom" if status is TableStatus.ERROR else None,
    )


def report(
    *tables: TableResult, commit: str | None = "c0ffee", errors: tuple[TargetError, ...] = ()
) -> ScanReport:
    return ScanReport(generated_at=T0, commit=commit, tables=tables, errors=errors)


def observe(
    metrics: DriftwatchMetrics,
    scan: ScanReport | None,
    *,
    result: str = "success",
    first_seen: Mapping[tuple[str, str | None, str, str], datetime] | None = None,
    duration: float = 1.5,
    started_at: datetime = T0,
) -> None:
    metrics.observe_scan(
        scan, first_seen=first_seen or {}, result=result, duration_seconds=duration, started_at=started_at
    )


DRIFTED = report(
    row("orders", TableStatus.DRIFTED, drift=("ttl.enabled", "tags.Owner"), unresolved=("sse.kms_key_arn",)),
    row("users", TableStatus.IN_SYNC),
)


@pytest.fixture
def metrics() -> DriftwatchMetrics:
    return DriftwatchMetrics(version="1.2.3")


def test_series_per_table_and_attribute(metrics: DriftwatchMetrics) -> None:
    observe(metrics, DRIFTED)
    orders = dict(target="prod", table="orders", region="us-east-1")
    users = dict(target="prod", table="users", region="us-east-1")

    assert series(metrics, "driftwatch_table_drifted") == {lbl(**orders): 1, lbl(**users): 0}
    assert series(metrics, "driftwatch_table_unresolved_attributes") == {lbl(**orders): 1, lbl(**users): 0}
    assert series(metrics, "driftwatch_attribute_drift") == {
        lbl(**orders, attribute="ttl.enabled"): 1,
        lbl(**orders, attribute="tags.Owner"): 1,
    }


def test_fixed_drift_disappears_and_table_drifted_goes_to_zero(metrics: DriftwatchMetrics) -> None:
    observe(metrics, DRIFTED)
    observe(metrics, report(row("orders", TableStatus.IN_SYNC), row("users", TableStatus.IN_SYNC)))

    assert series(metrics, "driftwatch_attribute_drift") == {}
    assert series(metrics, "driftwatch_drift_first_seen_timestamp_seconds") == {}
    assert (
        series(metrics, "driftwatch_table_drifted")[lbl(target="prod", table="orders", region="us-east-1")]
        == 0
    )


def test_one_attribute_fixed_leaves_the_other(metrics: DriftwatchMetrics) -> None:
    observe(metrics, DRIFTED)
    observe(metrics, report(row("orders", TableStatus.DRIFTED, drift=("tags.Owner",))))

    assert set(series(metrics, "driftwatch_attribute_drift")) == {
        lbl(target="prod", table="orders", region="us-east-1", attribute="tags.Owner")
    }


def test_table_no_longer_in_report_disappears_entirely(metrics: DriftwatchMetrics) -> None:
    observe(metrics, DRIFTED)
    observe(metrics, report(row("users", TableStatus.IN_SYNC)))

    for (_, labels), _value in samples(metrics).items():
        assert ("table", "orders") not in labels


def test_status_is_one_hot_over_all_statuses(metrics: DriftwatchMetrics) -> None:
    observe(
        metrics,
        report(*(row(f"t-{status.value}", status) for status in TableStatus)),
    )
    status_series = series(metrics, "driftwatch_table_status")
    assert len(TableStatus) == 6
    assert len(status_series) == len(TableStatus) * len(TableStatus)
    for status in TableStatus:
        table = f"t-{status.value}"
        values = {
            dict(labels)["status"]: value
            for labels, value in status_series.items()
            if ("table", table) in labels
        }
        assert values == {s.value: (1 if s is status else 0) for s in TableStatus}
    drifted = {
        dict(labels)["table"]: value for labels, value in series(metrics, "driftwatch_table_drifted").items()
    }
    # Missing is drift too (git declares a table AWS does not have); error is not known to be drift;
    # pending drift and an unmanaged table of a target that did not ask for alerts do not alert.
    assert drifted == {
        "t-in_sync": 0,
        "t-drifted": 1,
        "t-missing": 1,
        "t-error": 0,
        "t-pending": 0,
        "t-unmanaged": 0,
    }


def test_first_seen_from_map_with_fallback_to_generated_at(metrics: DriftwatchMetrics) -> None:
    observe(metrics, DRIFTED, first_seen={("prod", "us-east-1", "orders", "ttl.enabled"): FIRST})
    orders = dict(target="prod", table="orders", region="us-east-1")
    assert series(metrics, "driftwatch_drift_first_seen_timestamp_seconds") == {
        lbl(**orders, attribute="ttl.enabled"): FIRST.timestamp(),
        lbl(**orders, attribute="tags.Owner"): T0.timestamp(),
    }


def test_first_seen_naive_datetime_is_utc(metrics: DriftwatchMetrics) -> None:
    naive = FIRST.replace(tzinfo=None)
    observe(metrics, DRIFTED, first_seen={("prod", "us-east-1", "orders", "ttl.enabled"): naive})
    values = series(metrics, "driftwatch_drift_first_seen_timestamp_seconds")
    assert values[lbl(target="prod", table="orders", region="us-east-1", attribute="ttl.enabled")] == (
        FIRST.timestamp()
    )


def test_first_seen_map_is_copied_not_referenced(metrics: DriftwatchMetrics) -> None:
    first_seen = {("prod", "us-east-1", "orders", "ttl.enabled"): FIRST}
    observe(metrics, DRIFTED, first_seen=first_seen)
    first_seen[("prod", "us-east-1", "orders", "ttl.enabled")] = T0 + timedelta(days=1)
    values = series(metrics, "driftwatch_drift_first_seen_timestamp_seconds")
    assert values[lbl(target="prod", table="orders", region="us-east-1", attribute="ttl.enabled")] == (
        FIRST.timestamp()
    )


def test_scans_total_starts_at_zero_and_counts_by_result(metrics: DriftwatchMetrics) -> None:
    assert series(metrics, "driftwatch_scans_total") == {
        lbl(result="success"): 0,
        lbl(result="partial"): 0,
        lbl(result="failure"): 0,
    }
    observe(metrics, DRIFTED, result="success")
    observe(metrics, DRIFTED, result="partial")
    observe(metrics, DRIFTED, result="partial")
    observe(metrics, None, result="failure")
    assert series(metrics, "driftwatch_scans_total") == {
        lbl(result="success"): 1,
        lbl(result="partial"): 2,
        lbl(result="failure"): 1,
    }


def test_no_created_series(metrics: DriftwatchMetrics) -> None:
    observe(metrics, DRIFTED)
    metrics.notification("slack", "sent")
    assert not [name for name, _ in samples(metrics) if name.endswith("_created")]


def test_unknown_result_is_rejected(metrics: DriftwatchMetrics) -> None:
    with pytest.raises(ValueError, match="result must be one of"):
        observe(metrics, DRIFTED, result="ok")


def test_duration_histogram(metrics: DriftwatchMetrics) -> None:
    for duration in (0.05, 3.0, 45.0, 3600.0):
        observe(metrics, DRIFTED, duration=duration)
    values = samples(metrics)
    assert values[("driftwatch_scan_duration_seconds_count", frozenset())] == 4
    assert values[("driftwatch_scan_duration_seconds_sum", frozenset())] == pytest.approx(3648.05)
    buckets = series(metrics, "driftwatch_scan_duration_seconds_bucket")
    by_le = {float(dict(labels)["le"]): value for labels, value in buckets.items()}
    assert sorted(by_le) == [*DURATION_BUCKETS, float("inf")]
    assert by_le[0.1] == 1
    assert by_le[5.0] == 2
    assert by_le[60.0] == 3
    assert by_le[600.0] == 3
    assert by_le[float("inf")] == 4
    assert DURATION_BUCKETS[0] <= 0.1 and DURATION_BUCKETS[-1] >= 600


def test_scan_timestamps(metrics: DriftwatchMetrics) -> None:
    values = samples(metrics)
    assert values[("driftwatch_last_scan_timestamp_seconds", frozenset())] == 0
    assert values[("driftwatch_last_successful_scan_timestamp_seconds", frozenset())] == 0

    metrics.scan_started(T0)
    assert samples(metrics)[("driftwatch_last_scan_timestamp_seconds", frozenset())] == T0.timestamp()
    observe(metrics, DRIFTED, result="success", started_at=T0)

    later = T0 + timedelta(minutes=5)
    metrics.scan_started(later)
    observe(metrics, DRIFTED, result="partial", started_at=later)
    values = samples(metrics)
    assert values[("driftwatch_last_scan_timestamp_seconds", frozenset())] == later.timestamp()
    # Partial is not success: part of the estate was not checked.
    assert values[("driftwatch_last_successful_scan_timestamp_seconds", frozenset())] == T0.timestamp()


def test_failed_scan_without_report_keeps_last_state(metrics: DriftwatchMetrics) -> None:
    observe(metrics, DRIFTED)
    before = series(metrics, "driftwatch_attribute_drift")
    observe(metrics, None, result="failure", started_at=T0 + timedelta(minutes=5))

    assert series(metrics, "driftwatch_attribute_drift") == before
    assert series(metrics, "driftwatch_repo_info") == {lbl(commit="c0ffee"): 1}
    values = samples(metrics)
    assert values[("driftwatch_scans_total", lbl(result="failure"))] == 1
    assert values[("driftwatch_scan_duration_seconds_count", frozenset())] == 2
    assert values[("driftwatch_last_successful_scan_timestamp_seconds", frozenset())] == T0.timestamp()


def test_failure_before_any_report_has_no_table_series(metrics: DriftwatchMetrics) -> None:
    observe(metrics, None, result="failure")
    assert series(metrics, "driftwatch_table_drifted") == {}
    assert series(metrics, "driftwatch_repo_info") == {}


def test_api_calls_come_from_the_recorder_at_scrape_time() -> None:
    recorder = ApiCallRecorder()
    metrics = DriftwatchMetrics(version="1.2.3", recorder=recorder)
    assert series(metrics, "driftwatch_aws_api_calls_total") == {}
    recorder.record("DescribeTable", "success")
    recorder.record("DescribeTable", "success")
    recorder.record("DescribeTable", "ResourceNotFoundException")
    recorder.record("ListTagsOfResource", "Timeout")
    # No scan observed: the counter is read from the recorder on every scrape.
    assert series(metrics, "driftwatch_aws_api_calls_total") == {
        lbl(operation="DescribeTable", outcome="success"): 2,
        lbl(operation="DescribeTable", outcome="ResourceNotFoundException"): 1,
        lbl(operation="ListTagsOfResource", outcome="Timeout"): 1,
    }


def test_notifications(metrics: DriftwatchMetrics) -> None:
    metrics.notification("slack", "sent")
    metrics.notification("slack", "sent")
    metrics.notification("slack", "failed")
    assert series(metrics, "driftwatch_notifications_total") == {
        lbl(channel="slack", outcome="sent"): 2,
        lbl(channel="slack", outcome="failed"): 1,
    }


def test_repo_info_only_latest_commit(metrics: DriftwatchMetrics) -> None:
    observe(metrics, report(row("users", TableStatus.IN_SYNC), commit="aaa111"))
    observe(metrics, report(row("users", TableStatus.IN_SYNC), commit="bbb222"))
    assert series(metrics, "driftwatch_repo_info") == {lbl(commit="bbb222"): 1}
    observe(metrics, report(row("users", TableStatus.IN_SYNC), commit=None))
    assert series(metrics, "driftwatch_repo_info") == {}


def test_build_info(metrics: DriftwatchMetrics) -> None:
    assert series(metrics, "driftwatch_build_info") == {lbl(version="1.2.3"): 1}


def test_table_counts_and_scan_errors(metrics: DriftwatchMetrics) -> None:
    observe(
        metrics,
        report(
            row("a", TableStatus.DRIFTED, drift=("billing_mode",)),
            row("b", TableStatus.IN_SYNC),
            row("c", TableStatus.IN_SYNC),
            row("d", TableStatus.MISSING, target="dev", drift=("table",)),
            errors=(
                TargetError("dev", "parse error"),
                TargetError("dev", "bad var file"),
                TargetError("qa", "x"),
            ),
        ),
    )
    tables = {
        (dict(k)["target"], dict(k)["status"]): v for k, v in series(metrics, "driftwatch_tables").items()
    }
    zero = {"pending": 0, "unmanaged": 0}  # the statuses added for real estates, zero-filled too
    assert tables == {
        ("prod", "in_sync"): 2,
        ("prod", "drifted"): 1,
        ("prod", "missing"): 0,
        ("prod", "error"): 0,
        **{("prod", status): n for status, n in zero.items()},
        ("dev", "in_sync"): 0,
        ("dev", "drifted"): 0,
        ("dev", "missing"): 1,
        ("dev", "error"): 0,
        **{("dev", status): n for status, n in zero.items()},
        ("qa", "in_sync"): 0,
        ("qa", "drifted"): 0,
        ("qa", "missing"): 0,
        ("qa", "error"): 0,
        **{("qa", status): n for status, n in zero.items()},
    }
    assert series(metrics, "driftwatch_scan_errors") == {
        lbl(target="prod"): 0,
        lbl(target="dev"): 2,
        lbl(target="qa"): 1,
    }


def test_unnamed_table_uses_address_and_empty_region(metrics: DriftwatchMetrics) -> None:
    observe(metrics, report(row(None, TableStatus.ERROR, region=None, address="module.storage.module.idx")))
    assert series(metrics, "driftwatch_table_drifted") == {
        lbl(target="prod", table="module.storage.module.idx", region=""): 0
    }


def test_duplicate_rows_merge_into_one_series(metrics: DriftwatchMetrics) -> None:
    # Two declarations of the same table must not produce duplicate series (Prometheus rejects
    # the whole scrape); the worse status wins and the drift attributes are unioned.
    observe(
        metrics,
        report(
            row("orders", TableStatus.DRIFTED, address="module.a", drift=("ttl.enabled",)),
            row("orders", TableStatus.IN_SYNC, address="module.b"),
            row("orders", TableStatus.DRIFTED, address="module.c", drift=("ttl.enabled", "billing_mode")),
        ),
    )
    key = dict(target="prod", table="orders", region="us-east-1")
    assert series(metrics, "driftwatch_table_drifted") == {lbl(**key): 1}
    assert set(series(metrics, "driftwatch_attribute_drift")) == {
        lbl(**key, attribute="ttl.enabled"),
        lbl(**key, attribute="billing_mode"),
    }


def test_own_registry_with_process_collectors_and_nothing_global() -> None:
    metrics = DriftwatchMetrics(version="9.9.9")
    names = {name for name, _ in samples(metrics)}
    assert "python_info" in names  # PlatformCollector
    assert b"driftwatch_build_info" not in generate_latest(REGISTRY)


def test_given_registry_gets_only_driftwatch_collector() -> None:
    registry = CollectorRegistry()
    metrics = DriftwatchMetrics(version="9.9.9", registry=registry)
    assert metrics.registry is registry
    names = {name for name, _ in samples(metrics)}
    assert "python_info" not in names
    assert "driftwatch_build_info" in names


def test_content_type_is_classic_text_format() -> None:
    assert DriftwatchMetrics.CONTENT_TYPE.startswith("text/plain; version=0.0.4")


def test_render_while_reports_swap_concurrently(metrics: DriftwatchMetrics) -> None:
    reports = [DRIFTED, report(row("orders", TableStatus.IN_SYNC)), report(row("x", TableStatus.MISSING))]
    errors: list[BaseException] = []

    def swap() -> None:
        try:
            for i in range(200):
                observe(metrics, reports[i % len(reports)], result="partial")
                metrics.notification("slack", "sent")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    writer = threading.Thread(target=swap)
    writer.start()
    renders = 0
    while writer.is_alive() or renders < 20:
        samples(metrics)  # parses, and fails on duplicate series
        renders += 1
    writer.join()
    assert not errors
    assert samples(metrics)[("driftwatch_scans_total", lbl(result="partial"))] == 200


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (apt-get install prometheus)"
)
def test_promtool_check_metrics_is_clean() -> None:
    recorder = ApiCallRecorder()
    recorder.record("DescribeTable", "success")
    metrics = DriftwatchMetrics(version="1.2.3", recorder=recorder)
    metrics.scan_started(T0)
    observe(
        metrics,
        report(
            *DRIFTED.tables,
            row("gone", TableStatus.MISSING, drift=("table",)),
            errors=(TargetError("dev", "x"),),
        ),
        first_seen={("prod", "us-east-1", "orders", "ttl.enabled"): FIRST},
        result="partial",
    )
    metrics.notification("slack", "sent")
    promtool = shutil.which("promtool")
    assert promtool is not None
    done = subprocess.run(
        [promtool, "check", "metrics"], input=metrics.render(), capture_output=True, timeout=30, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_large_report_series_count(metrics: DriftwatchMetrics) -> None:
    tables = 1000
    per_table = 10
    big = report(
        *(
            row(f"table-{i:04d}", TableStatus.DRIFTED, drift=tuple(f"tags.k{j}" for j in range(per_table)))
            for i in range(tables)
        )
    )
    observe(metrics, big)
    values = samples(metrics)
    count = {name: 0 for name, _ in values}
    for name, _ in values:
        count[name] += 1
    assert count["driftwatch_attribute_drift"] == tables * per_table
    assert count["driftwatch_drift_first_seen_timestamp_seconds"] == tables * per_table
    assert count["driftwatch_table_drifted"] == tables
    assert count["driftwatch_table_unresolved_attributes"] == tables
    assert count["driftwatch_table_status"] == tables * len(TableStatus)
    assert values[("driftwatch_tables", lbl(target="prod", status="drifted"))] == tables


def test_the_registry_formatted_directly_still_has_the_report_and_the_cache_follows_reports() -> None:
    """render() reuses the report's formatted families; formatting the registry directly (as a
    caller with its own HTTP server would) must still include them, and a new report replaces them."""
    from prometheus_client.registry import CollectorRegistry as Registry

    registry = Registry()
    metrics = DriftwatchMetrics(version="1", registry=registry)
    drifted = ScanReport(
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
        commit=None,
        tables=(
            TableResult(
                "prod",
                "a",
                None,
                "orders",
                "us-east-1",
                TableStatus.DRIFTED,
                drift=(Drift("ttl.enabled", True, False),),
            ),
        ),
    )
    metrics.observe_scan(
        drifted, first_seen={}, result="success", duration_seconds=1, started_at=drifted.generated_at
    )
    assert b'attribute="ttl.enabled"' in generate_latest(registry)
    assert metrics.render().count(b"# TYPE driftwatch_attribute_drift gauge") == 1
    fixed = ScanReport(
        generated_at=drifted.generated_at,
        commit=None,
        tables=(TableResult("prod", "a", None, "orders", "us-east-1", TableStatus.IN_SYNC),),
    )
    metrics.observe_scan(
        fixed, first_seen={}, result="success", duration_seconds=1, started_at=drifted.generated_at
    )
    assert b'attribute="ttl.enabled"' not in metrics.render()


def test_pending_unavailable_is_one_per_target_that_lost_it_and_zero_elsewhere(
    metrics: DriftwatchMetrics,
) -> None:
    """A shallow clone turns pending applies off for its target: the gauge says which target,
    zero-filled for the others, and it goes back to 0 when git history is there again."""
    tables = (
        row("a", TableStatus.IN_SYNC),
        row("b", TableStatus.DRIFTED, target="dev", drift=("ttl.enabled",)),
    )
    off = (PendingUnavailable("dev", "the checkout is a shallow clone"),)
    observe(metrics, replace(report(*tables), pending_unavailable=off))
    assert series(metrics, "driftwatch_pending_unavailable") == {lbl(target="dev"): 1, lbl(target="prod"): 0}
    observe(metrics, report(*tables))
    assert series(metrics, "driftwatch_pending_unavailable") == {lbl(target="dev"): 0, lbl(target="prod"): 0}
