"""The configuration file (YAML) and its validation.

pydantic does the validation so that every error names its key path (``targets.0.root``) and
the reason, and unknown keys are rejected: a typo such as ``var_file:`` must not silently scan
with no var files and report the wrong tables.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from driftwatch import spec
from driftwatch.diff import TABLE_ATTRIBUTES
from driftwatch.errors import DriftwatchError
from driftwatch.secrets import looks_like_url
from driftwatch.terraform import sources, worker
from driftwatch.terraform.parse import (
    DEFAULT_MAX_CACHED_TOKENS,
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_FILE_TOKENS,
)

DEFAULT_CONFIG_PATH = Path("config/driftwatch.yaml")
DEFAULT_PENDING_GRACE = timedelta(minutes=30)
# arn:<partition>:iam::<12-digit account>:role/<path/name>
_ROLE_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(DriftwatchError):
    """An invalid configuration; the message names the file, the key and why."""


DURATION_UNITS = "ms, s, m, h or d"


def parse_duration(value: Any) -> timedelta:
    """``"5m"``, ``"30s"``, ``"24h"``, ``"1.5h"``; a bare ``0`` means zero.

    Any other number without a unit is an error: ``interval: 5`` might mean 5 seconds or
    5 minutes, and a guess that is off by 60x silently hammers AWS or misses drift for hours.
    """
    if isinstance(value, timedelta):
        return value
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match and match.group(2) is None:
        number = float(match.group(1))
    if number is not None:
        if number == 0:
            return timedelta(0)
        raise ValueError(f"{value!r} has no unit: write it with one of {DURATION_UNITS} (e.g. 30s, 5m, 24h)")
    if match is None:
        raise ValueError(f"{value!r} is not a duration: a number and one of {DURATION_UNITS} (e.g. 30s, 5m)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([KMG])i?B?)?\s*$", re.IGNORECASE)


def parse_size(value: Any) -> Any:
    """``1073741824``, ``"1GiB"``, ``"512Mi"``, ``"512M"``: bytes (binary units)."""
    if isinstance(value, str) and (match := _SIZE.match(value)):
        unit = (match.group(2) or "").upper()
        return int(float(match.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit])
    return value


def _refuse_repeated(kind: str, names: list[str]) -> None:
    """Names that select things (``--target``, a route in the logs) must each select one."""
    counts = Counter(names)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        raise ValueError(f"{kind} names must be unique; repeated: {', '.join(repeated)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnmanagedConfig(_Strict):
    """Report live tables that match ``prefixes`` and that no declaration covers."""

    prefixes: list[str] = Field(min_length=1)
    alert: bool = False


class TargetConfig(_Strict):
    name: str = Field(min_length=1)
    root: str = Field(min_length=1)
    var_files: list[str] = Field(default_factory=list)
    vars: dict[str, str] = Field(default_factory=dict)
    workspace: str | None = Field(default=None, min_length=1)  # None: TF_WORKSPACE, else "default"
    region: str | None = None
    role_arn: str | None = None
    external_id: str | None = Field(default=None, min_length=2, max_length=1224)
    unmanaged: UnmanagedConfig | None = None
    pending_grace: Duration | None = None  # default: the top-level pending_grace
    allow_empty: bool = False  # a target declaring no table is an error unless this is set

    @field_validator("role_arn")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.match(value):
            raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/name)")
        return value

    @model_validator(mode="after")
    def _external_id_needs_role(self) -> TargetConfig:
        if self.external_id is not None and self.role_arn is None:
            raise ValueError("external_id is only used with role_arn")
        return self

    @field_validator("vars", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        """``-var`` values are strings; YAML's ``count: 3`` or ``enabled: true`` mean the same text."""
        if isinstance(value, dict):
            return {
                str(k): (
                    "true" if v is True else "false" if v is False else v if isinstance(v, str) else str(v)
                )
                for k, v in value.items()
            }
        return value


class ScheduleConfig(_Strict):
    interval: Duration = timedelta(minutes=5)
    jitter: Duration = timedelta(seconds=30)

    @field_validator("interval")
    @classmethod
    def _positive(cls, interval: timedelta) -> timedelta:
        """A zero interval would make APScheduler scan back to back, hammering AWS."""
        if interval.total_seconds() < 1:
            raise ValueError("the interval must be at least 1s")
        return interval


class HttpConfig(_Strict):
    host: str = "0.0.0.0"
    port: int = Field(default=9876, ge=1, le=65535)


