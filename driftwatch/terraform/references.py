"""References to resources whose attributes are plain configuration: ``aws_dynamodb_table.t.name``.

Terraform knows some resource attributes at plan time because they are copied from the
configuration: a table's ``name`` (and its ``id``, which is the name), a scalable target's
``resource_id`` and ``scalable_dimension``. Autoscaling resources almost always reach their
table through such a reference (``resource_id = "table/${aws_dynamodb_table.t.name}"``,
``resource_id = aws_appautoscaling_target.read.resource_id``), so without them no scalable
target could be joined to its table.

Only the arguments listed in ``EXPOSED`` are evaluated, and only when referenced; anything else
(``arn``, ``stream_arn``) is Unknown, as Terraform itself knows it only after apply. For the
resources that only hold values (``null_resource``, ``terraform_data``), an argument their
``lifecycle { ignore_changes }`` names (or ``all``) is Unknown too: Terraform plans it from its
state, not from the configuration. ``count``
and ``for_each`` shape the value as in Terraform: a list, a map, or one object. A reference that
leads back to itself (a table whose name reads its own scalable target) is Unknown, not a loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from driftwatch.spec import Maybe, PartlyListed, Unknown
from driftwatch.terraform.parse import Block

# resource type -> {attribute an expression may read: the argument it copies}
EXPOSED: dict[str, dict[str, str]] = {
    "aws_dynamodb_table": {"name": "name", "id": "name", "hash_key": "hash_key"},
    "aws_appautoscaling_target": {
        "id": "resource_id",
        "resource_id": "resource_id",
        "scalable_dimension": "scalable_dimension",
        "service_namespace": "service_namespace",
        "min_capacity": "min_capacity",
        "max_capacity": "max_capacity",
    },
    # The CloudPosse module passes its GSI names to the autoscaler through null_resource triggers.
    "null_resource": {"triggers": "triggers"},
    # Terraform's own resource for holding a value (1.4+): its arguments are planned as written
    # ("output" and "id" are known only after apply, as terraform 1.11.4 plans them).
    "terraform_data": {"input": "input", "triggers_replace": "triggers_replace"},
    "aws_appautoscaling_policy": {
        "id": "name",
        "name": "name",
        "resource_id": "resource_id",
        "scalable_dimension": "scalable_dimension",
        "service_namespace": "service_namespace",
        "policy_type": "policy_type",
    },
}

Expansion = Maybe[list[tuple[Any, str, dict[str, Any]]]]
# (block, file, address) -> instances, as ModuleInstance._expand gives them
Expand = Callable[[Block, str, str], Expansion]
# (attribute node, file, extra scope names such as count/each) -> value
Evaluate = Callable[[Any, str, Mapping[str, Any]], Any]


# Resources whose only job is to hold configured values: their arguments follow ignore_changes.
_VALUE_HOLDERS = frozenset({"null_resource", "terraform_data"})


def _ignores(block: Block, argument: str) -> bool:
    """Whether ``lifecycle { ignore_changes }`` names ``argument`` (or ``all``). An entry that
    is not a plain reference could name anything, so it counts as naming it (Unknown, never a
    value Terraform would not plan)."""
    from driftwatch.terraform.modules import reference_entries  # modules imports this module

    _, blocks = block.items
    for lifecycle in blocks:
        if lifecycle.type != "lifecycle":
            continue
        attributes, _ = lifecycle.items
        ignore = attributes.get("ignore_changes")
        if ignore is None:
            continue
        for entry in reference_entries(ignore.expression):
            if entry is None or entry.split(".")[0].split("[")[0].strip() in ("all", argument):
                return True
    return False


class _InProgress:
    """The references being evaluated right now, shared by a module's resources (cycle guard)."""

    def __init__(self) -> None:
        self.active: set[tuple[str, str]] = set()


def _after_apply(address: str, kind: str, name: str) -> Unknown:
    # a table's ARN names the table: Unknown.origin joins what reads it to the table
    origin = address if kind == "aws_dynamodb_table" else None
    # the same words as any other resource's attribute (evaluate._unresolved_root): "known only
    # after apply" alone was misread of a table applied long ago
    return Unknown(
        f"{address}.{name} is an attribute driftwatch does not evaluate (Terraform keeps it in"
        " its state; a new one is known only after apply)",
        origin=origin,
    )


def whole_values_unknown(value: Any) -> Any:
    """``value`` with every resource instance or data source result taken as a whole made
    Unknown (``PartlyListed.unlisted``): what a resource argument holds. ``tags =
    data.aws_region.current`` is the whole object in Terraform, with attributes driftwatch
    does not list; the listed ones alone would be a false drift."""
    if isinstance(value, PartlyListed):
        return value.unlisted()
    if isinstance(value, dict):
        return {key: whole_values_unknown(item) for key, item in value.items()}
    if isinstance(value, list):
        return [whole_values_unknown(item) for item in value]
    return value


