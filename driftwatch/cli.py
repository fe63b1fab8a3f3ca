"""Command-line entry points: scan, inspect, validate, demo.

Exit codes follow ``terraform plan -detailed-exitcode``: 0 everything checked and in sync,
2 drift or missing tables, 1 anything that could not be checked. Expected failures (bad
config, unreadable files) print one clear message, never a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import math
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from driftwatch.errors import DriftwatchError

# The configuration (pydantic), the targets and everything else are imported by the commands
# that use them, not here: ``main`` first starts the evaluation worker
# (driftwatch.terraform.launch) so that its start-up overlaps with those imports.
if TYPE_CHECKING:
    from driftwatch.config import Config
    from driftwatch.scan import ScanSettings
    from driftwatch.terraform.roots import RepoSurvey
    from driftwatch.terraform.target import TargetInput
    from driftwatch.terraform.worker import Evaluator, WorkerEvaluator

EXIT_OK, EXIT_ERROR, EXIT_DRIFT = 0, 1, 2


class UsageError(DriftwatchError):
    """A wrong combination of flags; printed as a one-line message, exit 1."""


@dataclass
class Invocation:
    """What the flags ask for, with the config (if any) loaded and targets resolved."""

    targets: list[TargetInput]
    config: Config | None
    repo: Path
    survey: RepoSurvey | None = None  # a configuration's repository survey (not ad-hoc --root)
    sync_error_file: Path | None = None  # the configuration's repo_sync_error_file


class _VersionAction(argparse.Action):
    """``--version``: the installed version is looked up only when asked for (importlib.metadata
    costs every other command ~15 ms of start-up)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show program's version number and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from driftwatch import __version__

        print(f"driftwatch {__version__}")
        parser.exit()


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, except that a command line it refuses exits 1, not argparse's 2.

    2 is the exit code of drift: a CI job or the CronJob's pod failure policy would read a
    misspelt flag as drift found. A usage error is "could not check" like every other problem
    with how driftwatch was called (a conflicting flag, a missing config), and ``terraform
    plan -detailed-exitcode`` exits 1 on an unknown flag too. Subparsers inherit the class.
    """

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of descriptions and examples (argparse would refill them)."""


_CONFIG_HELP = "config file (default: $DRIFTWATCH_CONFIG, else config/driftwatch.yaml if present)"
_LOG_LEVEL_HELP = "log level of the log lines on stderr: DEBUG, INFO, WARNING, ERROR (default: {default})"
# The one-shot commands put every problem in their report; log lines are for the daemon, so
# by default they log only what the report cannot hold (a crash inside driftwatch).
_ONE_SHOT_LOG_LEVEL = "ERROR"


def _subcommand(
    commands: Any, name: str, summary: str, description: str, examples: str
) -> argparse.ArgumentParser:
    return commands.add_parser(  # type: ignore[no-any-return]
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + "\n".join(f"  {line}" for line in examples.strip().splitlines()),
        formatter_class=_HelpFormatter,
    )


