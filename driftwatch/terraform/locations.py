"""Where each attribute of a declared table is written in git, for attribute-level locations.

A table's source is the first line of its resource or module call, but the value that drifted
is often written elsewhere: ``ttl_enabled = var.ttl_enabled`` a few lines further down, and the
value itself in ``prod.tfvars``. A reviewer wants that line. The walk gives each argument's
node and a ``written_at`` function (which follows a plain ``var.x`` to the tfvars line or the
module call that set it); this module maps arguments to the attribute vocabulary.

The result maps vocabulary names or glob patterns (``ttl.enabled``, ``gsi.orders-index``,
``gsi.*.autoscaling.read.min``, ``tags.Team``) to locations; ``TableResult.source_of`` picks
the most specific match for a drifted attribute and falls back to the table's own line. An
argument left to its default has no line of its own, so it is not in the map.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from driftwatch.spec import EXISTENCE_ATTRIBUTE, SourceLocation
from driftwatch.terraform.parse import Block, origin_of
from driftwatch.terraform.resource import IGNORE_CHANGES_VOCABULARY

WrittenAt = Callable[[Any, str], SourceLocation]

# cloudposse/dynamodb/aws inputs -> the attributes they set (tags are per key, below).
CLOUDPOSSE_INPUT_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "hash_key": ("hash_key",),
    "hash_key_type": ("hash_key_type",),
    "range_key": ("range_key",),
    "range_key_type": ("range_key_type",),
    "billing_mode": ("billing_mode",),
    "table_class": ("table_class",),
    "ttl_enabled": ("ttl.enabled",),
    "ttl_attribute": ("ttl.attribute",),
    "enable_point_in_time_recovery": ("point_in_time_recovery",),
    "enable_encryption": ("sse.enabled",),
    "server_side_encryption_kms_key_arn": ("sse.kms_key_arn",),
    "enable_streams": ("stream.enabled",),
    "stream_view_type": ("stream.view_type",),
    "deletion_protection_enabled": ("deletion_protection",),
    "replicas": ("replicas",),
    "global_secondary_index_map": ("gsi",),
    "local_secondary_index_map": ("lsi",),
    # The module has no input for the metric its autoscaler's policies track: the autoscaler
    # fixes it, so it is written where the autoscaler is turned on (not at the target value).
    "enable_autoscaler": (
        "autoscaling",
        "gsi.*.autoscaling",
        "autoscaling.read.metric",
        "autoscaling.write.metric",
        "gsi.*.autoscaling.read.metric",
        "gsi.*.autoscaling.write.metric",
    ),
    # The module's table capacity is its autoscaler's minimum.
    "autoscale_min_read_capacity": ("read_capacity", "autoscaling.read.min", "gsi.*.autoscaling.read.min"),
    "autoscale_max_read_capacity": ("autoscaling.read.max", "gsi.*.autoscaling.read.max"),
    "autoscale_read_target": ("autoscaling.read.target", "gsi.*.autoscaling.read.target"),
    "autoscale_min_write_capacity": (
        "write_capacity",
        "autoscaling.write.min",
        "gsi.*.autoscaling.write.min",
    ),
    "autoscale_max_write_capacity": ("autoscaling.write.max", "gsi.*.autoscaling.write.max"),
    "autoscale_write_target": ("autoscaling.write.target", "gsi.*.autoscaling.write.target"),
}

# Nested blocks of aws_dynamodb_table: (block, argument) -> attribute.
_NESTED: dict[tuple[str, str], str] = {
    ("ttl", "enabled"): "ttl.enabled",
    ("ttl", "attribute_name"): "ttl.attribute",
    ("server_side_encryption", "enabled"): "sse.enabled",
    ("server_side_encryption", "kms_key_arn"): "sse.kms_key_arn",
    ("point_in_time_recovery", "enabled"): "point_in_time_recovery",
}
_INDEX_FIELDS = (
    "hash_key",
    "range_key",
    "projection_type",
    "non_key_attributes",
    "read_capacity",
    "write_capacity",
)


def _tag_locations(tags: Any, node: Any, file: str, written_at: WrittenAt) -> dict[str, SourceLocation]:
    """Each key of a tags argument at the argument's line (only keys it really sets)."""
    if not isinstance(tags, Mapping):
        return {}
    where = written_at(node, file)
    return {f"tags.{key}": where for key in tags if isinstance(key, str)}


def module_call_locations(
    block: Block, file: str, inputs: Mapping[str, Any], written_at: WrittenAt
) -> dict[str, SourceLocation]:
    """Attribute -> location for one call of the CloudPosse dynamodb module."""
    attributes, _ = block.items
    found: dict[str, SourceLocation] = {}
    for name, node in attributes.items():
        for attribute in CLOUDPOSSE_INPUT_ATTRIBUTES.get(name, ()):
            found[attribute] = written_at(node, file)
    if "tags" in attributes:
        found.update(_tag_locations(inputs.get("tags"), attributes["tags"], file, written_at))
    return found


def resource_locations(
    block: Block, file: str, arguments: Mapping[str, Any], written_at: WrittenAt
) -> dict[str, SourceLocation]:
    """Attribute -> location for one plain ``aws_dynamodb_table`` block."""
    attributes, blocks = block.items
    found: dict[str, SourceLocation] = {}
    for name, node in attributes.items():
        if name in ("tags", "tags_all"):
            found.update(_tag_locations(arguments.get(name), node, file, written_at))
            continue
        for attribute in IGNORE_CHANGES_VOCABULARY.get(name, ()):
            if attribute == EXISTENCE_ATTRIBUTE:
                continue  # ``name`` silences it; a missing table is at the resource's own line
            found[attribute.removesuffix(".*")] = written_at(node, file)
    evaluated = {kind: arguments.get(kind) for kind in ("global_secondary_index", "local_secondary_index")}
    seen: dict[str, int] = {}
    for nested in blocks:
        line = SourceLocation(origin_of(nested, file), nested.line)
        nested_attributes, _ = nested.items
        for (kind, argument), attribute in _NESTED.items():
            if kind == nested.type:
                found.setdefault(attribute.split(".")[0], line)
                if argument in nested_attributes:
                    found[attribute] = written_at(nested_attributes[argument], file)
        if nested.type in evaluated:
            index = seen.get(nested.type, 0)
            seen[nested.type] = index + 1
            values = evaluated[nested.type]
            item = values[index] if isinstance(values, list) and index < len(values) else None
            index_name = item.get("name") if isinstance(item, Mapping) else None
            if isinstance(index_name, str):
                prefix = f"{'gsi' if nested.type == 'global_secondary_index' else 'lsi'}.{index_name}"
                found[prefix] = line
                for field_name in _INDEX_FIELDS:
                    if field_name in nested_attributes:
                        found[f"{prefix}.{field_name}"] = written_at(nested_attributes[field_name], file)
        elif nested.type == "replica":
            found.setdefault("replicas", line)
    return found
