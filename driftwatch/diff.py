"""Declared vs live: which attributes of a DynamoDB table have drifted.

``diff`` is a pure function over two ``TableSpec`` values. It imports neither boto3 nor hcl2,
so it can be tested exhaustively without AWS, and it is deterministic (drift and unresolved
items are sorted by attribute) so reports, metrics labels and history rows are stable.

It must agree with ``terraform plan`` (the ground truth of tests/test_e2e_ground_truth.py: one
test per out-of-band change, each with what ``terraform plan`` reported), because a detector
that disagrees with the tool people fix drift with is not trusted. The rules below therefore
mirror what Terraform does, with one deliberate deviation: capacity that an autoscaler owns
(inside its live [min, max]) is not drift, where ``terraform plan`` reports the CloudPosse
module's perpetual GSI capacity diff. ``parity="strict"`` switches that deviation off.

Two principles shape every comparison:

* A declared value that is ``Unknown`` (anywhere inside it) is reported as ``Unresolved``,
  never as ``Drift``: a gap in evaluation may cost a finding but never raises a false alarm.
* An attribute the declaration does not manage (``TableSpec.unmanaged``: lifecycle
  ``ignore_changes``, the module ignoring table capacity, module 0.35.0 having no ``ttl``
  block) is skipped, exactly where Terraform would not look at it.

The live table's ``status`` is not consulted: a table that is CREATING/UPDATING still gets a
full diff, and the caller decides how to report it (it must not alert on it). A replica's
status is: a replica that is not ACTIVE is drift on ``replicas``, like a missing or extra one.

``apply_ignore_rules`` then splits drift into what is still drift and what the configuration's
ignore rules accept (shown with their reason, never alerted); expired rules never match.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Literal, TypeAlias, TypeVar, get_args

from driftwatch.spec import (
    AWS_TAG_PREFIX,
    Autoscaling,
    BillingMode,
    Drift,
    Gsi,
    IgnoredDrift,
    IgnoreRule,
    Lsi,
    Maybe,
    ScalingTarget,
    TableSpec,
    Unknown,
    Unresolved,
    first_unknown,
)

__all__ = ["DiffResult", "Parity", "apply_ignore_rules", "diff"]

Parity = Literal["default", "strict"]

# Whether an attribute is comparable at all: True compare, False skip silently, Unknown report
# the attribute as unresolved (its relevance depends on a declared value we do not know).
_Gate: TypeAlias = bool | Unknown

_IndexT = TypeVar("_IndexT", Gsi, Lsi)

_ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class DiffResult:
    """What differs (``drift``) and what could not be compared (``unresolved``)."""

    drift: tuple[Drift, ...]
    unresolved: tuple[Unresolved, ...]


# --------------------------------------------------------------------------- values


def _plain(value: object) -> object:
    """A JSON-serialisable, order-free form of a value, used both to compare and to report.

    Sets become sorted lists (order of non-key attributes and replicas is not drift), enums
    their value (``BillingMode`` must serialise as a plain string).
    """
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _as_set(value: object) -> object:
    """None means "no elements": CloudPosse passes ``non_key_attributes = null`` for ALL."""
    return frozenset() if value is None else value


def _blank_as_none(value: object) -> object:
    """CloudPosse spells "no sort key" as ``range_key = ""``; AWS just has none."""
    return None if value == "" else value


def _as_float(value: object) -> object:
    """Target values are floats in AWS but often integers in HCL: 50 must equal 50.0."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _identity(value: object) -> object:
    return value


# --------------------------------------------------------------------------- gates


def _is_true(value: object) -> _Gate:
    """A gate that opens on a known True, stays unknown on an Unknown."""
    if isinstance(value, Unknown):
        return value
    return value is True


def _all(*gates: _Gate) -> _Gate:
    """Combine gates: any certain skip wins over an unknown (then the answer is known)."""
    if any(g is False for g in gates):
        return False
    return next((g for g in gates if isinstance(g, Unknown)), True)


def _always(declared: TableSpec, live: TableSpec) -> _Gate:
    return True


def _provisioned(declared: TableSpec, live: TableSpec) -> _Gate:
    """Capacity and its autoscaling only mean something when both sides are PROVISIONED.

    Under PAY_PER_REQUEST AWS may still report stale throughput; when the live table switched
    billing mode, ``billing_mode`` drift already says everything that matters. An on-demand
    live table skips capacity even when the declared mode is Unknown: it is moot either way.
    """
    on_demand = BillingMode.PAY_PER_REQUEST.value

    def not_on_demand(mode: Any) -> _Gate:
        # either side: an Unknown live mode (Unknown != "PAY_PER_REQUEST" was True) compared
        # the capacity of what may be an on-demand table
        return mode if isinstance(mode, Unknown) else _plain(mode) != on_demand

    return _all(not_on_demand(declared.billing_mode), not_on_demand(live.billing_mode))


