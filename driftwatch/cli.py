"""Command-line entry points: scan, inspect, validate, demo.

Exit codes follow ``terraform plan -detailed-exitcode``: 0 everything checked and in sync,
2 drift or missing tables, 1 anything that could not be checked. Expected failures (bad
config, unreadable files) print one clear message, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console

from driftwatch import __version__
from driftwatch.config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_REGIONS,
    DEFAULT_PENDING_GRACE,
    DEFAULT_REQUESTS_PER_SECOND,
    Config,
    config_path_from,
    load_config,
    parse_duration,
)
from driftwatch.errors import DriftwatchError
from driftwatch.report.console import make_console
from driftwatch.targets import adhoc_module_settings, targets_from_config
from driftwatch.terraform.modules import TargetInput

if TYPE_CHECKING:
    from driftwatch.scan import ScanSettings
    from driftwatch.terraform.worker import Evaluator

EXIT_OK, EXIT_ERROR, EXIT_DRIFT = 0, 1, 2


class UsageError(DriftwatchError):
    """A wrong combination of flags; printed as a one-line message, exit 1."""


@dataclass
class Invocation:
    """What the flags ask for, with the config (if any) loaded and targets resolved."""

    targets: list[TargetInput]
    config: Config | None
    repo: Path


def _add_target_flags(parser: argparse.ArgumentParser, formats: Sequence[str] = ("text", "json")) -> None:
    group = parser.add_argument_group("targets (a config file, or one ad-hoc target)")
    group.add_argument(
        "--config", help="config file (default: $DRIFTWATCH_CONFIG, else config/driftwatch.yaml)"
    )
    group.add_argument(
        "--target", action="append", default=[], help="only this target of the config (repeatable)"
    )
    group.add_argument("--root", help="ad hoc: the Terraform root module directory")
    group.add_argument(
        "--repo", help="ad hoc: the repository root (default: the git checkout holding --root)"
    )
    group.add_argument(
        "--var-file", action="append", default=[], help="ad hoc: a var file, relative to --root"
    )
    group.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="ad hoc: like terraform -var"
    )
    group.add_argument(
        "--region", help="AWS region of the target's tables (default: provider block, then AWS_REGION)"
    )
    group.add_argument("--workspace", default="default", help="value of terraform.workspace")
    group.add_argument("--role-arn", help="ad hoc: assume this IAM role for the AWS calls")
    group.add_argument("--external-id", help="ad hoc: the ExternalId of that AssumeRole")
    parser.add_argument("--format", choices=list(formats), default="text")
    parser.add_argument("--output", "-o", help="write the report to this file instead of stdout")
    parser.add_argument("--verbose", "-v", action="store_true", help="also list tables that are in sync")
    parser.add_argument("--log-level", default=os.environ.get("DRIFTWATCH_LOG_LEVEL", "WARNING"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="driftwatch", description="Detect drift between DynamoDB tables declared in Terraform and AWS."
    )
    parser.add_argument("--version", action="version", version=f"driftwatch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    scan = commands.add_parser(
        "scan", help="compare declared tables with AWS once; exit 0 / 2 (drift) / 1 (error)"
    )
    _add_target_flags(scan, formats=("text", "json", "sarif"))
    scan.add_argument(
        "--parity", choices=["default", "strict"], help="strict: agree with terraform plan exactly"
    )
    scan.add_argument(
        "--pending-grace",
        type=_duration,
        metavar="DURATION",
        help="a merged change not applied yet is pending, not drift, for this long after its commit "
        "(default: the config's pending_grace, else 30m; 0 turns it off)",
    )
    scan.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    inspect = commands.add_parser(
        "inspect", help="show the tables as driftwatch resolves them (no AWS calls)"
    )
    _add_target_flags(inspect)
    validate = commands.add_parser("validate", help="check the config file and that every target evaluates")
    validate.add_argument("--config", help="config file")
    validate.add_argument("--log-level", default="WARNING")
    run = commands.add_parser(
        "run", help="the daemon: scheduled scans, /metrics /healthz /readyz, Slack alerts"
    )
    run.add_argument(
        "--config", help="config file (default: $DRIFTWATCH_CONFIG, else config/driftwatch.yaml)"
    )
    run.add_argument("--log-level", default=os.environ.get("DRIFTWATCH_LOG_LEVEL", "INFO"))
    run.add_argument("--log-format", choices=["auto", "json", "console"], default="auto")
    run.add_argument(
        "--grace", type=float, default=60.0, help="seconds a running scan may take after SIGTERM"
    )
    history = commands.add_parser(
        "history", help="list open and recent drift episodes from the state database"
    )
    history.add_argument("--config", help="config file (for state.path)")
    history.add_argument("--all", action="store_true", help="also resolved episodes")
    history.add_argument("--limit", type=int, default=50)
    history.add_argument("--format", choices=["text", "json"], default="text")
    history.add_argument("--log-level", default="WARNING")
    demo = commands.add_parser(
        "demo", help="scan the bundled examples against an embedded, offline AWS (moto)"
    )
    demo.add_argument("--format", choices=["text", "json", "sarif"], default="text")
    demo.add_argument("--output", "-o")
    demo.add_argument("--verbose", "-v", action="store_true")
    demo.add_argument("--log-level", default="WARNING")
    return parser


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var {pair!r}: expected NAME=VALUE")
        values[name.strip()] = value
    return values


def _find_repo(root: Path) -> Path:
    for candidate in (root, *root.parents):
        if (candidate / ".git").exists():
            return candidate
    cwd = Path.cwd().resolve()
    return cwd if cwd == root or cwd in root.parents else root


def resolve_invocation(args: argparse.Namespace) -> Invocation:
    config_path = config_path_from(args.config) if not args.root else None
    if args.root and args.config:
        raise UsageError("use either --config or --root, not both")
    if config_path is None:
        if not args.root:
            raise UsageError("no config file found: pass --config FILE, or --root DIR for one ad-hoc target")
        root = Path(args.root).resolve()
        repo = Path(args.repo).resolve() if args.repo else _find_repo(root)
        if args.external_id and not args.role_arn:
            raise UsageError("--external-id is only used with --role-arn")
        grace = getattr(args, "pending_grace", None)
        target = TargetInput(
            name=root.name,
            repo=repo,
            root=root,
            var_files=tuple(args.var_file),
            vars=_parse_vars(args.var),
            workspace=args.workspace,
            region=args.region,
            role_arn=args.role_arn,
            external_id=args.external_id,
            pending_grace=grace if grace is not None else DEFAULT_PENDING_GRACE,
            modules=adhoc_module_settings(os.environ),
        )
        return Invocation([target], None, repo)
    if args.role_arn or args.external_id:
        raise UsageError("--role-arn and --external-id are ad-hoc flags; set role_arn in the config")
    config, base = load_config(config_path)
    targets = targets_from_config(
        config, base, args.target, args.region, pending_grace=getattr(args, "pending_grace", None)
    )
    return Invocation(targets, config, config.repo_path(base))


def _open_output(path: str | None) -> TextIO:
    return open(path, "w", encoding="utf-8") if path else sys.stdout


def command_scan(args: argparse.Namespace) -> int:
    from driftwatch.aws.clients import AwsClients
    from driftwatch.gitinfo import head_commit, is_dirty
    from driftwatch.scan import DEFAULT_SCAN_TIMEOUT_SECONDS, ScanSettings, scan

    invocation = resolve_invocation(args)
    config = invocation.config
    parity = args.parity or (config.terraform_parity if config else "default")
    aws = config.aws if config else None
    settings = ScanSettings(
        parity=parity,
        concurrency=aws.concurrency if aws else DEFAULT_CONCURRENCY,
        ignore=config.ignore_rules() if config else (),
        scan_timeout=aws.scan_timeout.total_seconds() if aws else DEFAULT_SCAN_TIMEOUT_SECONDS,
        max_regions=aws.max_regions if aws else DEFAULT_MAX_REGIONS,
    )
    clients = AwsClients(
        max_attempts=aws.max_attempts if aws else 5,
        connect_timeout=aws.connect_timeout if aws else 5,
        read_timeout=aws.read_timeout if aws else 15,
        max_pool_connections=max(16, settings.concurrency),
        max_requests_per_second=aws.max_requests_per_second if aws else DEFAULT_REQUESTS_PER_SECOND,
        request_burst=settings.concurrency,
    )
    show_progress = args.format == "text" and not args.output and sys.stderr.isatty() and not args.no_progress
    with _progress_bar(settings) if show_progress else contextlib.nullcontext():
        report = scan(
            invocation.targets,
            clients,
            cache=_parse_cache(config),
            settings=settings,
            commit=head_commit(invocation.repo),
            dirty=is_dirty(invocation.repo) is True,
        )
    _write_report(report, args)
    return report.exit_code


@contextlib.contextmanager
def _progress_bar(settings: ScanSettings) -> Iterator[None]:
    """A transient progress bar on stderr, fed by the scan's (done, total) callback."""
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("reading tables", total=None)
        settings.progress = lambda done, total: progress.update(task, completed=done, total=total)
        yield