class StateConfig(_Strict):
    path: str = "driftwatch.db"
    # Sent messages and resolved episodes older than this are deleted by the daemon (open
    # episodes and undelivered messages never are), so the state file stops growing.
    retention: Duration = timedelta(days=90)

    @field_validator("retention")
    @classmethod
    def _at_least_a_day(cls, retention: timedelta) -> timedelta:
        """Shorter would delete what `driftwatch history` and reminders are for."""
        if retention < timedelta(days=1):
            raise ValueError("the retention must be at least 1d")
        return retention


class SlackRoute(_Strict):
    """One entry of ``slack.routes``: these targets' or tables' drift goes to this webhook."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    targets: list[str] = Field(default_factory=list)
    tables: list[str] = Field(default_factory=list)  # globs on the AWS table name
    webhook_url_env: str | None = None
    webhook_url_file: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> SlackRoute:
        if not self.targets and not self.tables:
            raise ValueError("a route needs targets or tables (what it sends)")
        if not self.webhook_url_env and not self.webhook_url_file:
            raise ValueError("a route needs webhook_url_env or webhook_url_file (where it sends)")
        return self


class SlackConfig(_Strict):
    webhook_url_env: str | None = "DRIFTWATCH_SLACK_WEBHOOK_URL"
    webhook_url_file: str | None = None
    remind_after: Duration = timedelta(hours=24)
    repo_url: str | None = None
    # Tried in order; the first route matching a table gets its drift, the rest goes to the
    # default webhook above (if any). See driftwatch.notify.routes.
    routes: list[SlackRoute] = Field(default_factory=list)

    @field_validator("routes")
    @classmethod
    def _unique_routes(cls, routes: list[SlackRoute]) -> list[SlackRoute]:
        _refuse_repeated("route", [r.name for r in routes])
        return routes

    @field_validator("webhook_url_file")
    @classmethod
    def _a_path_not_a_url(cls, value: str | None) -> str | None:
        """The webhook pasted here instead of a path: refuse it without echoing it (the
        message is the one line below; pydantic's errors carry no input in ours)."""
        if value is not None and looks_like_url(value):
            raise ValueError(
                "holds a URL, not a file path: write the webhook URL into a file (a mounted "
                "Secret) and name that file here, or use slack.webhook_url_env"
            )
        return value


class IgnoreRule(_Strict):
    table: str = Field(default="*", min_length=1)
    attribute: str = Field(default="*", min_length=1)
    reason: str = Field(min_length=1)
    until: date | None = None

    @field_validator("reason")
    @classmethod
    def _real_reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a reason is required (why is this drift accepted?)")
        return value.strip()

    @model_validator(mode="after")
    def _not_everything(self) -> IgnoreRule:
        """A rule whose globs cover every attribute of every table accepts all drift: the
        daemon would be silent whatever happens, which is driftwatch switched off while looking
        on. That is refused here rather than honoured quietly."""
        if spec.glob_matches_every_table_name(self.table) and spec.glob_matches_every_attribute(
            self.attribute, TABLE_ATTRIBUTES
        ):
            raise ValueError(
                f"table {self.table!r} and attribute {self.attribute!r} accept every drift of every "
                "table, which silences driftwatch; name the tables (table: 'acme-*-orders') or the "
                "attributes (attribute: 'tags.CostCenter') the rule is for"
            )
        return self

    def to_spec(self) -> spec.IgnoreRule:
        return spec.IgnoreRule(self.table, self.attribute, self.reason, self.until)


DEFAULT_SCAN_TIMEOUT = timedelta(minutes=10)
# DynamoDB throttles control-plane calls at 2,500 requests/s per account and region, shared with
# everything else there (Terraform, deploys, applications describing their tables). 500/s per
# client leaves four fifths of that to the rest of the account, and 16 calls in flight at a
# typical 10-30 ms per call reach roughly that rate -- neither bound starves the other.
DEFAULT_CONCURRENCY = 16
DEFAULT_REQUESTS_PER_SECOND = 500.0
# Distinct regions one scan reads: each costs clients, an autoscaling listing and up to
# `concurrency` threads. AWS has about 35 regions; what a repository declares beyond the cap
# is an error, not 1,000 made-up regions' worth of threads.
DEFAULT_MAX_REGIONS = 64


class AwsConfig(_Strict):
    # Calls in flight per region and account (AWS throttles by those): regions run side by side.
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=64)
    max_attempts: int = Field(default=5, ge=1, le=20)
    # How throttled calls are retried: limiter (standard retries, short throttling backoff,
    # the rate left to max_requests_per_second), or botocore's standard or adaptive mode.
    retry_mode: Literal["limiter", "standard", "adaptive"] = "limiter"
    connect_timeout: float = Field(default=5, gt=0)
    read_timeout: float = Field(default=15, gt=0)
    # Total seconds one AWS call may take, retries included: read_timeout is an idle timeout,
    # which an endpoint that drip-feeds its answer never trips.
    call_timeout: float = Field(default=60, gt=0)
    # Client-side request rate per client (service x region x account); null: no limit.
    max_requests_per_second: float | None = Field(default=DEFAULT_REQUESTS_PER_SECOND, gt=0)
    # The overall deadline of one scan: tables not read by then are `error`, the scan returns.
    scan_timeout: Duration = DEFAULT_SCAN_TIMEOUT
    # Distinct regions one scan reads; tables in regions beyond it are errors.
    max_regions: int = Field(default=DEFAULT_MAX_REGIONS, ge=1, le=1000)

    @field_validator("scan_timeout")
    @classmethod
    def _positive_timeout(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("scan_timeout must be longer than 0 (every scan has a deadline)")
        return value


class ParseConfig(_Strict):
    """Bounds on what parsing may cost, so that a hostile or generated file cannot exhaust the
    process: a file over either per-file bound is an error naming it, the rest of the scan goes
    on. The defaults fit hand-written Terraform many times over."""

    max_file_bytes: int = Field(default=DEFAULT_MAX_FILE_BYTES, ge=1024)
    max_file_tokens: int = Field(default=DEFAULT_MAX_FILE_TOKENS, ge=100)
    # What the daemon's parse cache may hold in all (about 300 bytes of tree per token).
    max_cached_tokens: int = Field(default=DEFAULT_MAX_CACHED_TOKENS, ge=1000)
    # One target's evaluation, in the worker process (driftwatch.terraform.worker): wall-clock
    # and CPU seconds, and address space it may add to the worker; past either, the worker is
    # stopped and the target is an error.
    max_seconds: float = Field(default=worker.DEFAULT_MAX_SECONDS, gt=0)
    max_memory: Annotated[int, BeforeValidator(parse_size)] = Field(
        default=worker.DEFAULT_MAX_MEMORY, ge=64 * 1024 * 1024
    )

    def cache_options(self) -> dict[str, int]:
        """The ParseCache's keyword arguments."""
        return {
            "max_file_bytes": self.max_file_bytes,
            "max_file_tokens": self.max_file_tokens,
            "max_cached_tokens": self.max_cached_tokens,
        }

    def worker_options(self) -> worker.WorkerOptions:
        return worker.WorkerOptions(self.max_seconds, self.max_memory, self.cache_options())


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ModulesConfig(_Strict):
    """How remote module sources (registry, git, archives) are fetched, see
    driftwatch.terraform.sources. Downloads are cached under ``cache_dir`` (default: a
    ``driftwatch-modules`` directory beside ``state.path``) and reused across scans."""

    offline: bool = False
    cache_dir: str | None = None
    allowed_hosts: list[str] = Field(default_factory=lambda: list(sources.DEFAULT_ALLOWED_HOSTS))
    # host -> where its requests go instead: "mirror.internal" or "https://mirror.internal/prefix"
    hosts: dict[str, str] = Field(default_factory=dict)
    max_bytes: int = Field(default=sources.DEFAULT_MAX_BYTES, ge=1024)
    max_files: int = Field(default=sources.DEFAULT_MAX_FILES, ge=1)
    timeout: Duration = timedelta(seconds=sources.DEFAULT_TIMEOUT)
    credentials_file: str | None = None
    # The whole cache, kept under this by evicting the least recently used modules not in use.
    cache_max_bytes: Annotated[int, BeforeValidator(parse_size)] = Field(
        default=sources.DEFAULT_CACHE_MAX_BYTES, ge=1024 * 1024
    )
    # Distinct remote module sources one target's evaluation may use; past it, not evaluated.
    max_sources: int = Field(default=sources.DEFAULT_MAX_SOURCES, ge=1)
    # Plain http is refused except to these loopback hosts (a local test registry).
    insecure_http_hosts: list[str] = Field(default_factory=list)
    # A branch, a version range or an archive URL is resolved again this long after it was.
    refresh: Duration = timedelta(seconds=sources.DEFAULT_REFRESH)

    @field_validator("insecure_http_hosts")
    @classmethod
    def _loopback_only(cls, hosts: list[str]) -> list[str]:
        outside = [h for h in hosts if h not in _LOOPBACK_HOSTS]
        if outside:
            raise ValueError(f"plain http is only allowed to loopback hosts, not {', '.join(outside)}")
        return hosts

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("the timeout must be longer than 0")
        return value

    def settings(self, default_cache: Path, env: Mapping[str, str]) -> sources.ModuleSettings:
        """The fetcher's settings; ``DRIFTWATCH_MODULES_OFFLINE=1`` forces offline (CI, tests)."""
        forced = env.get("DRIFTWATCH_MODULES_OFFLINE", "").strip().lower() in ("1", "true", "yes")
        return sources.ModuleSettings(
            offline=self.offline or forced,
            cache_dir=str(Path(self.cache_dir) if self.cache_dir else default_cache),
            allowed_hosts=tuple(self.allowed_hosts),
            host_overrides=tuple(sorted(self.hosts.items())),
            max_bytes=self.max_bytes,
            max_files=self.max_files,
            timeout=self.timeout.total_seconds(),
            insecure_http_hosts=tuple(self.insecure_http_hosts),
            credentials_file=self.credentials_file,
            cache_max_bytes=self.cache_max_bytes,
            max_sources=self.max_sources,
            refresh=self.refresh.total_seconds(),
        )


class CoverageConfig(_Strict):
    """The repository survey: directories that declare tables and that no target evaluates."""

    # Globs (fnmatch, `*` crosses `/`) of directories, relative to `repo`, not to report: a
    # module's `examples/*`, a directory that is never applied. `["*"]` turns the survey off.
    ignore: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)