def _seconds(value: str) -> float:
    """A finite number of seconds, 0 or more (``--grace``): ``-1`` or ``nan`` would be left to
    the shutdown's arithmetic, and more than a lock's wait takes (``threading.TIMEOUT_MAX``,
    292 years) made the shutdown at SIGTERM raise OverflowError."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: give a number of seconds, 0 or more")
    if seconds > threading.TIMEOUT_MAX:
        raise argparse.ArgumentTypeError(f"{value!r}: give at most {threading.TIMEOUT_MAX:.0f} seconds")
    return seconds


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Python's other names for its levels: logging took them before the level was checked, so a
# deployment may set DRIFTWATCH_LOG_LEVEL=WARN or CRITICAL; refusing them would stop it starting.
_LOG_LEVEL_ALIASES = ("WARN", "CRITICAL", "FATAL", "NOTSET")


def _log_level(value: str) -> str:
    """A level the help lists (or one of Python's other names for its levels), in any case;
    anything else is a usage error (logging would raise a ValueError, a traceback, when the
    level is set). Also checks ``$DRIFTWATCH_LOG_LEVEL``: argparse runs a string default
    through this too."""
    level = value.strip().upper()
    if level not in _LOG_LEVELS + _LOG_LEVEL_ALIASES:
        raise argparse.ArgumentTypeError(f"{value!r} is not a log level: {', '.join(_LOG_LEVELS)}")
    return level


def _add_log_flags(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--log-level",
        type=_log_level,
        default=os.environ.get("DRIFTWATCH_LOG_LEVEL", default),
        help=_LOG_LEVEL_HELP.format(default=f"$DRIFTWATCH_LOG_LEVEL, else {default}"),
    )
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no log lines below ERROR and no progress bar: only the report (default: off)",
    )


def _add_output_flags(parser: argparse.ArgumentParser, formats: Sequence[str], verbose: bool) -> None:
    parser.add_argument(
        "--format",
        choices=list(formats),
        default="text",
        help=f"report format: {', '.join(formats)} (default: text)",
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write the report to FILE (its directory must exist) instead of stdout (default: stdout)",
    )
    if verbose:
        parser.add_argument(
            "--verbose",
            "-v",
            action="store_true",
            help="with --format text: also list the tables that are in sync (default: off)",
        )


def _add_target_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "targets", "either a config file (with --target to pick some) or one ad-hoc target (--root ...)"
    )
    group.add_argument("--config", metavar="FILE", help=_CONFIG_HELP)
    group.add_argument(
        "--target",
        metavar="NAME",
        action="append",
        default=[],
        help="with a config: only this target (repeatable; default: every target)",
    )
    group.add_argument(
        "--root", metavar="DIR", help="ad hoc: the Terraform root module directory (default: none)"
    )
    group.add_argument(
        "--repo",
        metavar="DIR",
        help="ad hoc: the repository root (default: the git checkout holding --root)",
    )
    group.add_argument(
        "--var-file",
        metavar="FILE",
        action="append",
        default=[],
        help="ad hoc: a var file, relative to --root; repeatable, applied in order (default: none)",
    )
    group.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="ad hoc: like terraform -var; repeatable (default: none)",
    )
    group.add_argument(
        "--region",
        help="AWS region of the tables whose provider block sets none, as AWS_REGION is for "
        "Terraform; a provider's own region wins (default: the target's region, else AWS_REGION)",
    )
    group.add_argument(
        "--workspace",
        metavar="NAME",
        help="ad hoc: value of terraform.workspace (default: $TF_WORKSPACE, else default)",
    )
    group.add_argument(
        "--role-arn", metavar="ARN", help="ad hoc: assume this IAM role for the AWS calls (default: none)"
    )
    group.add_argument(
        "--external-id", metavar="ID", help="ad hoc: the ExternalId of that AssumeRole (default: none)"
    )


# Flags that describe the one ad-hoc target: meaningless with a config file.
_AD_HOC_FLAGS = {
    "repo": "--repo",
    "var_file": "--var-file",
    "var": "--var",
    "workspace": "--workspace",
    "role_arn": "--role-arn",
    "external_id": "--external-id",
}


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="driftwatch",
        description="Detect drift between the DynamoDB tables declared in Terraform (git) and AWS.",
        epilog="examples:\n  driftwatch demo\n  driftwatch scan --config config/driftwatch.yaml\n"
        "  driftwatch scan --root envs/prod --var-file prod.tfvars\n\n"
        "`driftwatch COMMAND --help` describes each command.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    scan = _subcommand(
        commands,
        "scan",
        "compare declared tables with AWS once; exit 0 / 2 (drift) / 1 (error)",
        "Evaluate the Terraform configuration, read the live tables with read-only AWS calls and\n"
        "report every difference. Exit code: 0 everything checked and in sync, 2 drift or missing\n"
        "tables, 1 something could not be checked (a parse error, an AWS error).",
        """
driftwatch scan --config config/driftwatch.yaml --target prod
driftwatch scan --root envs/prod --var-file prod.tfvars --region us-east-1
driftwatch scan --config driftwatch.yaml --format markdown -o "$GITHUB_STEP_SUMMARY"
""",
    )
    _add_target_flags(scan)
    _add_output_flags(scan, ("text", "json", "sarif", "markdown"), verbose=True)
    scan.add_argument(
        "--repo-url",
        metavar="URL",
        help="with --format markdown: link file:line into this repository at the scanned commit "
        "(e.g. https://github.com/acme/infra; default: the config's slack.repo_url, else no links)",
    )
    scan.add_argument(
        "--parity",
        choices=["default", "strict"],
        help="strict: agree with terraform plan exactly (default: the config's terraform_parity, "
        "else default)",
    )
    scan.add_argument(
        "--pending-grace",
        type=_duration,
        metavar="DURATION",
        help="a merged change not applied yet is pending, not drift, for this long after its commit "
        "(default: the config's pending_grace, else 30m; 0 turns it off)",
    )
    scan.add_argument(
        "--no-progress", action="store_true", help="no progress bar, even on a terminal (default: off)"
    )
    _add_log_flags(scan, _ONE_SHOT_LOG_LEVEL)
    inspect = _subcommand(
        commands,
        "inspect",
        "show the tables as driftwatch resolves them (no AWS calls)",
        "Print every declared table as driftwatch evaluated it (keys, capacity, TTL, GSIs, tags,\n"
        "autoscaling...), and each value it could not resolve with the reason. No AWS calls.\n"
        "Exit code: 0, or 1 when part of the configuration could not be evaluated.",
        """
driftwatch inspect --config config/driftwatch.yaml --target prod
driftwatch inspect --root examples/envs/prod --var-file prod.tfvars --format json
""",
    )
    _add_target_flags(inspect)
    _add_output_flags(inspect, ("text", "json"), verbose=False)
    _add_log_flags(inspect, _ONE_SHOT_LOG_LEVEL)
    validate = _subcommand(
        commands,
        "validate",
        "check the config file and that every target evaluates",
        "Validate the config file (every error names its key) and evaluate every target, without\n"
        "AWS calls; list ignore rules that expired or expire within 14 days. Exit code 0 or 1.",
        "driftwatch validate --config config/driftwatch.yaml",
    )
    validate.add_argument("--config", metavar="FILE", help=_CONFIG_HELP)
    _add_log_flags(validate, _ONE_SHOT_LOG_LEVEL)
    run = _subcommand(
        commands,
        "run",
        "the daemon: scheduled scans, /metrics /healthz /readyz, Slack alerts",
        "Scan at start and then every schedule.interval; serve /metrics, /healthz and /readyz on\n"
        "http.host:http.port; keep drift history in state.path and alert Slack on changes.\n"
        "Stops on SIGTERM or SIGINT.",
        """
driftwatch run --config config/driftwatch.yaml
driftwatch run --config driftwatch.yaml --log-format console --quiet
""",
    )
    run.add_argument("--config", metavar="FILE", help=_CONFIG_HELP)
    run.add_argument(
        "--log-level",
        type=_log_level,
        default=os.environ.get("DRIFTWATCH_LOG_LEVEL", "INFO"),
        help=_LOG_LEVEL_HELP.format(default="$DRIFTWATCH_LOG_LEVEL, else INFO"),
    )
    run.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="log only problems (WARNING and above), not each scan and delivery (default: off)",
    )
    run.add_argument(
        "--log-format",
        choices=["auto", "json", "console"],
        default="auto",
        help="auto: JSON lines unless stderr is a terminal (default: auto)",
    )
    run.add_argument(
        "--grace",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="seconds a running scan may take after SIGTERM (default: 60)",
    )
    history = _subcommand(
        commands,
        "history",
        "list open and recent drift episodes from the state database",
        "List the drift episodes the daemon recorded in state.path: open ones, or all with --all.",
        """
driftwatch history --config config/driftwatch.yaml
driftwatch history --config config/driftwatch.yaml --all --limit 200 --format json
""",
    )
    history.add_argument("--config", metavar="FILE", help=_CONFIG_HELP + "; its state.path is read")
    history.add_argument(
        "--all", action="store_true", help="also resolved episodes (default: open ones only)"
    )
    history.add_argument(
        "--limit",
        type=_positive_int,
        default=50,
        metavar="N",
        help="at most N episodes, newest first (default: 50)",
    )
    _add_output_flags(history, ("text", "json"), verbose=False)
    _add_log_flags(history, _ONE_SHOT_LOG_LEVEL)
    demo = _subcommand(
        commands,
        "demo",
        "scan the bundled examples against an embedded, offline AWS (moto)",
        "Create the tables of examples/ in an in-process moto, change a few as someone in the\n"
        "console would, and scan. Needs the demo extra: pip install 'driftwatch[demo]'.\n"
        "Exit code: 0 when the demo ran (its drift is on purpose), 1 when it could not run.",
        """
driftwatch demo
driftwatch demo --format json -o demo.json
""",
    )
    _add_output_flags(demo, ("text", "json", "sarif", "markdown"), verbose=True)
    _add_log_flags(demo, _ONE_SHOT_LOG_LEVEL)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _duration(text: str) -> timedelta:
    from driftwatch.config import parse_duration

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


def check_flags(args: argparse.Namespace) -> None:
    """Flags that conflict or would be silently ignored are errors, before any work is done."""
    if getattr(args, "verbose", False) and args.format != "text":
        raise UsageError(f"--verbose only changes --format text, not --format {args.format}")
    if getattr(args, "repo_url", None) and args.format != "markdown":
        raise UsageError(f"--repo-url only changes --format markdown, not --format {args.format}")
    if not hasattr(args, "root"):
        return
    if args.root:
        if args.config:
            raise UsageError("use either --config or --root, not both")
        if args.target:
            raise UsageError("--target picks targets of a config file; with --root there is one target")
        return
    given = [flag for name, flag in _AD_HOC_FLAGS.items() if getattr(args, name)]
    if given:
        raise UsageError(
            f"{', '.join(given)} describe{'s' if len(given) == 1 else ''} an ad-hoc target and "
            f"need{'s' if len(given) == 1 else ''} --root; with a config file, set "
            f"{'it' if len(given) == 1 else 'them'} in the config"
        )


def check_output_path(path: str | None) -> None:
    """A report path that cannot be written is an error before the scan, not a traceback after it."""
    if not path:
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--output {path}: is a directory; give a file name")
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"--output {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"--output {path}: not writable")


def resolve_invocation(args: argparse.Namespace) -> Invocation:
    from driftwatch.config import DEFAULT_PENDING_GRACE, config_path_from, load_config
    from driftwatch.targets import (
        adhoc_module_settings,
        repo_survey,
        targets_from_config,
        terraform_workspace,
    )
    from driftwatch.terraform.target import TargetInput

    check_flags(args)
    config_path = config_path_from(args.config) if not args.root else None
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
            workspace=args.workspace or terraform_workspace(os.environ),
            region=args.region,
            role_arn=args.role_arn,
            external_id=args.external_id,
            pending_grace=grace if grace is not None else DEFAULT_PENDING_GRACE,
            modules=adhoc_module_settings(os.environ),
        )
        return Invocation([target], None, repo)
    config, base = load_config(config_path)
    targets = targets_from_config(
        config, base, args.target, args.region, pending_grace=getattr(args, "pending_grace", None)
    )
    # at least one target: the config requires one, and --target names only existing ones
    survey = repo_survey(config, targets[0].repo)
    return Invocation(targets, config, config.repo_path(base), survey, config.sync_error_path(base))


def _open_output(path: str | None) -> TextIO:
    return open(path, "w", encoding="utf-8") if path else sys.stdout


def command_scan(args: argparse.Namespace) -> int:
    invocation = resolve_invocation(args)
    check_output_path(args.output)
    config = invocation.config
    # The evaluation worker (started by main) evaluates the targets on another core while this
    # process imports boto3 and builds its clients: the two overlap instead of adding up.
    from driftwatch.terraform.ahead import EvaluatedAhead

    evaluator = EvaluatedAhead(_parse_cache(config), invocation.targets)

    from driftwatch.aws.clients import DEFAULT_RETRY_MODE, AwsClients
    from driftwatch.config import DEFAULT_CONCURRENCY, DEFAULT_MAX_REGIONS, DEFAULT_REQUESTS_PER_SECOND
    from driftwatch.gitinfo import head_commit, is_dirty, path_in_checkout
    from driftwatch.scan import DEFAULT_SCAN_TIMEOUT_SECONDS, ScanSettings, scan

    parity = args.parity or (config.terraform_parity if config else "default")
    aws = config.aws if config else None
    settings = ScanSettings(
        parity=parity,
        concurrency=aws.concurrency if aws else DEFAULT_CONCURRENCY,
        ignore=config.ignore_rules() if config else (),
        scan_timeout=aws.scan_timeout.total_seconds() if aws else DEFAULT_SCAN_TIMEOUT_SECONDS,
        max_regions=aws.max_regions if aws else DEFAULT_MAX_REGIONS,
        survey=invocation.survey,
        sync_error_file=invocation.sync_error_file,
    )
    clients = AwsClients(
        max_attempts=aws.max_attempts if aws else 5,
        retry_mode=aws.retry_mode if aws else DEFAULT_RETRY_MODE,
        connect_timeout=aws.connect_timeout if aws else 5,
        read_timeout=aws.read_timeout if aws else 15,
        call_timeout=aws.call_timeout if aws else 60,
        max_pool_connections=max(16, settings.concurrency),
        max_requests_per_second=aws.max_requests_per_second if aws else DEFAULT_REQUESTS_PER_SECOND,
        request_burst=settings.concurrency,
    )
    if problem := _aws_configuration_problem(clients):  # e.g. no such AWS_PROFILE: one line, exit 1
        raise UsageError(problem)
    show_progress = (
        args.format == "text"
        and not args.output
        and sys.stderr.isatty()
        and not args.no_progress
        and not args.quiet
    )
    with _progress_bar(settings) if show_progress else contextlib.nullcontext():
        report = scan(
            invocation.targets,
            clients,
            cache=evaluator,
            settings=settings,
            commit=head_commit(invocation.repo),
            repo_subdir=path_in_checkout(invocation.repo),
            dirty=is_dirty(invocation.repo) is True,
        )
    _write_report(report, args, repo_url=args.repo_url or (config.slack.repo_url if config else None))
    return report.exit_code


def _aws_configuration_problem(clients: Any) -> str | None:
    """What is wrong with the local AWS configuration, in one line, or None; checked before
    anything is read (AwsClients.configuration_problem's checks), with the scan's own session,
    so that the service model botocore loads for the check is the one its clients reuse."""
    from botocore.exceptions import BotoCoreError

    from driftwatch.aws.clients import AwsConfigError, config_error, invalid_endpoint
    from driftwatch.aws.dynamodb import LiveReadError

    try:
        clients.check_configuration()
        # local: checks the endpoint URL; and fetches the first credentials (EKS Pod Identity,
        # ECS, instance metadata), bounded by aws.call_timeout
        clients.dynamodb("us-east-1")
    except (AwsConfigError, LiveReadError) as error:  # the latter: the credentials not fetched
        return str(error)
    except BotoCoreError as error:
        return str(config_error(error))
    except ValueError as error:
        return str(invalid_endpoint(error))
    return None


@contextlib.contextmanager
def _progress_bar(settings: ScanSettings) -> Iterator[None]:
    """A transient progress bar on stderr, fed by the scan's (done, total) callback."""
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("reading tables", total=None)
        settings.progress = lambda done, total: progress.update(task, completed=done, total=total)
        yield


def _parse_cache(config: Config | None) -> WorkerEvaluator:
    """Where targets are evaluated: the bounded worker process (driftwatch.terraform.worker),
    with the config's ``parse`` limits (the defaults without a config)."""
    from driftwatch.config import ParseConfig
    from driftwatch.terraform.worker import shared_worker

    return shared_worker((config.parse if config else ParseConfig()).worker_options())


def _write_report(
    report: Any, args: argparse.Namespace, repo_url: str | None = None, *, demo: bool = False
) -> None:
    """The report in ``args.format``; only that renderer is imported (the others pull in rich or
    Slack's formatting, which a piped JSON report does not need)."""
    out = _open_output(args.output)
    try:
        if args.format == "json":
            from driftwatch.report.json import render_json

            out.write(render_json(report))
        elif args.format == "sarif":
            from driftwatch.report.sarif import render_sarif

            out.write(render_sarif(report))
        elif args.format == "markdown":
            from driftwatch.report.markdown import render_markdown

            out.write(render_markdown(report, repo_url=repo_url, demo=demo))
        else:
            from driftwatch.report.console import make_console
            from driftwatch.report.text import render_text

            render_text(report, make_console(out), verbose=args.verbose)
    finally:
        if out is not sys.stdout:
            out.close()


def command_inspect(args: argparse.Namespace) -> int:
    from driftwatch.report.inspect import render_inspect
    from driftwatch.scan import declare

    invocation = resolve_invocation(args)
    check_output_path(args.output)
    declared = declare(invocation.targets, _parse_cache(invocation.config))
    out = _open_output(args.output)
    try:
        render_inspect(declared, args.format, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return EXIT_ERROR if declared.errors or declared.early or declared.not_evaluated else EXIT_OK


def command_validate(args: argparse.Namespace) -> int:
    from driftwatch.config import config_path_from, load_config
    from driftwatch.scan import declare
    from driftwatch.targets import targets_from_config

    config_path = config_path_from(args.config)
    if config_path is None:
        raise UsageError("no config file found: pass --config FILE")
    config, base = load_config(config_path)
    evaluator = _parse_cache(config)
    targets = targets_from_config(config, base)
    declared = declare(targets, evaluator)
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
    _print_pending_unavailable(targets, evaluator)
    from driftwatch.report.text import root_line
    from driftwatch.targets import repo_survey

    # advice: the exit code stays as it is
    for root in repo_survey(config, targets[0].repo).run(declared.table_sources):
        print(f"not covered [repository] {root_line(root)}")
    tables = len(declared.jobs) + len(declared.early)
    # every line printed as ``error``: a table it cannot scan (no region, no name) is one too
    errors = len(declared.errors) + len(declared.early) + len(rejected)
    from driftwatch.report.text import plural

    counts = f"{plural(len(config.targets), 'target')}, {plural(tables, 'table')} declared"
    # as inspect's line: "0 errors" alone would read as clean while the exit code is 1
    skipped = plural(len(declared.not_evaluated), "module call or resource", "module calls or resources")
    print(f"{config_path}: {counts}, {plural(errors, 'error')}, {skipped} not evaluated")
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


DEMO_INSTALL_HINT = (
    "the demo needs moto, which a lean install leaves out: "
    "pip install 'driftwatch[demo]' (or, in a clone, pip install -e '.[demo]')"
)


def command_demo(args: argparse.Namespace) -> int:
    import importlib.util

    from rich.console import Console

    from driftwatch.demo.run import run_demo

    check_flags(args)
    check_output_path(args.output)
    if importlib.util.find_spec("moto") is None:
        raise UsageError(DEMO_INSTALL_HINT)
    report = run_demo(progress=None if args.quiet else Console(stderr=True, highlight=False))
    _write_report(report, args, demo=True)
    # The demo succeeds when it ran: its drift is on purpose.
    return EXIT_OK if not report.errors and not any(r.error for r in report.tables) else EXIT_ERROR


def _config_or_fail(argument: str | None) -> tuple[Config, Path]:
    from driftwatch.config import config_path_from, load_config

    config_path = config_path_from(argument)
    if config_path is None:
        raise UsageError("no config file found: pass --config FILE or set DRIFTWATCH_CONFIG")
    return load_config(config_path)


def command_run(args: argparse.Namespace) -> int:
    from driftwatch.config import config_path_from
    from driftwatch.daemon import Daemon

    config, base = _config_or_fail(args.config)
    try:
        daemon = Daemon(config, base, config_path=config_path_from(args.config))
    except OSError as error:
        raise UsageError(str(error)) from None
    return daemon.run(grace_seconds=args.grace)


def command_history(args: argparse.Namespace) -> int:
    from driftwatch.history import History
    from driftwatch.report.history import render_history

    check_flags(args)
    check_output_path(args.output)
    config, _ = _config_or_fail(args.config)
    path = Path(config.state.path)
    if not path.is_file():
        raise UsageError(f"{path}: no state database yet (the daemon creates it on its first scan)")
    history = History.open_read_only(path)
    try:
        episodes = history.episodes(open_only=not args.all, limit=args.limit)
    finally:
        history.close()
    out = _open_output(args.output)
    try:
        render_history(episodes, args.format, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return EXIT_OK


COMMANDS = {
    "scan": command_scan,
    "inspect": command_inspect,
    "validate": command_validate,
    "demo": command_demo,
    "run": command_run,
    "history": command_history,
}


# Commands that evaluate targets in the worker process: theirs starts before anything else.
_EVALUATING_COMMANDS = frozenset({"scan", "inspect", "validate"})


def _level_number(name: str) -> int:
    import logging

    number = logging.getLevelName(name.upper())
    return number if isinstance(number, int) else logging.WARNING


def main(argv: Sequence[str] | None = None) -> int:
    from driftwatch import log

    args = build_parser().parse_args(argv)
    if args.command in _EVALUATING_COMMANDS:
        from driftwatch.terraform import launch

        launch.prestart()
    log_format = getattr(args, "log_format", "auto")
    level = args.log_level
    if getattr(args, "quiet", False):
        floor = "WARNING" if args.command == "run" else "ERROR"
        level = max(level.upper(), floor, key=_level_number)
    log.configure(json_output=None if log_format == "auto" else log_format == "json", level=level)
    try:
        return COMMANDS[args.command](args)
    except DriftwatchError as error:  # ConfigError, UsageError, HistoryError, SlackConfigError, ...
        print(f"driftwatch: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """The ``driftwatch`` command (console script and ``python -m driftwatch``): ``main()``,
    then exit without the interpreter's teardown when nothing is left to wait for.

    Freeing every module and object of a process that is about to end costs a one-shot scan
    ~0.1 s, a fifth of its time. What the teardown would do that matters is done first: the
    exit handlers run (the evaluation worker is killed, log handlers flushed) and stdout and
    stderr are flushed, a failed flush exiting 120 as Python does. With a non-daemon thread
    still running (none of driftwatch's own), the usual exit waits for it.
    """
    code = main()
    if any(not thread.daemon for thread in threading.enumerate() if thread is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe, a closed stream
            code = code or 120
    os._exit(code)


if __name__ == "__main__":
    run()
