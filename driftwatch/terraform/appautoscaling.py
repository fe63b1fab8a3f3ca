"""``aws_appautoscaling_target`` / ``aws_appautoscaling_policy`` -> the autoscaling of declared tables.

Terraform declares a table's autoscaling in resources separate from the table, joined to it only
through values: a target's ``resource_id`` (``table/<name>`` or ``table/<name>/index/<gsi>``)
and ``scalable_dimension`` (``dynamodb:table:ReadCapacityUnits``...), and a policy's same two
values (usually copied from its target by reference). This module is that join, as a pure
function of evaluated arguments: the walk (``modules.py``) evaluates every such resource in
every module instance, with ``count`` / ``for_each``, and hands them here together with the
tables it found.

What the join decides, and why:

* A target of another service (``service_namespace = "ecs"``) is none of driftwatch's business.
* The table is found by name and region. A DynamoDB target that cannot be joined -- its
  ``resource_id`` is unknown, malformed, or names a table (or GSI) this target does not declare
  -- is reported as a problem: Terraform manages it, driftwatch cannot compare it, and
  silence would read as "in sync".
* min/max come from the target, the target value from a ``TargetTrackingScaling`` policy on the
  same resource and dimension (the live side does the same: aws/autoscaling.py). A value that
  cannot be resolved is ``Unknown``, never drift. Two declarations of one scalable target (two
  resources, or the CloudPosse module and a resource) make its values Unknown: which one
  Terraform converges to is not knowable.
* A table that gets a declared target has that dimension managed (``autoscaling.*`` leaves
  ``TableSpec.unmanaged``); dimensions without one stay unmanaged, so a foreign live target is
  not drift. A target's or policy's own ``lifecycle.ignore_changes`` (``min_capacity``,
  ``max_capacity``, ``target_tracking_scaling_policy_configuration``, ``all``) leaves that value
  unmanaged, as Terraform does. ``all`` (or an entry that cannot be read) also names each value
  it leaves uncompared as unresolved, with the reason: not a silent "in sync".
* The target-tracking policy's cooldowns and ``disable_scale_in`` are compared too: ``terraform
  plan`` puts them back when they are edited in the console, also where the policy does not set
  them (unset is 0 seconds and false). A target's ``suspended_state`` is compared where the
  target writes the block (Optional and Computed: without it, Terraform leaves it alone).
* So is the metric the policy tracks (``predefined_metric_specification`` with its
  ``resource_label``, or ``customized_metric_specification``), as one value: see
  ``driftwatch.scaling_metric`` for what terraform plan counts as equal.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from driftwatch import scaling_metric
from driftwatch.bounds import safe_text
from driftwatch.spec import (
    Autoscaling,
    DeclaredTable,
    Maybe,
    ScalingTarget,
    TableSpec,
    Unknown,
    Unresolved,
)
from driftwatch.terraform.functions import is_number, to_string
from driftwatch.terraform.resource import ignore_changes_entries as _lifecycle_entries

TARGET = "aws_appautoscaling_target"
POLICY = "aws_appautoscaling_policy"
RESOURCE_TYPES = (TARGET, POLICY)

Direction = Literal["read", "write"]
_DIMENSIONS: dict[str, tuple[bool, Direction]] = {
    # dimension -> (is an index dimension, direction)
    "dynamodb:table:ReadCapacityUnits": (False, "read"),
    "dynamodb:table:WriteCapacityUnits": (False, "write"),
    "dynamodb:index:ReadCapacityUnits": (True, "read"),
    "dynamodb:index:WriteCapacityUnits": (True, "write"),
}
_TARGET_TRACKING = "TargetTrackingScaling"
_DEFAULT_POLICY_TYPE = "StepScaling"  # the provider's default for policy_type


@dataclass(frozen=True)
class ScalingResource:
    """One instance of a target or policy resource, with its evaluated arguments."""

    kind: str  # TARGET or POLICY
    address: str
    file: str
    line: int
    region: Maybe[str] | None
    arguments: Mapping[str, Any]
    inputs: tuple[str, ...] = ()  # files its evaluation read (see DeclaredTable.inputs)


@dataclass(frozen=True)
class Problem:
    """A scaling resource that could not be joined to a declared table; reported, not dropped."""

    message: str
    file: str
    line: int


# (table name, GSI name or None, direction)
_Key = tuple[str, str | None, Direction]


def _parse_key(resource_id: str, dimension: str) -> _Key | str:
    """The key a resource_id + dimension address, or why it does not address a table or GSI."""
    kind = _DIMENSIONS.get(dimension)
    if kind is None:
        return f"scalable_dimension {dimension!r} is not a DynamoDB capacity dimension"
    is_index, direction = kind
    parts = resource_id.split("/")
    if not is_index and len(parts) == 2 and parts[0] == "table" and parts[1]:
        return parts[1], None, direction
    if is_index and len(parts) == 4 and parts[0] == "table" and parts[2] == "index" and parts[1] and parts[3]:
        return parts[1], parts[3], direction
    shape = "table/<table>/index/<index>" if is_index else "table/<table>"
    return f"resource_id {resource_id!r} does not match {dimension} (expected {shape})"


def _is_dynamodb(arguments: Mapping[str, Any]) -> Maybe[bool]:
    """Whether a resource scales DynamoDB; Unknown when nothing says."""
    namespace = arguments.get("service_namespace")
    if isinstance(namespace, str):
        return namespace == "dynamodb"
    dimension, resource_id = arguments.get("scalable_dimension"), arguments.get("resource_id")
    if isinstance(dimension, str):
        return dimension.startswith("dynamodb:")
    if isinstance(resource_id, str):
        return resource_id.startswith("table/")
    if isinstance(namespace, Unknown):
        return namespace
    return Unknown("service_namespace is not set")


def _key_of(resource: ScalingResource) -> _Key | str:
    """The resource's key, or the reason it has none (Unknown arguments name their cause)."""
    resource_id = resource.arguments.get("resource_id")
    dimension = resource.arguments.get("scalable_dimension")
    for name, value in (("resource_id", resource_id), ("scalable_dimension", dimension)):
        if isinstance(value, Unknown):
            return f"its {name} is unknown ({value.reason})"
        if not isinstance(value, str):
            return f"its {name} is not set"
    assert isinstance(resource_id, str) and isinstance(dimension, str)
    return _parse_key(resource_id, dimension)


