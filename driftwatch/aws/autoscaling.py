"""Application-autoscaling state of DynamoDB tables, fetched once per scan and region.

Listing the whole ``dynamodb`` namespace costs one DescribeScalableTargets and one
DescribeScalingPolicies call per page, however many tables a region holds; asking per table
would multiply calls (and throttling) by the table count. The index is then looked up per
table in memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from driftwatch import scaling_metric
from driftwatch.aws import responses
from driftwatch.aws.dynamodb import Pages, read_aws
from driftwatch.spec import Autoscaling, Maybe, ScalingTarget, TableSpec, Unknown

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_application_autoscaling.type_defs import ScalableTargetTypeDef, ScalingPolicyTypeDef

_Direction = Literal["read", "write"]
# (table name, GSI name or None for the table itself, direction)
_Key = tuple[str, str | None, _Direction]

_DIMENSIONS: dict[str, tuple[bool, _Direction]] = {
    # dimension -> (is an index dimension, direction)
    "dynamodb:table:ReadCapacityUnits": (False, "read"),
    "dynamodb:table:WriteCapacityUnits": (False, "write"),
    "dynamodb:index:ReadCapacityUnits": (True, "read"),
    "dynamodb:index:WriteCapacityUnits": (True, "write"),
}


def _key(resource_id: str, dimension: str) -> _Key | None:
    """Parse ``table/<t>`` or ``table/<t>/index/<gsi>``; None for anything inconsistent.

    DynamoDB names cannot contain ``/``, so splitting is unambiguous.
    """
    kind = _DIMENSIONS.get(dimension)
    if kind is None:
        return None
    is_index, direction = kind
    parts = resource_id.split("/")
    if not is_index and len(parts) == 2 and parts[0] == "table" and parts[1]:
        return parts[1], None, direction
    if is_index and len(parts) == 4 and parts[0] == "table" and parts[2] == "index" and parts[1] and parts[3]:
        return parts[1], parts[3], direction
    return None


@dataclass(frozen=True)
class AutoscalingIndex:
    """Every DynamoDB scalable target of one region, with its target-tracking value.

    ``targets`` holds, per scalable target, the target-tracking policy with the smallest name
    (several on one dimension are unusual; one is picked the same way every scan);
    ``by_policy`` every target-tracking policy of it by name, for a declaration that names its
    policy (``ScalingTarget.policy_name``): a policy added beside it in the console is not the
    one Terraform manages, and comparing it would be a false alarm.
    """

    targets: dict[_Key, ScalingTarget] = dataclasses.field(default_factory=dict)
    by_policy: dict[_Key, dict[str, ScalingTarget]] = dataclasses.field(default_factory=dict)
    # The keys of ``targets`` by table name, in their order: a scan looks up every table, and
    # walking all targets for each cost targets x tables (2 ms a table at the 50,000 cap).
    by_table: dict[str, list[_Key]] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_table: dict[str, list[_Key]] = {}
        for key in self.targets:
            by_table.setdefault(key[0], []).append(key)
        object.__setattr__(self, "by_table", by_table)  # frozen: set once, here

    @classmethod
    def fetch(cls, client: ApplicationAutoScalingClient) -> AutoscalingIndex:
        region = client.meta.region_name
        bounds: dict[_Key, tuple[int, int]] = {}
        suspended: dict[_Key, Any] = {}
        for target in _all_targets(client, region):
            key = _key(target["ResourceId"], target["ScalableDimension"])
            if key is not None:
                bounds[key] = (target["MinCapacity"], target["MaxCapacity"])
                suspended[key] = _suspended(target.get("SuspendedState"))
        by_policy: dict[_Key, dict[str, ScalingTarget]] = {}
        for policy in _all_policies(client, region):
            key = _key(policy["ResourceId"], policy["ScalableDimension"])
            config = policy.get("TargetTrackingScalingPolicyConfiguration")
            # moto keeps policies after DeregisterScalableTarget; AWS deletes them. Only
            # policies of a live target count.
            if key is None or key not in bounds or policy["PolicyType"] != "TargetTrackingScaling":
                continue
            if config is None or "TargetValue" not in config:
                continue
            lo, hi = bounds[key]
            by_policy.setdefault(key, {})[policy["PolicyName"]] = ScalingTarget(
                min=lo,
                max=hi,
                target=float(config["TargetValue"]),
                suspended_state=suspended[key],
                **_settings(config),
            )
        targets: dict[_Key, ScalingTarget] = {}
        for key, (lo, hi) in bounds.items():
            policies = by_policy.get(key)
            # several target-tracking policies: the smallest name, the same every scan
            no_policy = ScalingTarget(min=lo, max=hi, target=None, suspended_state=suspended[key])
            targets[key] = policies[min(policies)] if policies else no_policy
        return cls(targets, by_policy)

    def compared(self, key: _Key, declared: ScalingTarget | None) -> ScalingTarget | None:
        """The live target of ``key`` with the policy ``declared`` names (its target value None
        when that policy is not there: Terraform would create it), else the default choice."""
        live = self.targets.get(key)
        if live is None or declared is None or declared.policy_name is None:
            return live
        policies = self.by_policy.get(key, {})
        if isinstance(declared.policy_name, Unknown):
            if len(policies) < 2:
                return live  # the one live policy (or none): no other to confuse it with
            # which of several is Terraform's cannot be told: its values are unresolved
            which = Unknown(f"which live policy is declared: its name {declared.policy_name.reason}")
            return dataclasses.replace(live, target=which)
        named = policies.get(declared.policy_name)
        if named is not None:
            return named
        return ScalingTarget(min=live.min, max=live.max, target=None, suspended_state=live.suspended_state)

    def for_table(
        self, table_name: str, declared: TableSpec | None = None
    ) -> tuple[Autoscaling, dict[str, Autoscaling]]:
        """(table autoscaling, {gsi name: autoscaling}) for one table; empty when none. With
        the ``declared`` table, each dimension's policy is the one the declaration names."""
        table: dict[_Direction, ScalingTarget] = {}
        gsis: dict[str, dict[_Direction, ScalingTarget]] = {}
        for key in self.by_table.get(table_name, ()):
            _, gsi, direction = key
            target = self.compared(key, _declared_target(declared, gsi, direction))
            if target is None:
                continue
            if gsi is None:
                table[direction] = target
            else:
                gsis.setdefault(gsi, {})[direction] = target
        return (
            Autoscaling(read=table.get("read"), write=table.get("write")),
            {g: Autoscaling(read=d.get("read"), write=d.get("write")) for g, d in gsis.items()},
        )


