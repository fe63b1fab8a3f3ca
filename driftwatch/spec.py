"""The shared vocabulary of driftwatch: both sides of a comparison become a ``TableSpec``.

The declared side (``driftwatch.terraform``) and the live side (``driftwatch.aws``) each
produce exactly these values, so nothing downstream (diff, reports, metrics, notifications)
ever needs to know about HCL or boto3. Every value here is immutable so that a report can be
shared between the scanning thread and the HTTP thread without copying.

A declared value that could not be resolved is an ``Unknown`` carrying the reason. ``Unknown``
is never drift: ``diff`` lists it as *unresolved* instead, so a gap in evaluation can cost a
missed finding but never a false alarm.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, Union

T = TypeVar("T")


@dataclass(frozen=True)
class Unknown:
    """A value the declared side could not resolve, and why (shown to users as-is)."""

    reason: str

    def __str__(self) -> str:
        return f"(unknown: {self.reason})"


# A declared value is either known or Unknown. (Union, not `|`, so it can be a runtime alias.)
Maybe = Union[T, Unknown]  # noqa: UP007


def is_unknown(value: object) -> bool:
    return isinstance(value, Unknown)


def first_unknown(value: object) -> Unknown | None:
    """The first Unknown found anywhere inside a (possibly nested) value, else None.

    Lists, tuples, sets and mappings are searched, so a tag map with one unknown value or a
    list of regions with one unknown element counts as not fully known.
    """
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = first_unknown(key) or first_unknown(item)
            if found is not None:
                return found
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            found = first_unknown(item)
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class SourceLocation:
    """Where a declaration lives, relative to the scanned repository root."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class ScalingTarget:
    """One application-autoscaling target (min/max) and its target-tracking policy value.

    ``target`` is None when a scalable target exists without a target-tracking policy.
    """

    min: Maybe[int]
    max: Maybe[int]
    target: Maybe[float] | None = None


@dataclass(frozen=True)
class Autoscaling:
    """Autoscaling of reads and writes of a table or of one GSI; None = no scalable target."""

    read: ScalingTarget | None = None
    write: ScalingTarget | None = None


@dataclass(frozen=True)
class Ttl:
    enabled: Maybe[bool]
    attribute: Maybe[str] | None = None


@dataclass(frozen=True)
class Sse:
    """Server-side encryption.

    ``enabled`` False means the AWS-owned key (DescribeTable then has no SSEDescription).
    On the declared side ``kms_key_arn`` None means "AWS managed or any key": not compared.
    """

    enabled: Maybe[bool]
    kms_key_arn: Maybe[str] | None = None


@dataclass(frozen=True)
class Stream:
    enabled: Maybe[bool]
    view_type: Maybe[str] | None = None


@dataclass(frozen=True)
class Gsi:
    name: str
    hash_key: Maybe[str]
    range_key: Maybe[str] | None = None
    projection_type: Maybe[str] = "ALL"
    non_key_attributes: Maybe[frozenset[str]] = frozenset()
    read_capacity: Maybe[int] | None = None
    write_capacity: Maybe[int] | None = None
    autoscaling: Autoscaling = field(default_factory=Autoscaling)


@dataclass(frozen=True)
class Lsi:
    name: str
    range_key: Maybe[str]
    projection_type: Maybe[str] = "ALL"
    non_key_attributes: Maybe[frozenset[str]] = frozenset()


class BillingMode(enum.StrEnum):
    PROVISIONED = "PROVISIONED"
    PAY_PER_REQUEST = "PAY_PER_REQUEST"