def _integer(value: Any, what: str) -> Maybe[int]:
    if isinstance(value, Unknown):
        return value
    if value is None or isinstance(value, bool):
        return Unknown(f"{what} is not set")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer of 400 digits
        return Unknown(f"{what} {value!r} is not a number")
    return int(number) if number.is_integer() else Unknown(f"{what} {value!r} is not a whole number")


def _first_block(value: Any) -> Maybe[Mapping[str, Any]] | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Mapping):
        return value
    if isinstance(value, list) and value:
        first = value[0]
        if isinstance(first, (Unknown, Mapping)):
            return first
    return None


def _target_value(policy: ScalingResource) -> Maybe[float] | None:
    """The target-tracking value of a policy; None when it is not a target-tracking policy."""
    policy_type = policy.arguments.get("policy_type", _DEFAULT_POLICY_TYPE)
    if policy_type is None:
        policy_type = _DEFAULT_POLICY_TYPE
    if isinstance(policy_type, Unknown):
        return Unknown(f"the policy type of {policy.address} is unknown ({policy_type.reason})")
    if policy_type != _TARGET_TRACKING:
        return None
    config = _first_block(policy.arguments.get("target_tracking_scaling_policy_configuration"))
    if isinstance(config, Unknown):
        return config
    if config is None:
        return Unknown(f"{policy.address} has no target_tracking_scaling_policy_configuration")
    value = config.get("target_value")
    if isinstance(value, Unknown):
        return value
    if value is None or isinstance(value, bool):
        return Unknown(f"the target_value of {policy.address} is not set")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer of 400 digits
        return Unknown(f"the target_value of {policy.address} is not a number")
    if not math.isfinite(number):
        return Unknown(f"the target_value of {policy.address} is not a number")
    return number