def _both_have_range_key(declared: TableSpec, live: TableSpec) -> _Gate:
    """Without a sort key on one side, ``range_key`` drift already says it; its type is noise.

    An Unknown sort key may be "no sort key", so its type is then unresolved.
    """

    def has(key: Any) -> _Gate:  # an Unknown sort key, on either side, may be none
        return key if isinstance(key, Unknown) else _blank_as_none(key) is not None

    return _all(has(declared.range_key), has(live.range_key))


def _ttl_on_both(declared: TableSpec, live: TableSpec) -> _Gate:
    """A disabled TTL's attribute name is irrelevant (AWS does not even report one)."""
    return _all(_is_true(declared.ttl.enabled), _is_true(live.ttl.enabled))


def _declared_kms_key(declared: TableSpec, live: TableSpec) -> _Gate:
    """A declared key of None accepts any live key (row 16); only a named key must match."""
    return _all(
        _is_true(declared.sse.enabled),
        _is_true(live.sse.enabled),
        declared.sse.kms_key_arn is not None,
    )


def _stream_on_both(declared: TableSpec, live: TableSpec) -> _Gate:
    """A view type only exists on an enabled stream; ``stream.enabled`` covers the rest."""
    return _all(_is_true(declared.stream.enabled), _is_true(live.stream.enabled))


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class _Field:
    """One scalar attribute: vocabulary name, how to read it, when it is comparable."""

    attribute: str
    gate: Callable[[TableSpec, TableSpec], _Gate] = _always
    normalise: Callable[[object], object] = _identity

    def read(self, spec: TableSpec) -> object:
        # Vocabulary names are the dotted attribute paths of TableSpec ("ttl.enabled").
        return self.normalise(attrgetter(self.attribute)(spec))


_TABLE_FIELDS: tuple[_Field, ...] = (
    _Field("hash_key"),
    _Field("hash_key_type"),
    _Field("range_key", normalise=_blank_as_none),
    _Field("range_key_type", gate=_both_have_range_key),
    _Field("billing_mode"),
    _Field("table_class"),
    _Field("ttl.enabled"),
    _Field("ttl.attribute", gate=_ttl_on_both),
    _Field("point_in_time_recovery"),
    _Field("sse.enabled"),
    _Field("sse.kms_key_arn", gate=_declared_kms_key),
    _Field("stream.enabled"),
    _Field("stream.view_type", gate=_stream_on_both),
    _Field("deletion_protection"),
)

# The attributes every table is compared on (an ignore rule matching them all is refused).
TABLE_ATTRIBUTES: tuple[str, ...] = tuple(field.attribute for field in _TABLE_FIELDS)

# (field, normaliser) of the index fields compared by plain equality.
_GSI_FIELDS: tuple[tuple[str, Callable[[object], object]], ...] = (
    ("hash_key", _identity),
    ("range_key", _blank_as_none),
    ("projection_type", _identity),
    ("non_key_attributes", _as_set),
)
_LSI_FIELDS = _GSI_FIELDS[1:]


# --------------------------------------------------------------------------- collector


