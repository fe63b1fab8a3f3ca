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
import fnmatch
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Final, Literal, TypeVar, Union

T = TypeVar("T")


@dataclass(frozen=True)
class Unknown:
    """A value the declared side could not resolve, and why (shown to users as-is).

    ``not_null`` is Terraform's refinement of an unknown value: the result of most functions
    (``length``, ``upper``, ``join``...) is known not to be null even when its argument is
    unknown, so ``length(x) != null`` is decided at plan time. It does not change equality:
    two Unknowns with one reason are the same unknown.

    ``origin`` is the address of the resource instance whose attribute (known only after apply)
    the value stands for: ``aws_dynamodb_table.t`` for ``aws_dynamodb_table.t.arn``. It joins a
    resource that names a table by its ARN to that table (driftwatch.terraform.table_features);
    nothing compares or shows it.
    """

    reason: str
    not_null: bool = field(default=False, compare=False)
    origin: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"(unknown: {self.reason})"


# A declared value is either known or Unknown. (Union, not `|`, so it can be a runtime alias.)
Maybe = Union[T, Unknown]  # noqa: UP007


def is_unknown(value: object) -> bool:
    return isinstance(value, Unknown)


class PartlyListed:
    """A mapping that lists only some of its entries: a resource instance, whose other
    attributes (``arn``, the whole schema) exist but are known only after apply. Read one entry
    and it is known; take the whole value (``jsonencode``, ``length``, ``keys``, a ``for``,
    ``==``) and it is ``unlisted()``, never a value made of the listed entries alone."""

    address: str  # the resource instance's address, set by each kind of such mapping

    def unlisted(self) -> Unknown:
        # driftwatch lists only the arguments it reads; the others Terraform knows from its state
        return Unknown(f"{self.address} as a whole is known only after apply")


