"""The CLI a new user meets: help, flags that conflict, output paths, the summary line, logs.

Pure where possible: flags are checked before any work, so most cases never reach AWS or
Terraform; the summary line is a function of the report.
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from driftwatch import cli
from driftwatch.cli import build_parser, main
from driftwatch.log import configure
from driftwatch.report.text import summary_line
from driftwatch.spec import Drift, ScanReport, TableResult, TableStatus, TargetError

REPO = Path(__file__).resolve().parents[1]
AD_HOC = ["--root", "examples/envs/prod", "--var-file", "prod.tfvars"]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    levels = {name: logging.getLogger(name).level for name in ("apscheduler", "botocore")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_subcommand_has_a_description_and_an_example() -> None:
    for name, sub in _subparsers().items():
        assert sub.description, name
        assert sub.epilog and "examples:" in sub.epilog and f"driftwatch {name}" in sub.epilog, name
        assert f"driftwatch {name}" in sub.format_help()


def test_every_flag_has_help_that_states_its_default() -> None:
    for name, sub in _subparsers().items():
        for action in sub._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                continue
            flag = f"{name} {'/'.join(action.option_strings)}"
            assert action.help, flag
            assert "default" in action.help, f"{flag}: the help does not say its default"


def test_inspect_has_no_verbose_flag(capsys: pytest.CaptureFixture[str]) -> None:
    """`inspect --verbose` meant nothing; it is now an unknown flag, not silently accepted."""
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["inspect", *AD_HOC, "--verbose"])
    assert caught.value.code == 1
    assert "unrecognized arguments: --verbose" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", *AD_HOC, "--fromat", "json"],  # a misspelt flag
        ["scan", *AD_HOC, "--format", "jsonl"],  # a value the flag does not take
        ["scna", *AD_HOC],  # a misspelt command
        [],  # no command
        ["scan", "--var"],  # a flag without its value
    ],
)
def test_a_command_line_argparse_refuses_exits_1_never_the_drift_code(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse exits 2 on a usage error, and 2 is the code of drift: a CI job or the
    CronJob's pod failure policy (exit 2: fail at once, "drift") read a misspelt flag as drift
    found. Every other problem with how driftwatch was called exits 1, as in
    ``terraform plan -detailed-exitcode`` (an unknown flag exits 1 there too)."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 1
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scan", *AD_HOC, "--target", "prod"], "--target picks targets of a config file"),
        (["inspect", *AD_HOC, "--config", "config/driftwatch.yaml"], "use either --config or --root"),
        (["scan", "--config", "config/driftwatch.yaml", "--var", "a=1"], "--var describes an ad-hoc target"),
        (
            ["scan", "--config", "config/driftwatch.yaml", "--var-file", "x", "--workspace", "w"],
            "--var-file, --workspace describe an ad-hoc target",
        ),
        (
            ["scan", "--config", "config/driftwatch.yaml", "--role-arn", "arn"],
            "describes an ad-hoc target and needs --root",
        ),
        (["scan", *AD_HOC, "--format", "json", "--verbose"], "--verbose only changes --format text"),
        (["scan", *AD_HOC, "--repo-url", "https://x", "--format", "json"], "--repo-url only changes"),
        (["demo", "--format", "json", "-v"], "--verbose only changes --format text"),
    ],
)
def test_conflicting_or_meaningless_flags_are_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setattr("driftwatch.scan.scan", _must_not_scan)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def _must_not_scan(*_: object, **__: object) -> None:
    raise AssertionError("the scan ran before the flags were checked")


@pytest.mark.parametrize(
    ("output", "message"),
    [("missing-dir/report.json", "does not exist"), (".", "is a directory")],
)
@pytest.mark.parametrize("command", ["scan", "inspect"])
def test_an_unwritable_output_path_is_refused_before_the_scan(
    command: str,
    output: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setattr("driftwatch.scan.scan", _must_not_scan)
    monkeypatch.setattr("driftwatch.scan.declare", _must_not_scan)
    path = str(tmp_path / output)
    assert main([command, *AD_HOC, "--format", "json", "-o", path]) == 1
    err = capsys.readouterr().err
    assert f"--output {path}: " in err and message in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["scan", "inspect", "validate"])
def test_a_repo_path_that_is_a_symlink_loop_is_one_line_and_exit_1(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """git-sync's symlink swapped into a loop (or a typo making one): the configuration's error,
    said in one line, and nothing is read."""
    monkeypatch.setattr("driftwatch.scan.scan", _must_not_scan)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    config = tmp_path / "driftwatch.yaml"
    config.write_text(f"repo: {tmp_path / 'a'}\ntargets:\n  - {{name: prod, root: ., region: us-east-1}}\n")
    assert main([command, "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"driftwatch: repo {tmp_path / 'a'}: a symlink loop, not a directory" in err
    assert "Traceback" not in err


def _report(*statuses: TableStatus, errors: int = 0) -> ScanReport:
    rows = tuple(
        TableResult(
            "prod",
            f"module.t{i}",
            None,
            f"t{i}",
            "us-east-1",
            status,
            error="x" if status is TableStatus.ERROR else None,
        )
        for i, status in enumerate(statuses)
    )
    target_errors = tuple(TargetError("prod", "unclosed string", "main.tf", 3, 7) for _ in range(errors))
    return ScanReport(datetime(2026, 1, 1, tzinfo=UTC), "0123456789abcdef", rows, target_errors)


@pytest.mark.parametrize(
    ("report", "line", "exit_code"),
    [
        (
            _report(TableStatus.IN_SYNC, TableStatus.DRIFTED, TableStatus.MISSING),
            "3 tables watched at 0123456789ab: 1 in sync, 1 drifted, 1 missing, 0 errors, 0 not evaluated",
            2,
        ),
        # every table errored: "watched", not "checked", and "2 errors"
        (
            _report(TableStatus.ERROR, TableStatus.ERROR),
            "2 tables watched at 0123456789ab: 0 in sync, 0 drifted, 0 missing, 2 errors, 0 not evaluated",
            1,
        ),
        # a parse error: not "0 error" while the exit code is 1
        (
            _report(TableStatus.IN_SYNC, errors=1),
            "1 table watched at 0123456789ab: 1 in sync, 0 drifted, 0 missing, 0 errors, 1 not evaluated",
            1,
        ),
        (
            _report(TableStatus.ERROR),
            "1 table watched at 0123456789ab: 0 in sync, 0 drifted, 0 missing, 1 error, 0 not evaluated",
            1,
        ),
    ],
)
def test_the_summary_line_counts_what_the_exit_code_counts(
    report: ScanReport, line: str, exit_code: int
) -> None:
    assert summary_line(report) == line
    assert report.exit_code == exit_code


def test_the_one_shot_cli_logs_no_problem_its_report_already_holds(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One line per problem: a scan's table errors are in the report, not again as log lines."""
    args = build_parser().parse_args(["scan", *AD_HOC])
    assert args.log_level == "ERROR" and not args.quiet
    configure(json_output=True, level=args.log_level)
    structlog.get_logger("driftwatch.scan").warning("autoscaling_unavailable", region="us-east-1")
    assert capsys.readouterr().err == ""