class _Collector:
    """Accumulates findings, applying the skip/unresolved/compare rules in one place."""

    def __init__(self, declared: TableSpec) -> None:
        self._declared = declared
        self.drift: list[Drift] = []
        self.unresolved: list[Unresolved] = []

    def managed(self, attribute: str) -> bool:
        """Unmanaged if the attribute or any ancestor is (``ignore_changes = [tags]`` covers
        every ``tags.<key>`` even when written without ``.*``).

        A scalable target is a resource of its own, so the ancestors above ``autoscaling``
        (``gsi``, ``gsi.<name>``: the table's ``ignore_changes = [global_secondary_index]``) do
        not reach ``gsi.<name>.autoscaling.*``, as in ``TableSpec.is_managed``."""
        parts = attribute.split(".")
        start = parts.index("autoscaling") + 1 if "autoscaling" in parts else 1
        return all(self._declared.is_managed(".".join(parts[:i])) for i in range(start, len(parts) + 1))

    def unresolve(self, attribute: str, unknown: Unknown, *, live_side: bool = False) -> None:
        reason = f"live value unknown: {unknown.reason}" if live_side else unknown.reason
        self.unresolved.append(Unresolved(attribute, reason))

    def compare(self, attribute: str, declared: object, live: object, *, gate: _Gate = True) -> None:
        """Record drift if both values are known, comparable and differ."""
        if gate is False or not self.managed(attribute):
            return
        if isinstance(gate, Unknown):
            self.unresolve(attribute, gate)
            return
        unknown = first_unknown(declared)
        if unknown is not None:
            self.unresolve(attribute, unknown)
            return
        unknown = first_unknown(live)  # the live side never should; never guess if it does
        if unknown is not None:
            self.unresolve(attribute, unknown, live_side=True)
            return
        declared_plain, live_plain = _plain(declared), _plain(live)
        if declared_plain != live_plain:
            self.drift.append(Drift(attribute, declared_plain, live_plain))

    def whole_unknown(self, attribute: str, declared: object, live: object) -> None:
        """A collection (tags, GSIs, LSIs) that is wholly Unknown on one side: one unresolved."""
        if not self.managed(attribute):
            return
        if isinstance(declared, Unknown):
            self.unresolve(attribute, declared)
        elif isinstance(live, Unknown):
            self.unresolve(attribute, live, live_side=True)

    def result(self) -> DiffResult:
        return DiffResult(
            drift=tuple(sorted(self.drift, key=attrgetter("attribute"))),
            unresolved=tuple(sorted(self.unresolved, key=attrgetter("attribute"))),
        )


# --------------------------------------------------------------------------- comparisons


def _owned_by_autoscaler(live_units: object, target: ScalingTarget | None) -> bool:
    """Capacity inside a live scalable target's [min, max] is the autoscaler's to set."""
    if target is None or not isinstance(live_units, int):
        return False
    low, high = target.min, target.max
    return isinstance(low, int) and isinstance(high, int) and low <= live_units <= high


def _capacity(
    c: _Collector,
    attribute: str,
    declared_units: Maybe[int] | None,
    live_units: Maybe[int] | None,
    live_target: ScalingTarget | None,
    *,
    gate: _Gate,
    parity: Parity,
) -> None:
    """Table or GSI read/write capacity; None declared means "not declared", not compared."""
    if declared_units is None:
        return
    if parity == "default" and _owned_by_autoscaler(live_units, live_target):
        return
    if parity == "default" and live_target is not None:
        # a bound that is Unknown may hold the live capacity: whether it is the autoscaler's
        # is then unknown, so the capacity is unresolved, never drift
        bound = next((b for b in (live_target.min, live_target.max) if isinstance(b, Unknown)), None)
        if bound is not None:
            gate = _all(gate, bound)
    c.compare(attribute, declared_units, live_units, gate=gate)


def _scaling_target(
    c: _Collector, prefix: str, declared: ScalingTarget | None, live: ScalingTarget | None, gate: _Gate
) -> None:
    """min/max/target of one dimension; a target declared but gone live is drift on each.

    A dimension with no declared target is not compared at all: Terraform does not manage
    scalable targets it did not create, so a foreign live target is not drift.
    """
    if declared is None:
        return
    c.compare(f"{prefix}.min", declared.min, live.min if live else None, gate=gate)
    c.compare(f"{prefix}.max", declared.max, live.max if live else None, gate=gate)
    if declared.suspended_state is not None and live is not None:
        # the block declared: what it leaves out is not suspended (the provider's defaults)
        have = live.suspended_state if live.suspended_state is not None else frozenset()
        c.compare(f"{prefix}.suspended_state", declared.suspended_state, have, gate=gate)
    if declared.target is not None:
        live_target = _as_float(live.target) if live else None
        c.compare(f"{prefix}.target", _as_float(declared.target), live_target, gate=gate)
        _policy_settings(c, prefix, declared, live, gate)


# A target-tracking policy's settings besides its target value, with the value an unset one
# has on both sides (the provider plans an unset cooldown as 0 and disable_scale_in as false).
_POLICY_SETTINGS: tuple[tuple[str, int | bool], ...] = (
    ("scale_in_cooldown", 0),
    ("scale_out_cooldown", 0),
    ("disable_scale_in", False),
)