def first_unknown(value: object) -> Unknown | None:
    """The first Unknown found anywhere inside a (possibly nested) value, else None.

    Lists, tuples, sets and mappings are searched, so a tag map with one unknown value or a
    list of regions with one unknown element counts as not fully known. A PartlyListed
    mapping is never fully known.
    """
    if isinstance(value, Unknown):
        return value
    if isinstance(value, PartlyListed):
        return value.unlisted()
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
    The policy's cooldowns and ``disable_scale_in`` are None where they are not set (or, live,
    hold AWS's default): 0 seconds and False, which is what the provider plans for an unset one.
    ``terraform plan`` changes them back when they are edited in the console.
    ``suspended_state`` is the set of suspended activities (``dynamic_scaling_in``,
    ``dynamic_scaling_out``, ``scheduled_scaling``): declared only where the target writes the
    block (Terraform leaves it alone otherwise), None live where nothing is suspended.
    ``metric`` is the metric the policy tracks, one comparable string
    (``DynamoDBReadCapacityUtilization``; ``driftwatch.scaling_metric`` gives every form);
    declared None where the declaration does not say (not compared).
    ``policy_name`` (declared side) is the name of the policy those settings are Terraform's
    for: the live policy of that name is the one compared, not another one added beside it in
    the console (Terraform leaves such a policy alone). Not an attribute; None where no name
    is declared (the live policy with the smallest name is compared), Unknown where it is known
    only after apply (compared only when the dimension has one live policy).
    """

    min: Maybe[int]
    max: Maybe[int]
    target: Maybe[float] | None = None
    scale_in_cooldown: Maybe[int] | None = None
    scale_out_cooldown: Maybe[int] | None = None
    disable_scale_in: Maybe[bool] | None = None
    suspended_state: Maybe[frozenset[str]] | None = None
    metric: Maybe[str] | None = None
    policy_name: Maybe[str] | None = field(default=None, compare=False)


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


AWS_TAG_PREFIX: Final = "aws:"  # the tag keys AWS reserves for itself


@dataclass(frozen=True)
class TagFilter:
    """The provider's ``ignore_tags``: tag keys (exact) and key prefixes nobody manages.

    Terraform's AWS provider neither sets nor removes such tags, so they are dropped from both
    sides before tags are compared.
    """

    keys: frozenset[str] = frozenset()
    key_prefixes: tuple[str, ...] = ()

    def matches(self, key: str) -> bool:
        return key in self.keys or any(key.startswith(prefix) for prefix in self.key_prefixes)

    def user_tags(self, tags: Mapping[str, Any]) -> dict[str, Any]:
        """``tags`` as the provider manages and reports them (its ``IgnoreAWS().IgnoreConfig()``):
        without the reserved ``aws:`` keys, which nobody can set or remove, and the keys this
        filter names."""
        return {k: v for k, v in tags.items() if not k.startswith(AWS_TAG_PREFIX) and not self.matches(k)}

    def __bool__(self) -> bool:
        return bool(self.keys or self.key_prefixes)


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
    being changed, and its attributes are not alerted on. ``replica_status`` (live side only)
    maps each replica region to its ReplicaStatus; ``index_status`` (live side only) maps each
    GSI to its IndexStatus (a GSI that is not ACTIVE is being changed, like the table);
    ``created_at`` (live side only) is the table's CreationDateTime.

    ``ignore_tags`` (declared side only) is the provider's ``ignore_tags``: matching tag keys
    are compared on neither side.

    ``restored_tags`` (declared side only) maps the tag keys whose value ``unmanaged`` leaves
    alone but whose absence Terraform still plans as a change to the value it would put back:
    the provider's default tags under ``ignore_changes = [tags]``. Only their absence is drift.

    ``tag_resources`` (declared side only) maps the tag keys that ``aws_dynamodb_tag`` resources
    put on the table to their values. Each is a resource of its own, so neither the table's
    ``ignore_changes`` nor the provider's ``ignore_tags`` reaches it: a deleted or changed tag
    is one that terraform plan creates or updates again.
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
    replica_status: Mapping[str, str] | None = None
    index_status: Mapping[str, str] | None = None
    created_at: datetime | None = None
    ignore_tags: TagFilter = field(default_factory=TagFilter)
    restored_tags: Mapping[str, Maybe[str]] = field(default_factory=dict)
    tag_resources: Mapping[str, Maybe[str]] = field(default_factory=dict)

    def gsi(self, name: str) -> Gsi | None:
        if isinstance(self.gsis, Unknown):
            return None
        return next((g for g in self.gsis if g.name == name), None)

    @property
    def name_from_state(self) -> bool:
        """``lifecycle { ignore_changes }`` names ``name`` (or ``all``): Terraform knows the table
        by the name in its state, which may not be the configured one."""
        return EXISTENCE_ATTRIBUTE in self.unmanaged

    def is_managed(self, attribute: str) -> bool:
        """False when ``attribute`` (or a prefix of it written as ``prefix.*``) is unmanaged."""
        if attribute in self.unmanaged:
            return False
        parts = attribute.split(".")
        # Autoscaling is declared by resources of its own: a table's ignore_changes on its GSIs
        # (gsi.*) does not reach a GSI's scalable target, so only prefixes from there count.
        start = parts.index("autoscaling") + 1 if "autoscaling" in parts else 1
        return not any(".".join(parts[:i]) + ".*" in self.unmanaged for i in range(start, len(parts) + 1))


# When a Rejection holds, given the live table (see Rejection).
RejectionWhen = Literal[
    "always", "create", "unless-live-on-demand", "unless-live-provisioned", "unless-live-stream"
]


@dataclass(frozen=True)
class Rejection:
    """A rule of ``terraform validate`` / ``plan`` (the AWS provider's) that a declaration breaks.

    Some rules depend on the table Terraform has in state, which driftwatch reads as the live
    table: ``when`` says when the rule holds -- ``always``; ``create`` (only when the table does
    not exist, e.g. an Optional+Computed argument left out takes the existing table's value);
    ``unless-live-on-demand`` / ``unless-live-provisioned`` (the provider allows it while
    switching from that billing mode); ``unless-live-stream`` (an existing stream's view type
    stands in for a missing one).
    """

    rule: str
    message: str
    when: RejectionWhen = "always"

    def applies(self, live: TableSpec | None) -> bool:
        """Whether Terraform rejects the declaration given the live table (None: it does not exist)."""
        if live is None or self.when == "always":
            return True
        if self.when == "create":
            return False
        if self.when == "unless-live-on-demand":
            return live.billing_mode != BillingMode.PAY_PER_REQUEST.value
        if self.when == "unless-live-provisioned":
            return live.billing_mode != BillingMode.PROVISIONED.value
        return not (live.stream.enabled is True and live.stream.view_type)  # unless-live-stream


@dataclass(frozen=True)
class AccountBinding:
    """The AWS account a ``provider "aws"`` block (the root's, or a child module's own) binds
    its tables to.

    Terraform plans such a table in that account only: ``assume_role`` (or
    ``assume_role_with_web_identity``) makes the provider act in the role's account, and
    ``allowed_account_ids`` / ``forbidden_account_ids`` make Terraform refuse any other. A table
    compared in another account is compared with that account's same-named table: a silently
    wrong "in sync", or a "missing" false alarm. driftwatch.accounts judges it against the
    account a scan reads. Each part is None when the block does not set it, and Unknown when it
    cannot be evaluated (that part is then not checked: never a false alarm).
    """

    # "aws" / "aws.<alias>": the root module's provider block; "module.x.aws[.<alias>]": a
    # child module's own (driftwatch.terraform.providers)
    provider: str
    assumed: Maybe[str] | None = None  # the 12-digit account of the role_arn
    via: str = "assume_role"  # or "assume_role_with_web_identity": where the role_arn is written
    allowed: Maybe[frozenset[str]] | None = None
    forbidden: Maybe[frozenset[str]] | None = None
    # The credentials the block chooses itself (``profile "prod"``, ``access_key``...), which
    # driftwatch never uses: it reads with its target's. Named only, never a secret's value.
    credentials: tuple[str, ...] = ()
    # Which of its target's choices of credentials it is (equal numbers: the same values), so
    # that two providers with different keys, both shown as ``access_key``, are told apart.
    credentials_choice: int = 0


@dataclass(frozen=True)
class DeclaredTable:
    """A table that a Terraform configuration declares, with where and how it is declared."""

    address: str
    source: SourceLocation
    spec: TableSpec
    # Inputs or arguments that could not be resolved but do not map to one attribute
    # (e.g. the whole `tags` input); shown as unresolved in reports.
    notes: tuple[Unresolved, ...] = ()
    # Every file (relative to the repository) whose content the table's evaluation read: the
    # .tf files of each module on the way from the root to the declaration, and the root's var
    # files. Only a recent commit to one of them can make the table's drift `pending`.
    inputs: tuple[str, ...] = ()
    # Why the declaration cannot be checked at all (a value AWS forbids, invalid text; see
    # driftwatch.terraform.vet): the table is an error row, and AWS is not asked about it.
    problem: str | None = None
    # Rules Terraform would reject the declaration for (driftwatch.terraform.validate_table):
    # where one applies, the table is an error naming the rule instead of being compared.
    rejections: tuple[Rejection, ...] = ()
    # Where single attributes are written when that is not ``source`` (the line of
    # ``ttl_enabled = ...``, or the tfvars line that sets it): vocabulary names or globs
    # (``gsi.*.autoscaling.read.min``) -> location. See TableResult.source_of.
    locations: Mapping[str, SourceLocation] = field(default_factory=dict, compare=False)
    # The account its provider binds it to (None: the provider names none; driftwatch.accounts).
    account: AccountBinding | None = None


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


EXISTENCE_ATTRIBUTE = "table"
"""The attribute of a drift item that says the table itself is absent (or unmanaged)."""


# Every character a DynamoDB table name may hold; a name has 3 to 255 of them.
TABLE_NAME_CHARACTERS: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
TABLE_NAME_LENGTHS: Final = (3, 255)


def glob_matches_every_table_name(pattern: str) -> bool:
    """Whether a shell-style glob (``fnmatch``) matches every name a table can have.

    Exact, by probing: a glob is ``*`` and one-character matchers (a literal, ``?``, a class).
    One that refuses some character ``x`` refuses ``x`` repeated at any length; when none
    refuses any, only the length counts, and the shortest and longest names settle it. So
    ``[a-zA-Z0-9_.-]*`` or ``[!/]*`` is caught as surely as ``*``."""
    return all(
        fnmatch.fnmatchcase(character * length, pattern)
        for character in TABLE_NAME_CHARACTERS
        for length in TABLE_NAME_LENGTHS
    )


def glob_matches_every_attribute(pattern: str, attributes: Iterable[str]) -> bool:
    """Whether a glob matches every attribute in ``attributes`` (those every table has): such a
    glob accepts any drift of a table's settings, whatever else it was written for."""
    return all(fnmatch.fnmatchcase(attribute, pattern) for attribute in attributes)


@dataclass(frozen=True)
class IgnoreRule:
    """Accepted drift (the config's ``ignore:``): glob patterns, a reason and an optional expiry.

    ``table`` and ``attribute`` are shell-style globs (``fnmatch``, case-sensitive) matched
    against the AWS table name and the attribute vocabulary (``tags.*``, ``gsi.*.read_capacity``).
    A rule applies up to the end of the day before ``until`` (UTC): from ``until`` on it is
    expired, stops applying, and is reported once.
    """

    table: str
    attribute: str
    reason: str
    until: date | None = None

    def matches(self, table: str, attribute: str) -> bool:
        """Whether the rule accepts this drift. The table's existence (attribute ``table``: the
        table is missing) is accepted only by a rule that names ``table`` itself: a glob written
        for a table's settings (``*``, ``t*``) must not also hide the table being deleted."""
        if not fnmatch.fnmatchcase(table, self.table):
            return False
        if attribute == EXISTENCE_ATTRIBUTE:
            return self.attribute == EXISTENCE_ATTRIBUTE
        return fnmatch.fnmatchcase(attribute, self.attribute)

    def expires_at(self) -> datetime | None:
        return None if self.until is None else datetime.combine(self.until, time(0), tzinfo=UTC)

    def expired(self, now: datetime) -> bool:
        expiry = self.expires_at()
        return expiry is not None and now >= expiry

    @property
    def key(self) -> str:
        """A stable identity: the same rule (all four fields) has the same key across restarts."""
        text = json.dumps([self.table, self.attribute, self.reason, str(self.until)], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> str:
        until = f", until {self.until.isoformat()}" if self.until else ""
        return f"table {self.table!r}, attribute {self.attribute!r} ({self.reason}{until})"


@dataclass(frozen=True)
class IgnoredDrift:
    """Drift that an ignore rule accepts: shown with the rule's reason, never alerted."""

    attribute: str
    declared: Any
    live: Any
    reason: str
    until: date | None = None


@dataclass(frozen=True)
class PendingDrift:
    """Drift that is a merge not applied yet (see driftwatch.settle).

    The live value is what the declaration said at the last commit older than the grace, and
    the current declaration changed it. ``file`` and ``commit`` are the newest change, inside
    the grace, to a file the table's evaluation read; ``changed_at`` is that commit's time (when
    driftwatch first saw it, or its committer date), ``until`` that time plus the grace: shown,
    not alerted, until then, after which it is drift if it is still there.
    """

    attribute: str
    declared: Any
    live: Any
    file: str
    commit: str
    changed_at: datetime
    until: datetime


class TableStatus(enum.StrEnum):
    IN_SYNC = "in_sync"
    DRIFTED = "drifted"
    MISSING = "missing"
    ERROR = "error"
    # All remaining drift of the table is a merge not applied yet.
    PENDING = "pending"
    # A live table that no declaration covers (opt-in discovery per target).
    UNMANAGED = "unmanaged"


def nested_in(attribute: str, parents: Iterable[str]) -> bool:
    """Whether ``attribute`` is one of ``parents`` or below one at a dot (``tags`` holds
    ``tags.Team``): what an unresolved attribute leaves uncompared, for the history and
    /metrics alike."""
    return any(attribute == parent or attribute.startswith(f"{parent}.") for parent in parents)


def _covers(key: str, attribute: str) -> bool:
    """``gsi.*.autoscaling`` covers ``gsi.by-user.autoscaling.read.min``; only ``*`` is a
    wildcard (a tag key may hold ``[`` or ``?``)."""
    pattern = ".+".join(re.escape(part) for part in key.split("*"))
    return re.fullmatch(pattern + r"(?:\..+)?", attribute, re.S) is not None


@dataclass(frozen=True)
class TableResult:
    """The outcome of checking one declared table (or one unmanaged live table); a report row.

    ``drift`` holds what is alerted; ``ignored`` and ``pending`` hold drift that is shown but
    never alerted. An unmanaged row has no ``address`` or ``source`` and one drift item
    ``table`` (declared None, live the name); it is alerted only with ``alert_unmanaged``.
    """

    target: str
    address: str | None
    source: SourceLocation | None
    table_name: str | None
    region: str | None
    status: TableStatus
    drift: tuple[Drift, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()
    error: str | None = None
    ignored: tuple[IgnoredDrift, ...] = ()
    pending: tuple[PendingDrift, ...] = ()
    alert_unmanaged: bool = False
    # The declaration's attribute-level locations (DeclaredTable.locations).
    locations: Mapping[str, SourceLocation] = field(default_factory=dict, compare=False)

    def source_of(self, attribute: str) -> SourceLocation | None:
        """Where ``attribute`` is written in git: the most specific of ``locations`` that covers
        it (``tags.Team``, then ``gsi.*.autoscaling.read.min``, then ``gsi``...), else the
        table's own line. A key covers the attribute itself and everything below it."""
        best: tuple[int, SourceLocation] | None = None
        for key, location in self.locations.items():
            if _covers(key, attribute):
                specificity = len(key) - key.count("*")
                if best is None or specificity > best[0]:
                    best = (specificity, location)
        return best[1] if best is not None else self.source

    @property
    def alerts(self) -> bool:
        """Whether this row pages anyone: exit code 2, Slack, ``driftwatch_table_drifted``."""
        if self.status is TableStatus.UNMANAGED:
            return self.alert_unmanaged
        return self.status in (TableStatus.DRIFTED, TableStatus.MISSING)


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
    column: int | None = None

    @property
    def location(self) -> str:
        """``file:line:column`` as far as known (the form editors and CI annotations link to)."""
        parts = [str(p) for p in (self.file, self.line, self.column if self.line else None) if p]
        return ":".join(parts)


@dataclass(frozen=True)
class NotEvaluated:
    """A module call or resource that may declare tables and was not evaluated, and why: a
    source that could not be fetched, a source kind driftwatch does not fetch, an unknown
    ``count``/``for_each``, a module version driftwatch does not know. Its tables are not
    watched, so it is said in every output and makes the scan exit 1, never silently absent."""

    target: str
    address: str
    source: SourceLocation | None
    reason: str


@dataclass(frozen=True)
class PendingUnavailable:
    """A target whose pending applies could not be determined (no git, a shallow clone, git
    refusing the repository, an object missing from a partial clone, ...): its drift alerts at
    once, nothing is held back as pending. Said in every output, not only in the log, so that
    an operator who expects pending drift learns why there is none."""

    target: str
    reason: str


@dataclass(frozen=True)
class RootNotCovered:
    """A directory of the repository that declares DynamoDB tables and that no target evaluates
    (``driftwatch.terraform.roots``): its tables are watched by nobody. ``path`` is relative to
    the repository; an empty path is a survey cut short, ``reason`` saying where. Advice, not a
    failure: said in every output, never in the exit code (driftwatch cannot know whether a
    directory is ever applied)."""

    path: str
    source: SourceLocation | None
    reason: str


@dataclass(frozen=True)
class ScanReport:
    generated_at: datetime
    commit: str | None
    tables: tuple[TableResult, ...]
    errors: tuple[TargetError, ...] = ()
    duration_seconds: float | None = None
    # Ignore rules of the configuration whose `until` has passed: they no longer apply.
    expired_ignore_rules: tuple[IgnoreRule, ...] = ()
    # Module calls and resources that may declare tables and were not evaluated (not watched).
    not_evaluated: tuple[NotEvaluated, ...] = ()
    # The work tree differs from ``commit`` (the declarations include uncommitted edits).
    dirty: bool = False
    # Targets with a pending grace whose pending applies could not be determined (why).
    pending_unavailable: tuple[PendingUnavailable, ...] = ()
    # Directories that declare tables and that no target evaluates (the repository survey).
    roots_not_covered: tuple[RootNotCovered, ...] = ()
    # Why the checkout may be stale (git-sync's error file is present: its syncs fail); None:
    # not known to be (driftwatch.checkout).
    checkout_stale: str | None = None
    # The directories the repository survey found declaring tables, covered or not (None: no
    # survey, or it failed): not rendered; the daemon tells a directory that left the
    # repository from one a target now evaluates (driftwatch.notify.coverage.Listing).
    roots_declaring: frozenset[str] | None = None
    # Where the scanned ``repo`` lies in its git checkout ("" at the top): report links to the
    # repository's web address count from the checkout's top (driftwatch.report.links).
    repo_subdir: str = ""

    def count(self, status: TableStatus) -> int:
        return sum(1 for t in self.tables if t.status is status)

    @property
    def incomplete_targets(self) -> frozenset[str]:
        """Targets that did not list every table they declare (an error, or a module call not
        evaluated): a table absent from their rows may still be declared, so its absence is
        never read as "no longer declared" (the history) or "fixed" (/metrics)."""
        return frozenset(error.target for error in self.errors) | {item.target for item in self.not_evaluated}

    @property
    def unresolved_count(self) -> int:
        """Attributes of declared tables that were not compared (unresolved): each table counts
        an attribute once, however many reasons it has. Shown in every summary, so that "in
        sync" never stands alone beside a value nobody compared."""
        return sum(
            len({u.attribute for u in row.unresolved})
            for row in self.tables
            if row.status is not TableStatus.UNMANAGED
        )

    @property
    def exit_code(self) -> int:
        """0 in sync, 2 drift or missing, 1 anything unchecked (like plan -detailed-exitcode).

        "Could not check" wins over drift: a CI job must not go green-with-warnings when part
        of the estate was never looked at. Pending and ignored drift and unmanaged tables do
        not alert (0), except unmanaged tables of a target with ``unmanaged.alert`` (2).
        """
        if self.errors or self.not_evaluated or self.count(TableStatus.ERROR):
            return 1
        if any(row.alerts for row in self.tables):
            return 2
        return 0