def test_quiet_raises_the_log_level_and_the_daemon_keeps_its_warnings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    levels: list[str] = []
    monkeypatch.setattr("driftwatch.log.configure", lambda **kw: levels.append(kw["level"]))
    monkeypatch.setitem(cli.COMMANDS, "run", lambda args: 0)
    monkeypatch.setitem(cli.COMMANDS, "scan", lambda args: 0)
    main(["run", "--quiet", "--log-level", "DEBUG"])
    main(["run", "--quiet", "--log-level", "ERROR"])
    main(["scan", "--quiet", "--log-level", "INFO", *AD_HOC])
    assert levels == ["WARNING", "ERROR", "ERROR"]


def test_apscheduler_routine_lines_are_not_logged(capsys: pytest.CaptureFixture[str]) -> None:
    """The daemon logs at INFO; APScheduler's "Running job ..." lines at INFO are dropped."""
    configure(json_output=True, level="INFO")
    logging.getLogger("apscheduler.executors.default").info('Running job "deliver" (trigger: interval)')
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed by 0:00:05")
    err = capsys.readouterr().err
    assert "Running job" not in err and "was missed" in err


def test_validate_pluralises(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert main(["validate", "--config", "config/driftwatch.yaml"]) == 0
    assert "2 targets, 5 tables declared, 0 errors" in capsys.readouterr().out


# A table's opening, up to its closing brace (callers add attributes, then "}\n").
_TABLE = (
    'resource "aws_dynamodb_table" "t" {\n  name = "t"\n  hash_key = "id"\n'
    '  billing_mode = "PAY_PER_REQUEST"\n  attribute {\n    name = "id"\n    type = "S"\n  }\n'
)


def _one_target(tmp_path: Path, main_tf: str, region: str | None = "us-east-1") -> Path:
    """A repository with envs/prod/main.tf and a config of one target there; the config's path."""
    root = tmp_path / "envs" / "prod"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(main_tf, encoding="utf-8")
    config = tmp_path / "driftwatch.yaml"
    where = "" if region is None else f", region: {region}"
    config.write_text(f"repo: .\ntargets:\n  - {{name: prod, root: envs/prod{where}}}\n", encoding="utf-8")
    return config


def test_validates_summary_line_counts_what_is_not_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/deploy.md has a user deploy once `driftwatch validate` reports `0 errors`. With a
    module call not evaluated it printed "0 errors" and exited 1: the line read as clean while
    the call's tables would never be watched. It counts them as inspect's line does."""
    module = 'module "queues" {\n  source = "s3::https://s3.amazonaws.com/acme/q.zip"\n}\n'
    config = _one_target(tmp_path, module + _TABLE + "}\n")
    assert main(["validate", "--config", str(config)]) == 1
    captured = capsys.readouterr()
    assert "not evaluated [prod] envs/prod/main.tf:1: module.queues" in captured.err
    summary = captured.out.strip().splitlines()[-1]
    assert summary.endswith("1 target, 1 table declared, 0 errors, 1 module call or resource not evaluated")


def test_validates_summary_line_counts_a_table_it_cannot_scan_as_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table with no region (or no name) is printed as an error and validate exits 1; its
    last line said "0 errors, 0 module calls or resources not evaluated" all the same."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    config = _one_target(tmp_path, _TABLE + "}\n", region=None)
    assert main(["validate", "--config", str(config)]) == 1
    captured = capsys.readouterr()
    assert "error [prod] aws_dynamodb_table.t: region unknown" in captured.err
    summary = captured.out.strip().splitlines()[-1]
    assert summary.endswith("1 target, 1 table declared, 1 error, 0 module calls or resources not evaluated")


def test_a_table_terraform_would_reject_fails_validate_and_is_shown_by_inspect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As README.md says: validate exits 1 and counts the rule as an error; inspect shows the
    rule under the table and keeps its exit code for what could not be evaluated."""
    config = _one_target(tmp_path, _TABLE + '  attribute {\n    name = "unused"\n    type = "S"\n  }\n}\n')
    assert main(["validate", "--config", str(config)]) == 1
    assert "1 table declared, 1 error, 0 module calls or resources not evaluated" in capsys.readouterr().out
    assert main(["inspect", "--config", str(config)]) == 0
    assert "Terraform would reject: all attributes must be indexed" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("where", ["flag", "environment"])
def test_an_unknown_log_level_is_a_usage_error_not_a_traceback(
    command: str, where: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--log-level verbose` (or DRIFTWATCH_LOG_LEVEL=verbose) ended in a ValueError traceback
    from logging; it is refused like any flag value, naming the levels the help lists."""
    argv = [command, "--config", "config/driftwatch.yaml"]
    if where == "environment":
        monkeypatch.setenv("DRIFTWATCH_LOG_LEVEL", "verbose")
    else:
        argv += ["--log-level", "verbose"]
    monkeypatch.chdir(REPO)
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "'verbose'" in err and "DEBUG, INFO, WARNING, ERROR" in err


def test_a_log_level_in_any_case_is_read() -> None:
    assert build_parser().parse_args(["validate", "--log-level", "warning"]).log_level == "WARNING"


@pytest.mark.parametrize("level", ["warn", "CRITICAL", "fatal", "NOTSET"])
def test_a_level_pythons_logging_takes_still_starts_the_daemon(
    level: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DRIFTWATCH_LOG_LEVEL=WARN or CRITICAL ran before the log level was checked (logging
    takes them); refused, a deployment that set one would stop starting at the upgrade."""
    monkeypatch.setenv("DRIFTWATCH_LOG_LEVEL", level)
    parsed = build_parser().parse_args(["run"]).log_level
    assert isinstance(logging.getLevelName(parsed), int), parsed
    assert build_parser().parse_args(["scan", "--log-level", level]).log_level == parsed


def test_an_ad_hoc_root_that_does_not_exist_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`scan --root /typo/envs/prod` outside a git checkout said "root module directory . does
    not exist": the repository defaults to the root itself, and the path was shown relative to
    it. It names the directory given."""
    missing = tmp_path / "envs" / "prdo"
    assert main(["inspect", "--root", str(missing)]) == 1
    assert f"root module directory {missing} does not exist" in capsys.readouterr().out


@pytest.mark.parametrize("grace", ["-1", "nan", "inf", "1e10"])
def test_a_grace_that_is_not_a_finite_number_of_seconds_is_refused(
    grace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run --grace -1` or `nan` was accepted and left to the shutdown's arithmetic; `1e10`,
    past what a lock's wait takes, made the shutdown at SIGTERM raise OverflowError."""
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["run", "--grace", grace])
    assert caught.value.code == 1
    assert "--grace" in capsys.readouterr().err


def test_a_grace_of_zero_seconds_is_accepted() -> None:
    assert build_parser().parse_args(["run", "--grace", "0"]).grace == 0.0
    # The longest grace accepted is one the shutdown can wait for (its lock's timeout).
    longest = build_parser().parse_args(["run", "--grace", str(threading.TIMEOUT_MAX)]).grace
    assert threading.Lock().acquire(timeout=longest)


def test_the_demos_markdown_report_does_not_claim_the_exit_code_of_a_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`driftwatch demo --format markdown` said "Exit code **2**: drift or missing tables" while
    the demo exits 0 (README: its drift is on purpose). It says what a scan of the same tables
    exits with, and what the demo does; a scan's report keeps its own line."""
    import driftwatch.demo.run

    drifted = TableResult(
        "prod",
        "module.t",
        None,
        "t",
        "us-east-1",
        TableStatus.DRIFTED,
        drift=(Drift("point_in_time_recovery", True, False),),
    )
    report = ScanReport(datetime(2026, 1, 1, tzinfo=UTC), None, (drifted,))
    monkeypatch.setattr(driftwatch.demo.run, "run_demo", lambda progress=None: report)
    out = tmp_path / "demo.md"
    assert main(["demo", "--quiet", "--format", "markdown", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Exit code **2**" not in text
    assert "`driftwatch scan` exits **2** on these tables: drift or missing tables" in text
    assert "`driftwatch demo` exits 0" in text
    from driftwatch.report.markdown import render_markdown

    assert "Exit code **2**: drift or missing tables." in render_markdown(report)