class Config(_Strict):
    repo: str = "."
    targets: list[TargetConfig] = Field(min_length=1)
    schedule: ScheduleConfig = ScheduleConfig()
    http: HttpConfig = HttpConfig()
    state: StateConfig = StateConfig()
    slack: SlackConfig = SlackConfig()
    ignore: list[IgnoreRule] = Field(default_factory=list)
    aws: AwsConfig = AwsConfig()
    parse: ParseConfig = ParseConfig()
    terraform_parity: Literal["default", "strict"] = "default"
    pending_grace: Duration = DEFAULT_PENDING_GRACE
    modules: ModulesConfig = ModulesConfig()
    coverage: CoverageConfig = CoverageConfig()
    # git-sync's --error-file (relative to this file's directory): present while its syncs fail,
    # so the checkout may be stale (driftwatch.checkout). Unset: not checked.
    repo_sync_error_file: str | None = Field(default=None, min_length=1)

    @field_validator("targets")
    @classmethod
    def _unique_names(cls, targets: list[TargetConfig]) -> list[TargetConfig]:
        _refuse_repeated("target", [t.name for t in targets])
        return targets

    @model_validator(mode="after")
    def _routes_name_real_targets(self) -> Config:
        names = {t.name for t in self.targets}
        for index, route in enumerate(self.slack.routes):
            unknown = [t for t in route.targets if t not in names]
            if unknown:
                raise ValueError(
                    f"slack.routes.{index} ({route.name}) names no such target: {', '.join(unknown)}"
                )
        return self

    def ignore_rules(self) -> tuple[spec.IgnoreRule, ...]:
        return tuple(rule.to_spec() for rule in self.ignore)

    def sync_error_path(self, base: Path) -> Path | None:
        """git-sync's error file, relative to the config file's directory when not absolute."""
        if self.repo_sync_error_file is None:
            return None
        path = Path(self.repo_sync_error_file)
        return path if path.is_absolute() else base / path

    def repo_path(self, base: Path) -> Path:
        """The repository, relative to the config file's directory when not absolute."""
        repo = Path(self.repo)
        return repo if repo.is_absolute() else (base / repo)


def _format_errors(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "missing":
            message = "required key is missing"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)


def parse_config(data: Any, source: str = "config") -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the configuration must be a YAML mapping")
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_format_errors(error, source)) from None


def load_config(path: Path) -> tuple[Config, Path]:
    """The validated config and the directory that relative paths in it are relative to."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: the configuration is not UTF-8 text (byte {error.object[error.start]:#04x})"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(error, 'problem', error)}") from None
    return parse_config(data, str(path)), path.resolve().parent


def config_path_from(argument: str | None) -> Path | None:
    """--config, else DRIFTWATCH_CONFIG, else config/driftwatch.yaml when present."""
    if argument:
        return Path(argument)
    if os.environ.get("DRIFTWATCH_CONFIG"):
        return Path(os.environ["DRIFTWATCH_CONFIG"])
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None