def _policy_name(policy: ScalingResource) -> Maybe[str] | None:
    """The policy's name; Unknown where it is known only after apply (which live policy is
    Terraform's is then not known either)."""
    name = policy.arguments.get("name")
    return name if isinstance(name, (str, Unknown)) else None


def _combined_target(
    policies: Sequence[ScalingResource],
) -> tuple[Maybe[float] | None, ScalingResource | None]:
    """The target value among the target-tracking policies of one dimension, and the policy
    it comes from (None where there is none, or which one is not known).

    Several are unusual; like the live side, the one with the smallest name counts (names
    unknown: Unknown).
    """
    values = [(policy, _target_value(policy)) for policy in policies]
    tracking = [(policy, value) for policy, value in values if value is not None]
    if not tracking:
        return None, None
    if len(tracking) == 1:
        return tracking[0][1], tracking[0][0]
    named = [(_policy_name(policy), policy, value) for policy, value in tracking]
    if any(not isinstance(name, str) for name, _, _ in named):
        addresses = ", ".join(policy.address for policy, _ in tracking)
        return Unknown(f"several target-tracking policies ({addresses}) and not all names are known"), None
    _, chosen, value = min(named, key=lambda entry: str(entry[0]))
    return value, chosen


def _boolean(value: Any, what: str) -> Maybe[bool]:
    """A bool argument as Terraform converts it (``"true"`` / ``"false"`` strings too)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Unknown):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    return Unknown(f"{what} {value!r} is not a bool")


def _declared_text(address: str) -> scaling_metric.Text:
    """A string argument of ``address`` as Terraform converts it (numbers and bools too);
    unset is ``""``, as in the provider's state."""

    def text(value: Any, where: str) -> Maybe[str]:
        if value is None:
            return ""
        if isinstance(value, Unknown):
            return value
        if isinstance(value, (str, bool)) or is_number(value):
            return to_string(value)
        return Unknown(f"the {where} of {address} is not a string")

    return text


def _declared_flag(address: str) -> scaling_metric.Flag:
    def flag(value: Any, where: str) -> Maybe[bool]:
        return False if value is None else _boolean(value, f"the {where} of {address}")

    return flag


def _policy_settings(policy: ScalingResource | None) -> dict[str, Any]:
    """The cooldowns, ``disable_scale_in`` and metric of a target-tracking policy; an unset
    cooldown or flag is None (the diff reads it as the provider's default: 0 seconds, not
    disabled)."""
    config = (
        _first_block(policy.arguments.get("target_tracking_scaling_policy_configuration")) if policy else None
    )
    if policy is None or not isinstance(config, Mapping):
        return {}  # no such policy, or its configuration is Unknown (and so is its target value)
    settings: dict[str, Any] = {}
    for field in ("scale_in_cooldown", "scale_out_cooldown"):
        value = config.get(field)
        settings[field] = None if value is None else _integer(value, f"the {field} of {policy.address}")
    value = config.get("disable_scale_in")
    what = f"the disable_scale_in of {policy.address}"
    settings["disable_scale_in"] = None if value is None else _boolean(value, what)
    # the default written out (`scale_in_cooldown = 0`) is the default, as on the live side
    settings = {
        field: None if value in (0, False) and not isinstance(value, Unknown) else value
        for field, value in settings.items()
    }
    address = policy.address
    settings["metric"] = scaling_metric.metric(config, _declared_text(address), _declared_flag(address))
    return settings


def _region_matches(a: Maybe[str] | None, b: Maybe[str] | None) -> bool:
    """Regions agree unless both are known and differ (an unknown region cannot rule a table out)."""
    return not (isinstance(a, str) and isinstance(b, str) and a != b)


@dataclass
class _Dimension:
    targets: list[ScalingResource] = dataclasses.field(default_factory=list)
    policies: list[ScalingResource] = dataclasses.field(default_factory=list)