def _parse_cache(config: Config | None) -> Evaluator:
    """Where targets are evaluated: the bounded worker process (driftwatch.terraform.worker),
    with the config's ``parse`` limits (the defaults without a config)."""
    from driftwatch.config import ParseConfig
    from driftwatch.terraform.worker import shared_worker

    return shared_worker((config.parse if config else ParseConfig()).worker_options())


def _write_report(report: Any, args: argparse.Namespace) -> None:
    from driftwatch.report.json import render_json
    from driftwatch.report.sarif import render_sarif
    from driftwatch.report.text import render_text

    out = _open_output(args.output)
    try:
        if args.format == "json":
            out.write(render_json(report))
        elif args.format == "sarif":
            out.write(render_sarif(report))
        else:
            render_text(report, make_console(out), verbose=args.verbose)
    finally:
        if out is not sys.stdout:
            out.close()


def command_inspect(args: argparse.Namespace) -> int:
    from driftwatch.report.inspect import render_inspect
    from driftwatch.scan import declare

    invocation = resolve_invocation(args)
    declared = declare(invocation.targets, _parse_cache(invocation.config))
    out = _open_output(args.output)
    try:
        render_inspect(declared, args.format, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return EXIT_ERROR if declared.errors or declared.early or declared.not_evaluated else EXIT_OK


def command_validate(args: argparse.Namespace) -> int:
    from driftwatch.scan import declare

    config_path = config_path_from(args.config)
    if config_path is None:
        raise UsageError("no config file found: pass --config FILE")
    config, base = load_config(config_path)
    evaluator = _parse_cache(config)
    declared = declare(targets_from_config(config, base), evaluator)
    for error in declared.errors:
        where = f"{error.location}: " if error.location else ""
        print(f"error [{error.target}] {where}{error.message}", file=sys.stderr)
    for row in declared.early:
        print(f"error [{row.target}] {row.address}: {row.error}", file=sys.stderr)
    for item in declared.not_evaluated:
        where = f"{item.source}: " if item.source else ""
        print(f"not evaluated [{item.target}] {where}{item.address}: {item.reason}", file=sys.stderr)
    # Rules Terraform rejects whatever the live table is (the others depend on it: see scan).
    rejected = [(job, r) for job in declared.jobs for r in job.table.rejections if r.when == "always"]
    for job, rule in rejected:
        where = f"{job.table.source}: {job.table.address}"
        message = f"Terraform would reject: {rule.message} [{rule.rule}]"
        print(f"error [{job.target}] {where}: {message}", file=sys.stderr)
    _print_rule_expiry(config)
    _print_pending_unavailable(targets_from_config(config, base), evaluator)
    tables = len(declared.jobs) + len(declared.early)
    errors = len(declared.errors) + len(rejected)
    print(f"{config_path}: {len(config.targets)} targets, {tables} tables declared, {errors} errors")
    return EXIT_ERROR if declared.errors or declared.early or declared.not_evaluated or rejected else EXIT_OK


def _print_pending_unavailable(targets: Sequence[TargetInput], evaluator: Evaluator) -> None:
    """Targets whose pending applies are off because the history cannot be read (a warning:
    their drift is reported at once, which is safe, but a fresh merge will alert)."""
    from driftwatch.baseline import unavailable

    for name, reason in unavailable(targets, evaluator, datetime.now(UTC)).items():
        print(f"pending applies [{name}]: off, drift alerts at once: {reason}")


RULE_EXPIRY_WARNING = timedelta(days=14)


def _print_rule_expiry(config: Config, now: datetime | None = None) -> None:
    """List ignore rules that expired, and those that expire within 14 days."""
    now = now or datetime.now(UTC)
    for index, rule in enumerate(config.ignore_rules()):
        expires = rule.expires_at()
        if expires is None or expires - now > RULE_EXPIRY_WARNING:
            continue
        if rule.expired(now):
            print(f"ignore.{index}: expired on {rule.until}, no longer applied: {rule.describe()}")
        else:
            days = math.ceil((expires - now) / timedelta(days=1))
            when = "within a day" if days <= 1 else f"in {days} days"
            print(f"ignore.{index}: expires on {rule.until} ({when}): {rule.describe()}")


def command_demo(args: argparse.Namespace) -> int:
    from driftwatch.demo.run import run_demo

    report = run_demo(progress=Console(stderr=True, highlight=False))
    _write_report(report, args)
    # The demo succeeds when it ran: its drift is on purpose.
    return EXIT_OK if not report.errors and not any(r.error for r in report.tables) else EXIT_ERROR


def _config_or_fail(argument: str | None) -> tuple[Config, Path]:
    config_path = config_path_from(argument)
    if config_path is None:
        raise UsageError("no config file found: pass --config FILE or set DRIFTWATCH_CONFIG")
    return load_config(config_path)


def command_run(args: argparse.Namespace) -> int:
    from driftwatch.daemon import Daemon

    config, base = _config_or_fail(args.config)
    try:
        daemon = Daemon(config, base)
    except OSError as error:
        raise UsageError(str(error)) from None
    return daemon.run(grace_seconds=args.grace)


def command_history(args: argparse.Namespace) -> int:
    from driftwatch.history import History
    from driftwatch.report.history import render_history

    config, _ = _config_or_fail(args.config)
    path = Path(config.state.path)
    if not path.is_file():
        raise UsageError(f"{path}: no state database yet (the daemon creates it on its first scan)")
    history = History.open(path)
    try:
        episodes = history.episodes(open_only=not args.all, limit=args.limit)
    finally:
        history.close()
    render_history(episodes, args.format, sys.stdout)
    return EXIT_OK


COMMANDS = {
    "scan": command_scan,
    "inspect": command_inspect,
    "validate": command_validate,
    "demo": command_demo,
    "run": command_run,
    "history": command_history,
}


def main(argv: Sequence[str] | None = None) -> int:
    from driftwatch import log

    args = build_parser().parse_args(argv)
    log_format = getattr(args, "log_format", "auto")
    log.configure(json_output=None if log_format == "auto" else log_format == "json", level=args.log_level)
    try:
        return COMMANDS[args.command](args)
    except DriftwatchError as error:  # ConfigError, UsageError, HistoryError, SlackConfigError, ...
        print(f"driftwatch: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