def _declared_target(
    declared: TableSpec | None, gsi: str | None, direction: _Direction
) -> ScalingTarget | None:
    if declared is None:
        return None
    if gsi is None:
        scaling = declared.autoscaling
    else:
        index = declared.gsi(gsi)
        if index is None:
            return None
        scaling = index.autoscaling
    return scaling.read if direction == "read" else scaling.write


def apply_autoscaling(
    spec: TableSpec, index: AutoscalingIndex, declared: TableSpec | None = None
) -> TableSpec:
    """``spec`` with the live autoscaling of the table and of each of its GSIs filled in; with
    the ``declared`` table, the policies it names (``ScalingTarget.policy_name``)."""
    if isinstance(spec.name, Unknown):
        return spec
    table, gsis = index.for_table(spec.name, declared)
    new_gsis = spec.gsis
    if not isinstance(spec.gsis, Unknown):
        new_gsis = tuple(
            dataclasses.replace(g, autoscaling=gsis.get(g.name, Autoscaling())) for g in spec.gsis
        )
    return dataclasses.replace(spec, autoscaling=table, gsis=new_gsis)


_SUSPENDED = {
    "DynamicScalingInSuspended": "dynamic_scaling_in",
    "DynamicScalingOutSuspended": "dynamic_scaling_out",
    "ScheduledScalingSuspended": "scheduled_scaling",
}


def _suspended(state: Any) -> Maybe[frozenset[str]] | None:
    """The suspended activities of a scalable target; None where nothing is (or the field is
    left out); a flag that is not a bool is Unknown, never a guess."""
    if state is None:
        return None
    if not isinstance(state, Mapping):
        return Unknown(f"DescribeScalableTargets gave SuspendedState {state!r}")
    flags = {key: state.get(key) for key in _SUSPENDED}
    if any(value is not None and not isinstance(value, bool) for value in flags.values()):
        return Unknown(f"DescribeScalableTargets gave SuspendedState {state!r}")
    return frozenset(_SUSPENDED[key] for key, value in flags.items() if value) or None