def _scaling_target(dimension: _Dimension) -> ScalingTarget:
    if len(dimension.targets) > 1:
        addresses = ", ".join(t.address for t in dimension.targets)
        twice = Unknown(f"the scalable target is declared more than once ({addresses})")
        return ScalingTarget(min=twice, max=twice, target=twice)
    target = dimension.targets[0]
    value, policy = _combined_target(dimension.policies)
    return ScalingTarget(
        min=_integer(target.arguments.get("min_capacity"), f"min_capacity of {target.address}"),
        max=_integer(target.arguments.get("max_capacity"), f"max_capacity of {target.address}"),
        target=value,
        suspended_state=_suspended_state(target),
        policy_name=_policy_name(policy) if policy is not None else None,
        **_policy_settings(policy),
    )


_SUSPENDED_FLAGS = {
    "dynamic_scaling_in_suspended": "dynamic_scaling_in",
    "dynamic_scaling_out_suspended": "dynamic_scaling_out",
    "scheduled_scaling_suspended": "scheduled_scaling",
}


def _suspended_state(target: ScalingResource) -> Maybe[frozenset[str]] | None:
    """The activities a target's ``suspended_state`` block suspends; None without the block
    (Optional and Computed: terraform plan then leaves the live state alone)."""
    block = _first_block(target.arguments.get("suspended_state"))
    if block is None or isinstance(block, Unknown):
        return block
    suspended: set[str] = set()
    for flag, name in _SUSPENDED_FLAGS.items():
        value = block.get(flag)
        if value is None:
            continue  # left out: false, the provider's default
        known = _boolean(value, f"the {flag} of {target.address}")
        if isinstance(known, Unknown):
            return known
        if known:
            suspended.add(name)
    return frozenset(suspended)


def _merge(
    existing: ScalingTarget | None, declared: ScalingTarget | None, address: str
) -> ScalingTarget | None:
    """A dimension the table declaration already scales (the CloudPosse module's autoscaler)
    and a resource declaring it again: two owners of one AWS object, so Unknown."""
    if declared is None:
        return existing
    if existing is None:
        return declared
    twice = Unknown(f"the scalable target is declared by the table's module and by {address}")
    return ScalingTarget(min=twice, max=twice, target=twice)


def _ignored_arguments(resource: ScalingResource) -> frozenset[str]:
    """Top-level arguments its ``lifecycle { ignore_changes }`` names; ``all`` for anything that
    cannot be read (an unknown entry could name anything: a missed finding, not a false alarm)."""
    lifecycles = resource.arguments.get("lifecycle")
    if lifecycles is None:
        return frozenset()
    if not isinstance(lifecycles, list):
        return frozenset({"all"})
    names: set[str] = set()
    for lifecycle in lifecycles:
        entries = lifecycle.get("ignore_changes") if isinstance(lifecycle, Mapping) else Unknown("?")
        if entries is None:
            continue
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            return frozenset({"all"})
        names.update(entry.split(".")[0].split("[")[0].strip() for entry in entries)
    return frozenset(names)


# What a target-tracking policy sets, as fields of its dimension's ScalingTarget.
_POLICY_FIELDS = ("target", "scale_in_cooldown", "scale_out_cooldown", "disable_scale_in", "metric")


def _unmanaged_fields(dimension: _Dimension) -> set[str]:
    """min / max / target of a dimension that its resources' ``ignore_changes`` leave alone
    (typical beside scheduled actions, which move min and max over the day)."""
    fields: set[str] = set()
    for target in dimension.targets:
        ignored = _ignored_arguments(target)
        if ignored & {"all", "min_capacity"}:
            fields.add("min")
        if ignored & {"all", "max_capacity"}:
            fields.add("max")
        if ignored & {"all", "suspended_state"}:
            fields.add("suspended_state")
    for policy in _compared_policies(dimension.policies):
        if _ignored_arguments(policy) & {"all", "target_tracking_scaling_policy_configuration"}:
            fields.update(_POLICY_FIELDS)
    return fields