@dataclass(frozen=True)
class TableSpec:
    """One DynamoDB table, as declared in git or as running in AWS.

    ``unmanaged`` (declared side only) holds attribute names of the vocabulary that the
    declaration deliberately does not manage -- a ``lifecycle.ignore_changes`` entry, the
    CloudPosse module ignoring table capacity, module 0.35.0 having no ``ttl`` block -- so that
    diff skips them exactly where Terraform would. A name ending in ``.*`` covers a prefix
    (``autoscaling.*``, ``gsi.*``).

    ``status`` (live side only) is DynamoDB's TableStatus; a table that is not ACTIVE is
    being changed, and its attributes are not alerted on.
    """

    name: Maybe[str]
    region: Maybe[str] | None = None
    hash_key: Maybe[str] = ""
    hash_key_type: Maybe[str] = "S"
    range_key: Maybe[str] | None = None
    range_key_type: Maybe[str] | None = None
    billing_mode: Maybe[str] = BillingMode.PROVISIONED.value
    read_capacity: Maybe[int] | None = None
    write_capacity: Maybe[int] | None = None
    table_class: Maybe[str] = "STANDARD"
    ttl: Ttl = field(default_factory=lambda: Ttl(enabled=False))
    point_in_time_recovery: Maybe[bool] = False
    sse: Sse = field(default_factory=lambda: Sse(enabled=False))
    stream: Stream = field(default_factory=lambda: Stream(enabled=False))
    deletion_protection: Maybe[bool] = False
    gsis: Maybe[tuple[Gsi, ...]] = ()
    lsis: Maybe[tuple[Lsi, ...]] = ()
    replicas: Maybe[frozenset[str]] = frozenset()
    tags: Maybe[Mapping[str, Maybe[str]]] = field(default_factory=dict)
    autoscaling: Autoscaling = field(default_factory=Autoscaling)
    unmanaged: frozenset[str] = frozenset()
    status: str | None = None

    def gsi(self, name: str) -> Gsi | None:
        if isinstance(self.gsis, Unknown):
            return None
        return next((g for g in self.gsis if g.name == name), None)

    def is_managed(self, attribute: str) -> bool:
        """False when ``attribute`` (or a prefix of it written as ``prefix.*``) is unmanaged."""
        if attribute in self.unmanaged:
            return False
        parts = attribute.split(".")
        return not any(".".join(parts[:i]) + ".*" in self.unmanaged for i in range(1, len(parts) + 1))


@dataclass(frozen=True)
class DeclaredTable:
    """A table that a Terraform configuration declares, with where and how it is declared."""

    address: str
    source: SourceLocation
    spec: TableSpec
    # Inputs or arguments that could not be resolved but do not map to one attribute
    # (e.g. the whole `tags` input); shown as unresolved in reports.
    notes: tuple[Unresolved, ...] = ()


@dataclass(frozen=True)
class Drift:
    """One attribute that differs: ``declared`` is what git says, ``live`` what AWS runs."""

    attribute: str
    declared: Any
    live: Any


@dataclass(frozen=True)
class Unresolved:
    """An attribute that could not be compared because its declared value is Unknown."""

    attribute: str
    reason: str


class TableStatus(enum.StrEnum):
    IN_SYNC = "in_sync"
    DRIFTED = "drifted"
    MISSING = "missing"
    ERROR = "error"


@dataclass(frozen=True)
class TableResult:
    """The outcome of checking one declared table; one row of a ScanReport."""

    target: str
    address: str
    source: SourceLocation | None
    table_name: str | None
    region: str | None
    status: TableStatus
    drift: tuple[Drift, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class TargetError:
    """A problem that stopped part of a target from being evaluated (parse error, bad var file).

    It is not tied to one table, so it is kept beside the table rows; it still makes the
    one-shot scan exit 1, because something could not be checked.
    """

    target: str
    message: str
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class ScanReport:
    generated_at: datetime
    commit: str | None
    tables: tuple[TableResult, ...]
    errors: tuple[TargetError, ...] = ()
    duration_seconds: float | None = None

    def count(self, status: TableStatus) -> int:
        return sum(1 for t in self.tables if t.status is status)

    @property
    def exit_code(self) -> int:
        """0 in sync, 2 drift or missing, 1 anything unchecked (like plan -detailed-exitcode).

        "Could not check" wins over drift: a CI job must not go green-with-warnings when part
        of the estate was never looked at.
        """
        if self.errors or self.count(TableStatus.ERROR):
            return 1
        if self.count(TableStatus.DRIFTED) or self.count(TableStatus.MISSING):
            return 2
        return 0