def _live_text(value: Any, where: str) -> Maybe[str]:
    if value is None or isinstance(value, str):
        return value or ""
    return Unknown(f"DescribeScalingPolicies gave {where} {value!r}, not a string")


def _live_flag(value: Any, where: str) -> Maybe[bool]:
    if value is None or isinstance(value, bool):
        return bool(value)
    return Unknown(f"DescribeScalingPolicies gave {where} {value!r}, not a bool")


def _settings(config: Any) -> dict[str, Any]:
    """Cooldowns, ``DisableScaleIn`` and metric of a target-tracking configuration; cooldowns
    and the flag None where AWS leaves them out or gives the default (0 seconds, False: what an
    unset one means); a value of the wrong type is Unknown, never a guess."""
    settings: dict[str, Any] = {}
    for field, key in (("scale_in_cooldown", "ScaleInCooldown"), ("scale_out_cooldown", "ScaleOutCooldown")):
        value = config.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            settings[field] = value or None
        else:
            settings[field] = Unknown(f"DescribeScalingPolicies gave {key} {value!r}, not a number")
    value = config.get("DisableScaleIn")
    if value is None or isinstance(value, bool):
        settings["disable_scale_in"] = value or None
    else:
        settings["disable_scale_in"] = Unknown(f"DescribeScalingPolicies gave DisableScaleIn {value!r}")
    settings["metric"] = scaling_metric.metric(scaling_metric.from_api(config), _live_text, _live_flag)
    return settings


PAGE_SIZES = {"DescribeScalableTargets": 50, "DescribeScalingPolicies": 10}
"""The ``MaxResults`` each listing asks for: the most its API reference allows ("This value can
be between 1 and 50" for scalable targets, "between 1 and 10" for scaling policies). Asked
explicitly, a page holding more is not AWS's answer: it is refused, rather than read in
whatever size it came (moto's own default page is 100 policies, AWS's 10)."""

MAX_ENTRIES = 50_000
"""Entries one autoscaling listing may hold, page after page: ten times the default quota of
5,000 DynamoDB scalable targets a region (each with, usually, one policy). It sets each
listing's page bound (1,000 pages of targets, 5,000 of policies): at ``dynamodb.MAX_PAGES``
the policies listing, 10 a page, stopped at 10,000, which a region at that quota with two
policies a target passes."""


def _checked(
    field: str, size: int, items: Callable[[Any], list[Any]]
) -> Callable[[Any], tuple[list[Any], str | None]]:
    """A page check giving (the page's checked items, its NextToken): at most ``size`` items,
    the ``MaxResults`` asked for."""

    def check(page: Any) -> tuple[list[Any], str | None]:
        listed = page.get(field)
        if isinstance(listed, list) and len(listed) > size:  # counted before anything is read
            raise responses.InvalidResponse(
                f"{field} (more than the {size} asked for on one page: {len(listed):,})"
            )
        return items(page), responses.next_token(page)

    return check


_LISTED = {"DescribeScalableTargets": "ScalableTargets", "DescribeScalingPolicies": "ScalingPolicies"}


def _all_pages(
    operation: str, region: str | None, items: Callable[[Any], list[Any]], call: Callable[..., Any]
) -> Iterator[Any]:
    """Every checked item of a ``dynamodb``-namespace listing, page after page (each item once
    across the pages: ``items`` is a ``responses.Listed`` check), ``PAGE_SIZES`` a page and at
    most ``MAX_ENTRIES`` in all."""
    token: str | None = None
    size = PAGE_SIZES[operation]
    pages = Pages(operation, None, region, limit=MAX_ENTRIES // size)
    check = _checked(_LISTED[operation], size, items)
    while True:
        paging = {} if token is None else {"NextToken": token}
        page = read_aws(
            operation, None, region, check, call, ServiceNamespace="dynamodb", MaxResults=size, **paging
        )
        yield from page[0]
        token = page[1]
        if not token:
            return
        pages.follow(token)


def _all_targets(client: ApplicationAutoScalingClient, region: str | None) -> Iterator[ScalableTargetTypeDef]:
    items = responses.Listed().scalable_targets
    return _all_pages("DescribeScalableTargets", region, items, client.describe_scalable_targets)


def _all_policies(client: ApplicationAutoScalingClient, region: str | None) -> Iterator[ScalingPolicyTypeDef]:
    items = responses.Listed().scaling_policies
    return _all_pages("DescribeScalingPolicies", region, items, client.describe_scaling_policies)