def _compared_policies(policies: Sequence[ScalingResource]) -> list[ScalingResource]:
    """The policies whose settings the dimension's ScalingTarget holds, so whose own
    ``ignore_changes`` may leave them alone: the target-tracking policy compared
    (``_combined_target``), or every target-tracking one when which is not known. A step
    scaling policy, or a second tracking policy, ignoring its own arguments leaves the compared
    policy's drift to be seen, as Terraform plans it."""
    _, chosen = _combined_target(policies)
    if chosen is not None:
        return [chosen]
    return [policy for policy in policies if _target_value(policy) is not None]


def _everything_ignored(resource: ScalingResource) -> str | None:
    """Why ``lifecycle { ignore_changes }`` leaves none of ``resource``'s arguments compared
    (``all``, or an entry that cannot be read and so could name any); None where it does not."""
    if "all" not in _ignored_arguments(resource):
        return None
    entries = _lifecycle_entries(resource.arguments)
    if entries is not None and "all" in (entry.strip() for entry in entries):
        why = "terraform plan changes none of its arguments; none is compared"
        return f"ignore_changes = all on {resource.address}: {why}"
    return (
        f"an ignore_changes entry of {resource.address} could not be read and could name any argument, "
        "so none is compared"
    )


def _everything_ignored_notes(dimension: _Dimension, prefix: str) -> list[Unresolved]:
    """Each field a target or policy with ``ignore_changes = all`` leaves uncompared, named with
    the reason: Terraform is silent about them too, but a report that says "in sync" must not
    read as if driftwatch had looked (as for the table's own ``ignore_changes = all``)."""
    notes: dict[str, Unresolved] = {}
    for target in dimension.targets:
        why = _everything_ignored(target)
        if why is not None:
            # suspended_state is compared only where the block is written
            written = ("suspended_state",) if _suspended_state(target) is not None else ()
            for field in ("min", "max", *written):
                notes.setdefault(field, Unresolved(f"{prefix}.{field}", why))
    compared = _compared_policies(dimension.policies)
    for policy in dimension.policies:
        why = _everything_ignored(policy)
        if why is not None:
            # a step scaling policy's steps are not compared anyway; its note says why here
            if _target_value(policy) is None:
                fields: tuple[str, ...] = ("step_scaling",)
            else:  # a tracking policy that is not compared leaves nothing uncompared
                fields = _POLICY_FIELDS if policy in compared else ()
            for field in fields:
                notes.setdefault(field, Unresolved(f"{prefix}.{field}", why))
    return list(notes.values())


def _step_scaling_notes(dimension: _Dimension, prefix: str) -> list[Unresolved]:
    """A step scaling policy is Terraform's to put back when its steps are edited in the
    console, and driftwatch has no attribute for them: named as not compared, never silence."""
    notes: list[Unresolved] = []
    for policy in dimension.policies:
        if _target_value(policy) is not None:  # target tracking (or unknown): compared
            continue
        if _ignored_arguments(policy) & {"all", "step_scaling_policy_configuration"}:
            continue
        why = f"driftwatch does not compare the step scaling policy {policy.address}; terraform plan does"
        notes.append(Unresolved(f"{prefix}.step_scaling", why))
    return notes


def _uncompared_tracking_notes(dimension: _Dimension, prefix: str) -> list[Unresolved]:
    """A second target-tracking policy declared on one dimension is Terraform's to put back too,
    but one dimension has one compared target value: each policy beside the compared one is
    named as not compared, never a silent "in sync" (where which is compared is not known, the
    values are Unknown already; one whose own ``ignore_changes`` leaves its configuration alone
    is left alone by Terraform too)."""
    tracking = [policy for policy in dimension.policies if _target_value(policy) is not None]
    _, chosen = _combined_target(dimension.policies)
    if chosen is None or len(tracking) < 2:
        return []
    everything = {"all", "target_tracking_scaling_policy_configuration"}
    others = ", ".join(
        policy.address
        for policy in tracking
        if policy is not chosen and not _ignored_arguments(policy) & everything
    )
    if not others:  # Terraform leaves them alone too
        return []
    why = (
        f"driftwatch compares one target-tracking policy per dimension ({chosen.address}); "
        f"{others} not compared; terraform plan compares each"
    )
    return [Unresolved(f"{prefix}.target_tracking", why)]