class InstanceValues(dict[str, Any], PartlyListed):
    """A resource instance made a plain value (``for_each = aws_dynamodb_table.t`` makes
    ``each.value`` one): its exposed arguments, and any other attribute known only after apply
    (as in Terraform), not missing -- ``each.value.arn`` was "has no attribute"."""

    def __init__(self, address: str, kind: str, values: Mapping[str, Any]):
        super().__init__(values)
        self.address = address
        self.kind = kind

    def __missing__(self, name: str) -> Unknown:
        return _after_apply(self.address, self.kind, name)

    def plain(self, values: Mapping[str, Any]) -> InstanceValues:
        """The same instance holding ``values``."""
        return InstanceValues(self.address, self.kind, values)


class ResourceInstance(Mapping[str, Any], PartlyListed):
    """One instance of a resource: its exposed arguments, evaluated on first access."""

    def __init__(
        self,
        kind: str,
        address: str,
        block: Block,
        file: str,
        extra: Mapping[str, Any],
        evaluate: Evaluate,
        guard: _InProgress,
    ):
        self._kind = kind
        self.address = address
        self._block = block
        self._file = file
        self._extra = extra
        self._evaluate = evaluate
        self._guard = guard
        self._values: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        argument = EXPOSED[self._kind].get(name)
        if argument is None:
            return _after_apply(self.address, self._kind, name)
        attributes, _ = self._block.items
        if self._kind in _VALUE_HOLDERS and _ignores(self._block, argument):
            value: Any = Unknown(
                f"{self.address}.{name} is in its lifecycle ignore_changes: Terraform takes it from"
                " its state, which driftwatch does not read"
            )
        elif argument not in attributes:
            value = Unknown(f"{self.address}.{name} is not set in the configuration")
        elif (self.address, argument) in self._guard.active:
            value = Unknown(f"{self.address}.{name} refers to itself")
        else:
            self._guard.active.add((self.address, argument))
            try:
                value = self._evaluate(attributes[argument], self._file, self._extra)
            finally:
                self._guard.active.discard((self.address, argument))
        self._values[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(EXPOSED[self._kind])

    def __len__(self) -> int:
        return len(EXPOSED[self._kind])

    def plain(self, values: Mapping[str, Any]) -> InstanceValues:
        """This instance as a plain value holding ``values`` (its arguments made plain)."""
        return InstanceValues(self.address, self._kind, values)


class _ResourcesOfType(Mapping[str, Any]):
    """``aws_dynamodb_table`` as an expression sees it: resource name -> instance(s)."""

    def __init__(
        self,
        kind: str,
        blocks: Mapping[str, tuple[Block, str]],
        address_prefix: str,
        expand: Expand,
        evaluate: Evaluate,
        guard: _InProgress,
    ):
        self._kind = kind
        self._blocks = blocks
        self._prefix = address_prefix
        self._expand = expand
        self._evaluate = evaluate
        self._guard = guard
        self._values: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        block, file = self._blocks[name]
        address = f"{self._prefix}{self._kind}.{name}"
        if (address, "count/for_each") in self._guard.active:  # count = length(<itself>)
            return Unknown(f"the count or for_each of {address} refers to {address}")
        self._guard.active.add((address, "count/for_each"))
        try:
            expansion = self._expand(block, file, address)
        finally:
            self._guard.active.discard((address, "count/for_each"))
        value: Any
        if isinstance(expansion, Unknown):
            value = expansion
        else:
            instances = {
                key: ResourceInstance(self._kind, where, block, file, extra, self._evaluate, self._guard)
                for key, where, extra in expansion
            }
            attributes, _ = block.items
            if "count" in attributes:
                value = [instances[i] for i in range(len(instances))]
            elif "for_each" in attributes:
                value = instances
            else:
                value = instances[None]
        self._values[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._blocks)

    def __len__(self) -> int:
        return len(self._blocks)


def resource_references(
    blocks: list[tuple[Block, str]], address_prefix: str, expand: Expand, evaluate: Evaluate
) -> dict[str, Mapping[str, Any]]:
    """Scope names for the resource types in ``EXPOSED`` that the module declares."""
    by_type: dict[str, dict[str, tuple[Block, str]]] = {}
    for block, file in blocks:
        if block.type == "resource" and len(block.labels) == 2 and block.labels[0] in EXPOSED:
            by_type.setdefault(block.labels[0], {})[block.labels[1]] = (block, file)
    guard = _InProgress()
    return {
        kind: _ResourcesOfType(kind, named, address_prefix, expand, evaluate, guard)
        for kind, named in by_type.items()
    }
