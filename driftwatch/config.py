"""The configuration file (YAML) and its validation.

pydantic does the validation so that every error names its key path (``targets.0.root``) and
the reason, and unknown keys are rejected: a typo such as ``var_file:`` must not silently scan
with no var files and report the wrong tables.
"""

from __future__ import annotations

import os
import re
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


class ConfigError(Exception):
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
    workspace: str = "default"
    region: str | None = None
    role_arn: str | None = None
    external_id: str | None = Field(default=None, min_length=2, max_length=1224)
    unmanaged: UnmanagedConfig | None = None
    pending_grace: Duration | None = None  # default: the top-level pending_grace

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
        names = [r.name for r in routes]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"route names must be unique; repeated: {', '.join(repeated)}")
        return routes


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

    def to_spec(self) -> spec.IgnoreRule:
        return spec.IgnoreRule(self.table, self.attribute, self.reason, self.until)


DEFAULT_SCAN_TIMEOUT = timedelta(minutes=10)
# DynamoDB throttles control-plane calls at 2,500 requests/s per account and region, shared with
# everything else there (Terraform, deploys, applications describing their tables). 500/s per
# client leaves four fifths of that to the rest of the account, and 16 calls in flight at a
# typical 10-30 ms per call reach roughly that rate -- neither bound starves the other.
DEFAULT_CONCURRENCY = 16
DEFAULT_REQUESTS_PER_SECOND = 500.0


class AwsConfig(_Strict):
    # Calls in flight per region and account (AWS throttles by those): regions run side by side.
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=64)
    max_attempts: int = Field(default=5, ge=1, le=20)
    connect_timeout: float = Field(default=5, gt=0)
    read_timeout: float = Field(default=15, gt=0)
    # Client-side request rate per client (service x region x account); null: no limit.
    max_requests_per_second: float | None = Field(default=DEFAULT_REQUESTS_PER_SECOND, gt=0)
    # The overall deadline of one scan: tables not read by then are `error`, the scan returns.
    scan_timeout: Duration = DEFAULT_SCAN_TIMEOUT

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

    @field_validator("targets")
    @classmethod
    def _unique_names(cls, targets: list[TargetConfig]) -> list[TargetConfig]:
        names = [t.name for t in targets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"target names must be unique; repeated: {', '.join(duplicates)}")
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