def _with_autoscaling(
    table: DeclaredTable, dimensions: Mapping[tuple[str | None, Direction], _Dimension]
) -> tuple[DeclaredTable, list[Problem]]:
    """``table`` with the joined dimensions applied to its spec (and their files to its inputs)."""
    spec: TableSpec = table.spec
    problems: list[Problem] = []
    notes = list(table.notes)
    declared: dict[str | None, dict[Direction, ScalingTarget]] = {}
    inputs = set(table.inputs)
    unmanaged = set(spec.unmanaged)
    for (gsi, direction), dimension in dimensions.items():
        declared.setdefault(gsi, {})[direction] = _scaling_target(dimension)
        for resource in (*dimension.targets, *dimension.policies):
            inputs.update(resource.inputs)
        prefix = "autoscaling" if gsi is None else f"gsi.{gsi}.autoscaling"
        unmanaged.update(f"{prefix}.{direction}.{field}" for field in _unmanaged_fields(dimension))
        notes.extend(_step_scaling_notes(dimension, f"{prefix}.{direction}"))
        notes.extend(_uncompared_tracking_notes(dimension, f"{prefix}.{direction}"))
        notes.extend(_everything_ignored_notes(dimension, f"{prefix}.{direction}"))

    def merged(current: Autoscaling, new: Mapping[Direction, ScalingTarget], address: str) -> Autoscaling:
        return Autoscaling(
            read=_merge(current.read, new.get("read"), address),
            write=_merge(current.write, new.get("write"), address),
        )

    def first_address(gsi: str | None) -> str:
        for (name, _), dimension in dimensions.items():
            if name == gsi:
                return dimension.targets[0].address
        return "?"

    autoscaling = spec.autoscaling
    if None in declared:
        autoscaling = merged(spec.autoscaling, declared[None], first_address(None))
        unmanaged.discard("autoscaling.*")
    gsis = spec.gsis
    index_names = [name for name in declared if name is not None]
    if index_names and isinstance(gsis, Unknown):
        for name in index_names:
            notes.append(
                Unresolved(f"gsi.{name}.autoscaling", f"the table's GSIs are unknown ({gsis.reason})")
            )
    elif index_names and not isinstance(gsis, Unknown):
        known = {g.name for g in gsis}
        for name in index_names:
            if name not in known:
                dimension = next(d for (g, _), d in dimensions.items() if g == name)
                target = dimension.targets[0]
                problems.append(
                    Problem(
                        f"{target.address} scales GSI {name!r} of table {spec.name}, "
                        f"which {table.address} does not declare",
                        target.file,
                        target.line,
                    )
                )
        gsis = tuple(
            dataclasses.replace(g, autoscaling=merged(g.autoscaling, declared[g.name], first_address(g.name)))
            if g.name in declared
            else g
            for g in gsis
        )
        unmanaged.difference_update(f"gsi.{name}.autoscaling.*" for name in index_names)
    new_spec = dataclasses.replace(spec, autoscaling=autoscaling, gsis=gsis, unmanaged=frozenset(unmanaged))
    joined = dataclasses.replace(table, spec=new_spec, notes=tuple(notes), inputs=tuple(sorted(inputs)))
    return joined, problems


