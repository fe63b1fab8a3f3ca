"""Resources that manage a feature of a table beside ``aws_dynamodb_table``, which driftwatch
does not compare: each table they name says so.

``aws_dynamodb_contributor_insights``, ``aws_dynamodb_kinesis_streaming_destination`` and
``aws_dynamodb_resource_policy`` put a setting on a table from outside its resource, and
``aws_appautoscaling_scheduled_action`` a schedule on its (or an index's) scalable target. Turned off
in the console, ``terraform plan`` puts it back; driftwatch reads none of them, so a table with
such a resource in sync must not look as if driftwatch had checked that setting too. Each is
joined to its table (by name and region, as autoscaling resources are) and the table lists the
feature as an unresolved attribute with the resource's address.

``aws_dynamodb_tag`` puts one tag on a table from outside its resource; driftwatch does compare
it: the table's ``TableSpec.tag_resources`` holds the key and value (a key that cannot be worked
out is a note on ``tags``).

A resource whose instances cannot be told (an unknown count or for_each) stands for all of them
and says so. A resource whose table cannot be told (a name that cannot be evaluated, a table no
declaration of the target names) is passed over: no table of the target can be shown to lack
the check.
Pure: the walk (``modules.py``) evaluates the arguments and hands them here with the tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from driftwatch.spec import DeclaredTable, Maybe, Unknown, Unresolved
from driftwatch.terraform.resource import ignore_changes_entries as _lifecycle_entries

SCHEDULED_ACTION: Final = "aws_appautoscaling_scheduled_action"

# resource type -> (the attribute named on the table, what it manages, in words)
FEATURES: Final[Mapping[str, tuple[str, str]]] = {
    "aws_dynamodb_contributor_insights": ("contributor_insights", "contributor insights"),
    "aws_dynamodb_kinesis_streaming_destination": (
        "kinesis_streaming_destination",
        "a Kinesis streaming destination",
    ),
    "aws_dynamodb_resource_policy": ("resource_policy", "a resource-based policy"),
    # A schedule moving a scalable target's range (Application Auto Scaling), on the table's or
    # an index's read or write dimension: ``autoscaling.<read|write>.scheduled_action``.
    SCHEDULED_ACTION: ("scheduled_action", "a scheduled action of the autoscaler"),
}


# A resource putting one tag on a table (joined like FEATURES, compared: TableSpec.tag_resources).
TAG_RESOURCE: Final = "aws_dynamodb_tag"


@dataclass(frozen=True)
class FeatureResource:
    """One instance of a FEATURES resource, its arguments evaluated."""

    kind: str
    address: str
    region: Maybe[str] | None
    arguments: Mapping[str, Any]
    # The table resource instance it names by an attribute known only after apply
    # (``resource_arn = aws_dynamodb_table.t.arn``: ``Unknown.origin``), when it does.
    table_address: str | None = None
    # Why it may not exist: its instances cannot be told (an unknown count or for_each, or too
    # many), and this stands for all of them.
    maybe: str | None = None


def table_address(arguments: Mapping[str, Any]) -> str | None:
    """The ``aws_dynamodb_table`` instance whose attribute a feature resource's table argument
    reads, where that attribute is known only after apply (``aws_dynamodb_table.t.arn``: the
    Unknown's ``origin``, which driftwatch.terraform.references sets for tables only)."""
    for name in ("resource_arn", "table_name"):
        origin = getattr(arguments.get(name), "origin", None)
        if isinstance(origin, str):
            return origin
    return None


_UNITS: Final = {"ReadCapacityUnits": "read", "WriteCapacityUnits": "write"}


def _scaled(resource: FeatureResource) -> tuple[str, str | None, str] | None:
    """(table, index or None, ``read`` / ``write``) of a scheduled action on a DynamoDB
    scalable target (``resource_id = "table/<name>[/index/<index>]"``, ``scalable_dimension =
    "dynamodb:<table|index>:<Read|Write>CapacityUnits"``); None for another service's, or one
    that cannot be told."""
    arguments = resource.arguments
    resource_id, dimension = arguments.get("resource_id"), arguments.get("scalable_dimension")
    if arguments.get("service_namespace") != "dynamodb" or not isinstance(resource_id, str):
        return None
    if not isinstance(dimension, str):
        return None
    service, kind, units = [*dimension.split(":"), "", ""][:3]
    if service != "dynamodb" or units not in _UNITS:
        return None
    parts = resource_id.split("/")
    if kind == "table" and len(parts) == 2 and parts[0] == "table":
        return parts[1], None, _UNITS[units]
    if kind == "index" and len(parts) == 4 and (parts[0], parts[2]) == ("table", "index"):
        return parts[1], parts[3], _UNITS[units]
    return None


_ARN_NAMED: Final = frozenset({"aws_dynamodb_resource_policy", TAG_RESOURCE})


def _table_arn(resource: FeatureResource) -> tuple[str, str] | None:
    """(region, table name) of the literal table ARN an ARN-named resource gives
    (``arn:<partition>:dynamodb:<region>:<account>:table/<name>``); None otherwise, a stream or
    index ARN included (it names no table's own policy or tag)."""
    arn = resource.arguments.get("resource_arn")
    if resource.kind not in _ARN_NAMED or not isinstance(arn, str):
        return None
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "dynamodb":
        return None
    resource_path = parts[5].split("/")
    if len(resource_path) != 2 or resource_path[0] != "table":
        return None
    return parts[3], resource_path[1]


def table_name(resource: FeatureResource) -> str | None:
    """The name of the table the resource manages a feature of, None when it cannot be told:
    ``table_name``, the table of a literal ``resource_arn``, or a scheduled action's
    ``resource_id``."""
    if resource.kind == SCHEDULED_ACTION:
        scaled = _scaled(resource)
        return scaled[0] if scaled is not None else None
    if resource.kind in _ARN_NAMED:
        table_arn = _table_arn(resource)
        return table_arn[1] if table_arn is not None else None
    name = resource.arguments.get("table_name")
    return name if isinstance(name, str) else None


def _region(resource: FeatureResource) -> Maybe[str] | None:
    """The region of the table the resource names: the one written in a literal
    ``resource_arn`` (a policy or tag may name a table of another region than its provider's),
    else the resource's own."""
    table_arn = _table_arn(resource)
    return table_arn[0] if table_arn is not None and table_arn[0] else resource.region


def note(resource: FeatureResource) -> Unresolved:
    """What the table says: the attribute (``gsi.<index>.contributor_insights`` for an index's
    contributor insights) and which resource manages it."""
    attribute, what = FEATURES[resource.kind]
    scaled = _scaled(resource) if resource.kind == SCHEDULED_ACTION else None
    if scaled is not None:
        _table, on_index, way = scaled
        attribute = f"autoscaling.{way}.{attribute}"
        attribute = f"gsi.{on_index}.{attribute}" if on_index is not None else attribute
    index = resource.arguments.get("index_name")
    if resource.kind == "aws_dynamodb_contributor_insights" and isinstance(index, str) and index:
        attribute, what = f"gsi.{index}.{attribute}", f"{what} of the index {index}"
    why = f"{resource.address} manages {what}, which driftwatch does not compare; terraform plan does"
    if resource.maybe is not None:
        why += f" (if it is created: {resource.maybe})"
    return Unresolved(attribute, why)


def _ignores_value(arguments: Mapping[str, Any]) -> bool:
    """The tag resource's own ``lifecycle { ignore_changes }`` names its value (or ``all``), or
    holds an entry that cannot be read and so could."""
    entries = _lifecycle_entries(arguments)
    return entries is None or any(entry.strip() in ("value", "all") for entry in entries)


def _tagged(table: DeclaredTable, tags: Sequence[FeatureResource]) -> DeclaredTable:
    """The table with the tags its ``aws_dynamodb_tag`` resources put (a later resource with
    the same key wins, as the one applied last would); a key that cannot be told is a note."""
    if not tags:
        return table
    put: dict[str, Maybe[str]] = dict(table.spec.tag_resources)
    notes: list[Unresolved] = []
    for resource in tags:
        key, value = resource.arguments.get("key"), resource.arguments.get("value")
        if not isinstance(key, str):
            why = getattr(key, "reason", "not a string")
            why = f"{resource.address} puts a tag whose key driftwatch cannot work out: {why}"
            notes.append(Unresolved("tags", why))
            continue
        if _ignores_value(resource.arguments):
            why = (
                f"{resource.address} ignores changes to its value; only a deleted tag is planned, "
                "which driftwatch does not compare"
            )
            notes.append(Unresolved(f"tags.{key}", why))
            continue
        if resource.maybe is not None:
            value = Unknown(f"{resource.address} may not exist: {resource.maybe}")
        where = _region(resource)
        if isinstance(where, Unknown):
            # the tag of a replica, perhaps: another region's copy of the table (terraform plan)
            value = Unknown(f"{resource.address} may tag another region's copy of the table: {where.reason}")
        if not isinstance(value, str | Unknown):
            value = Unknown(f"{resource.address}: the value is not a string")
        put[key] = value
    spec = dataclasses.replace(table.spec, tag_resources=put)
    return dataclasses.replace(table, spec=spec, notes=(*table.notes, *dict.fromkeys(notes)))


def _elsewhere(one: Any, other: Any) -> bool:
    return isinstance(one, str) and isinstance(other, str) and one != other


def attach(tables: Sequence[DeclaredTable], resources: Sequence[FeatureResource]) -> list[DeclaredTable]:
    """The tables, each with a note for every feature resource that names it."""
    by_name: dict[str, list[FeatureResource]] = {}
    by_address: dict[str, list[FeatureResource]] = {}
    for resource in resources:
        named = table_name(resource)
        if named is not None:
            by_name.setdefault(named, []).append(resource)
        elif resource.table_address is not None:
            by_address.setdefault(resource.table_address, []).append(resource)
    joined: list[DeclaredTable] = []
    for table in tables:
        name, region = table.spec.name, table.spec.region
        found = by_name.get(name, []) if isinstance(name, str) else []
        # The same region, when both are known: a same-named table elsewhere is another table.
        found = [r for r in found if not _elsewhere(_region(r), region)]
        found += by_address.get(table.address, [])
        # A tag resource on another region's copy of the table (a replica, its ARN made with
        # replace()) tags another table, even when it reads this one's ARN.
        tags = [r for r in found if r.kind == TAG_RESOURCE and not _elsewhere(_region(r), region)]
        notes = tuple(dict.fromkeys(note(r) for r in found if r.kind != TAG_RESOURCE))
        table = _tagged(table, tags)
        joined.append(dataclasses.replace(table, notes=(*table.notes, *notes)) if notes else table)
    return joined