def _policy_settings(
    c: _Collector, prefix: str, declared: ScalingTarget, live: ScalingTarget | None, gate: _Gate
) -> None:
    """Cooldowns, ``disable_scale_in`` and metric of a declared target-tracking policy.

    A live policy that is missing is reported once, on ``.target``. Where either side's policy
    is Unknown, so are its settings (unresolved, never drift).
    """
    if live is None or live.target is None:
        return
    for field, default in _POLICY_SETTINGS:
        want = declared.target if isinstance(declared.target, Unknown) else getattr(declared, field)
        have = live.target if isinstance(live.target, Unknown) else getattr(live, field)
        c.compare(
            f"{prefix}.{field}",
            default if want is None else want,
            default if have is None else have,
            gate=gate,
        )
    # None: the declaration does not say (nothing to compare), unless which policy is unknown
    if declared.metric is not None or isinstance(declared.target, Unknown):
        want = declared.target if isinstance(declared.target, Unknown) else declared.metric
        have = live.target if isinstance(live.target, Unknown) else live.metric
        c.compare(f"{prefix}.metric", want, have, gate=gate)


def _autoscaling(c: _Collector, prefix: str, declared: Autoscaling, live: Autoscaling, gate: _Gate) -> None:
    _scaling_target(c, f"{prefix}.read", declared.read, live.read, gate)
    _scaling_target(c, f"{prefix}.write", declared.write, live.write, gate)


def _match_indexes(
    c: _Collector, kind: str, declared: Maybe[tuple[_IndexT, ...]], live: Maybe[tuple[_IndexT, ...]]
) -> list[tuple[str, _IndexT, _IndexT]]:
    """Pair indexes by name (order is not drift); record missing and unexpected ones."""
    if isinstance(declared, Unknown) or isinstance(live, Unknown):
        c.whole_unknown(kind, declared, live)
        return []
    declared_by_name = {index.name: index for index in declared}
    live_by_name = {index.name: index for index in live}
    pairs: list[tuple[str, _IndexT, _IndexT]] = []
    for name in sorted(declared_by_name.keys() | live_by_name.keys()):
        want, have = declared_by_name.get(name), live_by_name.get(name)
        if want is not None and have is not None:
            pairs.append((name, want, have))
        else:
            # Presence drift reads like a tag: the index name on the side that has it, else None.
            c.compare(f"{kind}.{name}", name if want else None, name if have else None)
    return pairs


def _index_fields(
    c: _Collector,
    prefix: str,
    fields: Iterable[tuple[str, Callable[[object], object]]],
    want: Gsi | Lsi,
    have: Gsi | Lsi,
) -> None:
    for field_name, normalise in fields:
        c.compare(
            f"{prefix}.{field_name}",
            normalise(getattr(want, field_name)),
            normalise(getattr(have, field_name)),
        )


def _capacities(
    c: _Collector, prefix: str, want: TableSpec | Gsi, have: TableSpec | Gsi, gate: _Gate, parity: Parity
) -> None:
    """Read and write capacity of a table or a GSI (``prefix`` empty or ``gsi.<name>.``)."""
    for dim in ("read", "write"):
        _capacity(
            c,
            f"{prefix}{dim}_capacity",
            getattr(want, f"{dim}_capacity"),
            getattr(have, f"{dim}_capacity"),
            getattr(have.autoscaling, dim),
            gate=gate,
            parity=parity,
        )


def _gsis(c: _Collector, declared: TableSpec, live: TableSpec, parity: Parity) -> None:
    gate = _provisioned(declared, live)
    for name, want, have in _match_indexes(c, "gsi", declared.gsis, live.gsis):
        prefix = f"gsi.{name}"
        _index_fields(c, prefix, _GSI_FIELDS, want, have)
        _capacities(c, f"{prefix}.", want, have, gate, parity)
        _autoscaling(c, f"{prefix}.autoscaling", want.autoscaling, have.autoscaling, gate)


def _lsis(c: _Collector, declared: TableSpec, live: TableSpec) -> None:
    for name, want, have in _match_indexes(c, "lsi", declared.lsis, live.lsis):
        _index_fields(c, f"lsi.{name}", _LSI_FIELDS, want, have)


def _tags(c: _Collector, declared: TableSpec, live: TableSpec) -> None:
    """Per key; a wholly Unknown map cannot say whether an extra live key is drift."""
    if isinstance(declared.tags, Unknown) or isinstance(live.tags, Unknown):
        c.whole_unknown("tags", declared.tags, live.tags)
        return
    ignored = declared.ignore_tags
    want, have = ignored.user_tags(declared.tags), ignored.user_tags(live.tags)
    for key in sorted(want.keys() | have.keys()):
        c.compare(f"tags.{key}", want.get(key), have.get(key))