def attach(
    tables: Sequence[DeclaredTable], resources: Sequence[ScalingResource]
) -> tuple[list[DeclaredTable], list[Problem]]:
    """The tables with their resource-level autoscaling, and every resource that could not be joined.

    An unexpected exception is isolated like the evaluation of one declaration: in reading one
    resource, it is that resource's problem; in joining one table, that table keeps the rest of
    its declaration and its autoscaling is unresolved, with the reason. The others are joined.
    """
    problems: list[Problem] = []
    keyed: list[tuple[ScalingResource, _Key]] = []
    for resource in resources:
        try:
            found = _keyed(resource)
        except MemoryError:
            raise  # the worker's limit: the target's error
        except Exception as error:
            problems.append(
                Problem(
                    f"{resource.address} could not be joined to its table ({_crash(error)})",
                    resource.file,
                    resource.line,
                )
            )
            continue
        if isinstance(found, Problem):
            problems.append(found)
        elif found is not None:
            keyed.append((resource, found))

    # Targets first: a policy joins the target of its table, dimension and region.
    per_table: dict[int, dict[tuple[str | None, Direction], _Dimension]] = {}
    target_of: dict[_Key, list[tuple[int, ScalingResource]]] = {}
    by_name: dict[str, list[int]] = {}
    for i, table in enumerate(tables):
        if isinstance(table.spec.name, str):
            by_name.setdefault(table.spec.name, []).append(i)
    for resource, key in keyed:
        if resource.kind != TARGET:
            continue
        name, gsi, direction = key
        matches = [
            i for i in by_name.get(name, []) if _region_matches(tables[i].spec.region, resource.region)
        ]
        if len(matches) != 1:
            why = "which this target does not declare" if not matches else "which is declared more than once"
            problems.append(
                Problem(
                    f"{resource.address} scales table {name!r}, {why}; its autoscaling is not compared",
                    resource.file,
                    resource.line,
                )
            )
            continue
        per_table.setdefault(matches[0], {}).setdefault((gsi, direction), _Dimension()).targets.append(
            resource
        )
        target_of.setdefault(key, []).append((matches[0], resource))
    for resource, key in keyed:
        if resource.kind != POLICY:
            continue
        candidates = [
            i for i, target in target_of.get(key, []) if _region_matches(target.region, resource.region)
        ]
        if not candidates:
            name, gsi, direction = key
            what = f"table {name!r}" + (f" index {gsi!r}" if gsi else "")
            problems.append(
                Problem(
                    f"{resource.address} applies to the {direction} capacity of {what}, "
                    "for which no aws_appautoscaling_target is declared; it is not compared",
                    resource.file,
                    resource.line,
                )
            )
            continue
        _, gsi, direction = key
        per_table[candidates[0]][(gsi, direction)].policies.append(resource)

    result: list[DeclaredTable] = []
    for i, table in enumerate(tables):
        if i not in per_table:
            result.append(table)
            continue
        try:
            joined, more = _with_autoscaling(table, per_table[i])
        except MemoryError:
            raise
        except Exception as error:
            joined, more = _not_joined(table, per_table[i], error)
        result.append(joined)
        problems.extend(more)
    return result, problems


def _keyed(resource: ScalingResource) -> _Key | Problem | None:
    """The table dimension a resource scales; None for another service's; a Problem if unsure."""
    is_dynamodb = _is_dynamodb(resource.arguments)
    if is_dynamodb is False:
        return None
    key = _key_of(resource)
    if isinstance(is_dynamodb, Unknown) and isinstance(key, str):
        return Problem(
            f"cannot tell whether {resource.address} scales a DynamoDB table: {is_dynamodb.reason}",
            resource.file,
            resource.line,
        )
    if isinstance(key, str):
        return Problem(
            f"cannot tell which table {resource.address} scales: {key}", resource.file, resource.line
        )
    return key


def _crash(error: Exception) -> str:
    return safe_text(f"{type(error).__name__}: {error}", 200)


def _not_joined(
    table: DeclaredTable, dimensions: Mapping[tuple[str | None, Direction], _Dimension], error: Exception
) -> tuple[DeclaredTable, list[Problem]]:
    """``table`` as declared, its resource-level autoscaling unresolved (never compared, never
    guessed: the dimensions stay unmanaged), and the failure reported at the scaling target."""
    first = next(iter(dimensions.values())).targets[0]
    reason = f"its autoscaling ({first.address}) could not be joined ({_crash(error)})"
    notes = [
        Unresolved(f"{'autoscaling' if gsi is None else f'gsi.{gsi}.autoscaling'}.{direction}", reason)
        for gsi, direction in sorted(dimensions, key=lambda k: (k[0] or "", k[1]))
    ]
    joined = dataclasses.replace(table, notes=(*table.notes, *notes))
    return joined, [Problem(f"{table.address}: {reason}", first.file, first.line)]