def _restored_tags(c: _Collector, declared: TableSpec, live: TableSpec) -> None:
    """Tags whose value is not managed but whose absence is (``TableSpec.restored_tags``): a
    deleted one is drift, whatever value the table gives it is not."""
    for key, value in sorted(declared.ignore_tags.user_tags(declared.restored_tags).items()):
        attribute = f"tags.{key}"
        if c.managed(attribute):
            continue  # its value is compared, which covers its absence
        if isinstance(live.tags, Unknown):
            c.unresolve(attribute, live.tags, live_side=True)
        elif key in live.tags:
            continue
        elif isinstance(value, Unknown):
            c.unresolve(attribute, value)
        else:
            c.drift.append(Drift(attribute, value, None))


def _tag_resources(c: _Collector, declared: TableSpec, live: TableSpec) -> None:
    """Tags put by ``aws_dynamodb_tag`` resources (``TableSpec.tag_resources``): the live value
    must be theirs, whatever the table's ``ignore_changes`` and the provider's ``ignore_tags``
    say (neither reaches another resource). A key the table's own tags already found drifted
    or unresolved is reported once: terraform plan changes the table or the tag resource, and
    either way the table is drifted."""
    reported = {d.attribute for d in c.drift} | {u.attribute for u in c.unresolved}
    for key, value in sorted(declared.tag_resources.items()):
        attribute = f"tags.{key}"
        if key.startswith(AWS_TAG_PREFIX) or attribute in reported:
            continue
        if isinstance(live.tags, Unknown):
            c.unresolve(attribute, live.tags, live_side=True)
        elif isinstance(value, Unknown):
            c.unresolve(attribute, value)
        elif live.tags.get(key) != value:
            c.drift.append(Drift(attribute, value, live.tags.get(key)))


def _replicas(c: _Collector, declared: TableSpec, live: TableSpec) -> None:
    """Replica regions as a set (order is not drift); a live replica that is not ACTIVE is
    drift too, shown as ``"<region> (<status>)"`` so the finding says what is wrong with it."""
    statuses = live.replica_status or {}
    have = _as_set(live.replicas)
    if isinstance(have, frozenset):
        have = frozenset(
            region if statuses.get(region, _ACTIVE) == _ACTIVE else f"{region} ({statuses[region]})"
            for region in have
        )
    c.compare("replicas", _as_set(declared.replicas), have)


# --------------------------------------------------------------------------- entry point


def diff(declared: TableSpec, live: TableSpec, *, parity: Parity = "default") -> DiffResult:
    """Compare what git declares with what AWS runs.

    ``parity="default"`` treats capacity inside a live autoscaling target's [min, max] as the
    autoscaler's (not drift); ``"strict"`` compares capacity exactly, as ``terraform plan``
    does. Pure and deterministic: no I/O, results sorted by attribute.
    """
    if parity not in get_args(Parity):
        raise ValueError(f"parity must be one of {get_args(Parity)}, not {parity!r}")
    c = _Collector(declared)
    for f in _TABLE_FIELDS:
        c.compare(f.attribute, f.read(declared), f.read(live), gate=f.gate(declared, live))
    provisioned = _provisioned(declared, live)
    _capacities(c, "", declared, live, provisioned, parity)
    _autoscaling(c, "autoscaling", declared.autoscaling, live.autoscaling, provisioned)
    _gsis(c, declared, live, parity)
    _lsis(c, declared, live)
    _replicas(c, declared, live)
    _tags(c, declared, live)
    _restored_tags(c, declared, live)
    _tag_resources(c, declared, live)
    return c.result()


# --------------------------------------------------------------------------- ignore rules


def apply_ignore_rules(
    table: str, drift: Iterable[Drift], rules: Sequence[IgnoreRule], now: datetime
) -> tuple[tuple[Drift, ...], tuple[IgnoredDrift, ...]]:
    """Split drift into what is still drift and what an unexpired ignore rule accepts.

    The first matching rule (in config order) gives the reason shown. Expired rules never
    match: accepted drift comes back as drift the day the rule's ``until`` is reached.
    """
    active = [rule for rule in rules if not rule.expired(now)]
    kept: list[Drift] = []
    ignored: list[IgnoredDrift] = []
    for item in drift:
        rule = next((r for r in active if r.matches(table, item.attribute)), None)
        if rule is None:
            kept.append(item)
        else:
            ignored.append(IgnoredDrift(item.attribute, item.declared, item.live, rule.reason, rule.until))
    return tuple(kept), tuple(ignored)
