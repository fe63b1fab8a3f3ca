"""The AWS provider's rules for ``aws_dynamodb_table``: declarations Terraform would reject.

``terraform validate`` checks each argument against the provider's schema (required arguments,
allowed values, ARNs, conflicting arguments), and ``terraform plan`` runs the resource's
CustomizeDiff functions. A declaration that breaks one of them is not what the table runs --
Terraform refuses to plan it -- so comparing it would be meaningless; driftwatch reports the
table as an error naming the rule instead. The rules and messages are hashicorp/aws 5.x's
(verified with 5.100.0, see docs/terraform-parity.md):

* ``attribute-type``, ``billing-mode``, ``projection-type``, ``stream-view-type``,
  ``table-class``: values outside the provider's enumerations (case-sensitive).
* ``kms-key-arn``: an SSE or replica ``kms_key_arn`` that is not an ARN.
* ``required-argument``: the table's ``name``; a GSI's ``name``, ``hash_key``,
  ``projection_type``; an LSI's ``name``, ``range_key``, ``projection_type``; an attribute's
  ``name`` and ``type``; a replica's ``region_name``; ``enabled`` of
  ``point_in_time_recovery`` and ``server_side_encryption``.
* ``too-many-blocks``: a second ``ttl``, ``point_in_time_recovery``, ``server_side_encryption``,
  ``import_table`` or ``on_demand_throughput`` block (each allows one).
* ``capacity-conflict``: ``read_capacity`` / ``write_capacity`` beside ``on_demand_throughput``.
* ``ttl-attribute-name``: TTL enabled without an attribute name.
* ``attributes-indexed``: an ``attribute`` no key of the table, a GSI or an LSI uses
  ("all attributes must be indexed").
* ``indexes-defined``: a key of the table, a GSI or an LSI without an ``attribute``
  ("all indexes must match a defined attribute").
* ``provisioned-capacity``: PROVISIONED with capacity below 1 (or absent, when creating).
* ``on-demand-capacity``: PAY_PER_REQUEST with capacity set.
* ``stream-view-type``: a stream enabled without a view type.
* ``hash-key``: no ``hash_key`` (AWS refuses to create a table without one).
* ``ignore-changes``: an ``ignore_changes`` entry Terraform refuses (a name the resource lacks,
  a step into a set of blocks, a list block's attribute without an index).
* ``unsupported-argument``: an argument the table or a nested block does not have (also in a
  ``dynamic`` block's content), with HCL's suggestion of a close name.
* ``block-type``: a block of a type the table, or the nested block holding it, does not have
  (Terraform 0.11's ``tags { ... }``, a GSI's ``dynamic "read_capacity"``).

Some rules read the table Terraform has in state when an argument is left out (hash_key,
attribute, capacity and stream_view_type are Optional+Computed): those hold only when the
table is created, or depend on the live billing mode; ``Rejection.when`` carries that.

Anything Unknown is never a rejection: a rule that depends on an unresolved value is skipped.
Pure: evaluated arguments in, rejections out. The CloudPosse module's emulation produces the
same arguments (``cloudposse.py`` builds its attribute list), so both paths are judged alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from driftwatch.spec import Rejection, RejectionWhen, Unknown, first_unknown
from driftwatch.terraform.numbers import format_number
from driftwatch.terraform.resource import ignore_changes_entries, ignore_changes_traversal

ATTRIBUTE_TYPES = ("S", "N", "B")
BILLING_MODES = ("PROVISIONED", "PAY_PER_REQUEST")
PROJECTION_TYPES = ("ALL", "KEYS_ONLY", "INCLUDE")
STREAM_VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY", "")
TABLE_CLASSES = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")
_PROVISIONED, _ON_DEMAND = BILLING_MODES


def _quoted(values: Iterable[str]) -> str:
    """A list as the provider prints it: ``["a" "b"]`` (Go's %q of a slice)."""
    return "[" + " ".join(json.dumps(v) for v in values) + "]"


def _blocks(arguments: Mapping[str, Any], name: str) -> list[Mapping[str, Any]] | None:
    """A repeated block as a list of mappings; None when it (or an element) is Unknown."""
    value = arguments.get(name)
    if value is None:
        return []
    if isinstance(value, Unknown):
        return None
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        return None
    return list(value)


def _is_set(value: Any) -> bool:
    """Set in the configuration: not null (a zero value of an Optional argument is also absent)."""
    return value is not None and value != ""


def _number(value: Any) -> float | Unknown | None:
    if isinstance(value, Unknown):
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer of 400 digits
        # not repr(): it raises ValueError for an int of over 4,300 digits (1e4900 is one)
        return Unknown(f"a {type(value).__name__} that is not a number of a float's range")


def _key_text(value: Any) -> str:
    """A key name as Terraform converts it to a string; str() of a number is not that (1.5 is a
    Num) and raises ValueError for an int of over 4,300 digits (1e4900)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    return str(value)


class _Checker:
    def __init__(self, arguments: Mapping[str, Any]):
        self.arguments = arguments
        self.found: list[Rejection] = []

    def reject(self, rule: str, message: str, when: RejectionWhen = "always") -> None:
        self.found.append(Rejection(rule, message, when))

    def one_of(self, rule: str, what: str, value: Any, allowed: Sequence[str]) -> None:
        # A bool or number is converted to the argument's string type first, as Terraform does
        # (yamldecode reads an unquoted `type: N` as false, which the provider gets as "false").
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = format_number(value)
        if isinstance(value, str) and value not in allowed:
            self.reject(rule, f"expected {what} to be one of {_quoted(allowed)}, got {value}")

    def required(self, block: Mapping[str, Any], names: Sequence[str], where: str) -> None:
        for name in names:
            if block.get(name) is None:
                self.reject("required-argument", f'the argument "{name}" is required in {where}')

    def arn(self, value: Any, path: str) -> None:
        if isinstance(value, str) and value and not _looks_like_arn(value):
            self.reject("kms-key-arn", f'"{path}" ({value}) is an invalid ARN')


def _looks_like_arn(value: str) -> bool:
    """arn:partition:service:region:account:resource, as the AWS SDK's arn.Parse requires."""
    parts = value.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and all(parts[1:3]) and bool(parts[5])


def _schema(c: _Checker) -> None:
    """What ``terraform validate`` checks: required arguments, enumerations, ARNs, conflicts."""
    arguments = c.arguments
    if arguments.get("name") is None:
        c.reject("required-argument", 'the argument "name" is required')
    c.one_of("billing-mode", "billing_mode", arguments.get("billing_mode"), BILLING_MODES)
    c.one_of("stream-view-type", "stream_view_type", arguments.get("stream_view_type"), STREAM_VIEW_TYPES)
    c.one_of("table-class", "table_class", arguments.get("table_class"), TABLE_CLASSES)
    for attribute in _blocks(arguments, "attribute") or []:
        c.required(attribute, ("name", "type"), "an attribute block")
        c.one_of("attribute-type", "type", attribute.get("type"), ATTRIBUTE_TYPES)
    for gsi in _blocks(arguments, "global_secondary_index") or []:
        # Newer providers declare a GSI's keys in key_schema blocks instead (multi-attribute
        # keys); driftwatch does not know which version a repository pins, so neither is required.
        keys = ("hash_key",) if not gsi.get("key_schema") else ()
        c.required(gsi, ("name", *keys, "projection_type"), "a global_secondary_index block")
        c.one_of("projection-type", "projection_type", gsi.get("projection_type"), PROJECTION_TYPES)
    for lsi in _blocks(arguments, "local_secondary_index") or []:
        c.required(lsi, ("name", "range_key", "projection_type"), "a local_secondary_index block")
        c.one_of("projection-type", "projection_type", lsi.get("projection_type"), PROJECTION_TYPES)
    for i, sse in enumerate(_blocks(arguments, "server_side_encryption") or []):
        c.required(sse, ("enabled",), "a server_side_encryption block")
        c.arn(sse.get("kms_key_arn"), f"server_side_encryption.{i}.kms_key_arn")
    for pitr in _blocks(arguments, "point_in_time_recovery") or []:
        c.required(pitr, ("enabled",), "a point_in_time_recovery block")
    for replica in _blocks(arguments, "replica") or []:
        c.required(replica, ("region_name",), "a replica block")
        c.arn(replica.get("kms_key_arn"), "replica.kms_key_arn")
    for name in sorted(_LIST_BLOCKS):
        found = _blocks(arguments, name) or []
        if len(found) > 1:  # MaxItems 1: "Too many ttl blocks"
            c.reject("too-many-blocks", f'Too many {name} blocks: no more than 1 "{name}" blocks are allowed')
    if _blocks(arguments, "on_demand_throughput"):
        for name in ("read_capacity", "write_capacity"):
            if _is_set(arguments.get(name)) and not isinstance(arguments.get(name), Unknown):
                c.reject("capacity-conflict", f'"{name}": conflicts with on_demand_throughput')


def _ttl(c: _Checker) -> None:
    for ttl in (_blocks(c.arguments, "ttl") or [])[:1]:
        enabled, name = ttl.get("enabled"), ttl.get("attribute_name")
        if enabled is not True or isinstance(name, Unknown):
            continue
        if name is None:
            c.reject(
                "ttl-attribute-name",
                'Attribute "ttl[0].attribute_name" must be specified when "ttl[0].enabled" is "true"',
            )
        elif name == "":
            c.reject("ttl-attribute-name", 'Attribute "ttl[0].attribute_name" cannot have an empty value')


def _key_attributes(c: _Checker) -> None:
    """validateTableAttributes: every attribute is a key of something, every key an attribute."""
    arguments = c.arguments
    attributes = _blocks(arguments, "attribute")
    gsis = _blocks(arguments, "global_secondary_index")
    lsis = _blocks(arguments, "local_secondary_index")
    if attributes is None or gsis is None or lsis is None:
        return
    hash_key, range_key = arguments.get("hash_key"), arguments.get("range_key")
    keys: list[Any] = [hash_key, range_key]
    keys += [lsi.get("range_key") for lsi in lsis]
    keys += [key for gsi in gsis for key in (gsi.get("hash_key"), gsi.get("range_key"))]
    # newer providers' key_schema blocks (multi-attribute keys) key a GSI by attribute_name
    for gsi in gsis:
        schema = gsi.get("key_schema")
        if isinstance(schema, Unknown):
            return
        for entry in schema if isinstance(schema, list) else []:
            keys.append(entry.get("attribute_name") if isinstance(entry, Mapping) else Unknown("key_schema"))
    names = [attribute.get("name") for attribute in attributes]
    if first_unknown(keys) is not None or first_unknown(names) is not None:
        return
    indexed = {_key_text(key) for key in keys if _is_set(key)}
    defined = {_key_text(name) for name in names if name is not None}
    # Left out, hash_key and the attribute blocks take the existing table's values (they are
    # Optional+Computed): what their absence makes wrong is wrong only when creating the table.
    unused = sorted(defined - indexed)
    when: RejectionWhen
    if unused:
        when = "always" if _is_set(hash_key) else "create"
        c.reject(
            "attributes-indexed",
            f"all attributes must be indexed. Unused attributes: {_quoted(unused)}",
            when,
        )
    unmatched = sorted(indexed - defined)
    if unmatched:
        when = "always" if attributes else "create"
        message = f"all indexes must match a defined attribute. Unmatched indexes: {_quoted(unmatched)}"
        c.reject("indexes-defined", message, when)


def _capacity(c: _Checker) -> None:
    """validateProvisionedThroughputField, for read_capacity and write_capacity."""
    arguments = c.arguments
    billing_mode = arguments.get("billing_mode")
    if billing_mode is None:
        billing_mode = _PROVISIONED
    if isinstance(billing_mode, Unknown) or (_is_set(arguments.get("restore_source_name"))):
        return
    if arguments.get("restore_source_table_arn") is not None:
        return  # restored tables take their capacity from the source
    for name in ("read_capacity", "write_capacity"):
        value = _number(arguments.get(name))
        if isinstance(value, Unknown):
            continue
        if billing_mode == _PROVISIONED and (value is None or value < 1):
            message = f'{name} must be at least 1 when billing_mode is "{_PROVISIONED}"'
            # Absent, it is the table's current capacity; the provider also lets a switch from
            # on-demand through without it ("assuming changes are being ignored").
            c.reject("provisioned-capacity", message, "create" if value is None else "unless-live-on-demand")
        elif billing_mode == _ON_DEMAND and value is not None and value != 0:
            message = f'{name} can not be set when billing_mode is "{_ON_DEMAND}"'
            c.reject("on-demand-capacity", message, "unless-live-provisioned")


def _stream(c: _Checker) -> None:
    """validStreamSpec: an enabled stream needs a view type (absent: the existing stream's)."""
    enabled, view_type = c.arguments.get("stream_enabled"), c.arguments.get("stream_view_type")
    if enabled is True and not isinstance(view_type, Unknown) and not _is_set(view_type):
        c.reject(
            "stream-view-type",
            "stream_view_type is required when stream_enabled = true",
            "unless-live-stream",
        )


def _hash_key(c: _Checker) -> None:
    if c.arguments.get("hash_key") is None or c.arguments.get("hash_key") == "":
        c.reject("hash-key", "hash_key is required to create the table (AWS needs a HASH key)", "create")


def block_arguments(names: Iterable[str], blocks: Iterable[str]) -> tuple[Rejection, ...]:
    """``block-argument``: a nested block type of the resource written as an argument
    (``global_secondary_index = { ... }``, ``attribute = [...]``: Terraform 0.11's forms), which
    Terraform 1.x refuses with this message. ``names`` are the body's argument names, ``blocks``
    the resource's nested block types."""
    kinds = set(blocks)
    return tuple(
        Rejection(
            "block-argument",
            f'An argument named "{name}" is not expected here. '
            f'Did you mean to define a block of type "{name}"?',
        )
        for name in names
        if name in kinds
    )


# The arguments of ``aws_dynamodb_table`` (hashicorp/aws 5.100) that are not blocks: written as
# a block, Terraform suggests the equals sign.
_ARGUMENTS = frozenset(
    {
        "billing_mode",
        "deletion_protection_enabled",
        "hash_key",
        "name",
        "range_key",
        "read_capacity",
        "restore_date_time",
        "restore_source_name",
        "restore_source_table_arn",
        "restore_to_latest_time",
        "stream_enabled",
        "stream_view_type",
        "table_class",
        "tags",
        "tags_all",
        "write_capacity",
    }
)

# Blocks Terraform itself reads in any resource.
_META_BLOCKS = frozenset({"lifecycle", "dynamic", "provisioner", "connection"})


def unknown_blocks(
    types: Iterable[str], blocks: Iterable[str], dynamic: Iterable[str] = ()
) -> tuple[Rejection, ...]:
    """``block-type``: a nested block of a type the resource does not have (Terraform 0.11's
    ``tags { ... }``, or ``dynamic "tags"``), which Terraform 1.x refuses with this message.
    ``types`` are the body's block types, ``dynamic`` the labels of its ``dynamic`` blocks,
    ``blocks`` the resource's nested block types."""
    known = _META_BLOCKS | set(blocks)
    found: list[Rejection] = []
    for kind in dict.fromkeys(types):
        if kind in known:
            continue
        message = f'Blocks of type "{kind}" are not expected here.'
        if kind in _ARGUMENTS:
            message += (
                f' Did you mean to define argument "{kind}"? If so, use the equals sign to assign it a value.'
            )
        found.append(Rejection("block-type", message))
    # A dynamic block of a type the resource does not have: no hint (checked with terraform 1.11).
    for kind in dict.fromkeys(dynamic):
        if kind not in set(blocks):
            found.append(Rejection("block-type", f'Blocks of type "{kind}" are not expected here.'))
    return tuple(found)


# The arguments of ``aws_dynamodb_table`` and of each of its nested blocks, by the block's path:
# hashicorp/aws 5.100's schema (``terraform providers schema -json``, computed-only names such as
# ``arn`` included: Terraform refuses those with another message, never this one), together with
# the names 6.x added (``region``; a replica's ``consistency_mode`` and
# ``deletion_protection_enabled``; ``warm_throughput`` and ``global_table_witness``), since
# driftwatch does not know which provider version a repository pins: a name either accepts is
# compared as usual.
_BLOCK_ARGUMENTS: dict[str, frozenset[str]] = {
    "": _ARGUMENTS | {"arn", "id", "region", "stream_arn", "stream_label"},
    "attribute": frozenset({"name", "type"}),
    "global_secondary_index": frozenset(
        {
            "hash_key",
            "name",
            "non_key_attributes",
            "projection_type",
            "range_key",
            "read_capacity",
            "write_capacity",
        }
    ),
    "global_secondary_index.on_demand_throughput": frozenset(
        {"max_read_request_units", "max_write_request_units"}
    ),
    "global_secondary_index.warm_throughput": frozenset({"read_units_per_second", "write_units_per_second"}),
    # newer releases' multi-attribute GSI keys (not in 5.100; see resource.py)
    "global_secondary_index.key_schema": frozenset({"attribute_name", "key_type"}),
    "import_table": frozenset({"input_compression_type", "input_format"}),
    "import_table.input_format_options": frozenset(),
    "import_table.input_format_options.csv": frozenset({"delimiter", "header_list"}),
    "import_table.s3_bucket_source": frozenset({"bucket", "bucket_owner", "key_prefix"}),
    "local_secondary_index": frozenset({"name", "non_key_attributes", "projection_type", "range_key"}),
    "on_demand_throughput": frozenset({"max_read_request_units", "max_write_request_units"}),
    "warm_throughput": frozenset({"read_units_per_second", "write_units_per_second"}),
    "point_in_time_recovery": frozenset({"enabled", "recovery_period_in_days"}),
    "replica": frozenset(
        {
            "arn",
            "consistency_mode",
            "deletion_protection_enabled",
            "kms_key_arn",
            "point_in_time_recovery",
            "propagate_tags",
            "region_name",
            "stream_arn",
            "stream_label",
        }
    ),
    "server_side_encryption": frozenset({"enabled", "kms_key_arn"}),
    "timeouts": frozenset({"create", "delete", "update"}),
    "ttl": frozenset({"attribute_name", "enabled"}),
    "global_table_witness": frozenset({"region_name"}),
}

# Arguments Terraform itself reads in any resource.
_META_ARGUMENTS = frozenset({"count", "for_each", "provider", "depends_on"})


class _Body(Protocol):
    """A block as the parser gives it: its type, labels and (arguments, nested blocks)."""

    @property
    def type(self) -> str: ...

    @property
    def labels(self) -> Sequence[str]: ...

    @property
    def items(self) -> tuple[Mapping[str, Any], Sequence[_Body]]: ...


def unsupported_arguments(resource: _Body) -> tuple[Rejection, ...]:
    """``unsupported-argument``: an argument the resource or one of its nested blocks does not
    have (``kms_key_id`` in ``server_side_encryption``, 0.11's ``enable``), which Terraform
    refuses with this message, with a suggestion where a known name is close. The content of a
    ``dynamic`` block is checked too, whatever its ``for_each`` (Terraform checks it even for an
    empty one). A name that is a nested block's type is ``block-argument``'s at the top level.
    A block inside a nested block that the nested block does not have is ``block-type`` (the
    resource body's own block types are ``unknown_blocks``')."""
    found: list[Rejection] = []
    _arguments_of(resource.items, "", found)
    return tuple(found)


def _arguments_of(
    items: tuple[Mapping[str, Any], Sequence[_Body]], path: str, found: list[Rejection]
) -> None:
    allowed = _BLOCK_ARGUMENTS[path]
    arguments, blocks = items
    children = {kind.removeprefix(f"{path}.") for kind in _BLOCK_ARGUMENTS if _parent(kind) == path}
    for name in arguments:
        if name in allowed or (not path and name in _META_ARGUMENTS):
            continue
        if name in children:  # block_arguments' (called for the top level by the caller)
            if path:
                found.extend(block_arguments([name], children))
            continue
        message = f'An argument named "{name}" is not expected here.'
        close = _suggestion(name, sorted(allowed))
        if close is not None:
            message += f' Did you mean "{close}"?'
        found.append(Rejection("unsupported-argument", message))
    for block in blocks:
        if block.type == "dynamic" and block.labels:
            kind = block.labels[0]
            bodies: Sequence[_Body] = [b for b in block.items[1] if b.type == "content"]
        else:
            kind, bodies = block.type, [block]
        child = f"{path}.{kind}" if path else kind
        if child not in _BLOCK_ARGUMENTS:
            if path:  # at the top level unknown_blocks says so (and lifecycle is Terraform's)
                found.append(_nested_block_type(kind, allowed, dynamic=block.type == "dynamic"))
            continue
        for body in bodies:
            _arguments_of(body.items, child, found)


def _nested_block_type(kind: str, arguments: frozenset[str], dynamic: bool) -> Rejection:
    """``block-type`` inside a nested block: a GSI's ``dynamic "read_capacity"`` or
    ``provisioned_throughput`` (public modules, eleventh survey), ``lifecycle`` inside ``ttl``.
    Terraform refuses the resource whatever a ``dynamic`` block's ``for_each``; a static block
    named like one of the block's arguments gets the equals-sign hint, a dynamic one none
    (terraform 1.11.4 validate)."""
    message = f'Blocks of type "{kind}" are not expected here.'
    if kind in arguments and not dynamic:
        message += (
            f' Did you mean to define argument "{kind}"? If so, use the equals sign to assign it a value.'
        )
    return Rejection("block-type", message)


def _parent(path: str) -> str:
    return path.rpartition(".")[0]


def _suggestion(name: str, candidates: Sequence[str]) -> str | None:
    """HCL's ``nameSuggestion``: the first candidate less than three edits away."""
    for candidate in candidates:
        if _distance(name, candidate) < 3:
            return candidate
    return None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions and substitutions of one character)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


# The resource's nested blocks by how Terraform represents them: a set of objects has no
# addressable elements; a list must be indexed before its attributes (hashicorp/aws 5.100).
_SET_BLOCKS = frozenset({"attribute", "global_secondary_index", "local_secondary_index", "replica"})
_LIST_BLOCKS = frozenset(
    {"ttl", "point_in_time_recovery", "server_side_encryption", "import_table", "on_demand_throughput"}
)
# Every name an ``ignore_changes`` entry may start with: the arguments (6.x's included, as above),
# the exported attributes and the nested block types.
_RESOURCE_NAMES = (
    _BLOCK_ARGUMENTS[""]
    | {"timeouts", "warm_throughput", "global_table_witness"}
    | _SET_BLOCKS
    | _LIST_BLOCKS
)


# The types of the arguments an ``ignore_changes`` entry can reach (hashicorp/aws 5.100): what
# is in neither set nor a map is a string. Names only newer releases have (``region``,
# ``warm_throughput``, ``global_table_witness``) and a set-typed argument are not judged past
# their name: their shape is not checked against terraform here.
_BOOLS = frozenset(
    {
        "deletion_protection_enabled",
        "restore_to_latest_time",
        "stream_enabled",
        "ttl.enabled",
        "point_in_time_recovery.enabled",
        "server_side_encryption.enabled",
    }
)
_NUMBERS = frozenset(
    {
        "read_capacity",
        "write_capacity",
        "point_in_time_recovery.recovery_period_in_days",
        "on_demand_throughput.max_read_request_units",
        "on_demand_throughput.max_write_request_units",
    }
)
_MAPS = frozenset({"tags", "tags_all"})
_NOT_JUDGED = frozenset(
    {"region", "warm_throughput", "global_table_witness", "import_table.input_format_options.csv.header_list"}
)
_SINGLE_NESTED = frozenset({"timeouts"})
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_Steps = Sequence[tuple[str, str]]


def _ignore_changes(c: _Checker) -> None:
    """``ignore-changes``: an entry Terraform refuses before planning (checked with terraform
    1.11.4 validate): a name the resource does not have, a step into a set of blocks
    (``global_secondary_index.read_capacity``, a public module's entry), an attribute of a
    list block without its index (``ttl.enabled``), a key or index where a block takes only
    attributes (``ttl[0]["enabled"]``, ``ttl["enabled"]["x"]``), an argument of a block it
    lacks (``ttl[0].nope``) or a step its type has not (``ttl[0].enabled[0]``,
    ``tags["a"]["b"]``). Refused entries are otherwise read as silencing something, which hid
    the GSIs (or the TTL) of a table Terraform would not plan."""
    # every entry as text; none when one cannot be read (it could name anything: not judged)
    for entry in ignore_changes_entries(c.arguments) or ():
        if entry.strip() == "*":  # Terraform 0.11's wildcard, which reads as naming nothing
            c.reject(
                "ignore-changes",
                'The ["*"] form of ignore_changes wildcard is was deprecated and is now invalid. '
                'Use "ignore_changes = all" to ignore changes to all attributes.',
            )
            continue
        parsed = ignore_changes_traversal(entry)
        if parsed is None:
            continue
        head, steps = parsed
        if head not in _RESOURCE_NAMES:
            message = f'This object has no argument, nested block, or exported attribute named "{head}".'
            close = _suggestion(head, sorted(_RESOURCE_NAMES))
            c.reject("ignore-changes", message + (f' Did you mean "{close}"?' if close else ""))
            continue
        refused = _traverse_block("", [("attribute", head), *steps])
        if refused is not None:
            c.reject("ignore-changes", refused)


def _traverse_block(path: str, steps: _Steps) -> str | None:
    """Terraform's ``Block.StaticValidateTraversal``: the message refusing ``steps`` into the
    block at ``path`` ("" for the resource), or None. A block takes only attribute steps."""
    if not steps:
        return None
    kind, name = steps[0]
    if kind != "attribute":
        if kind == "key" and _IDENTIFIER.match(name):
            return (
                f'Only attribute access is allowed here. Did you mean to access attribute "{name}" '
                "using the dot operator?"
            )
        return "Only attribute access is allowed here, using the dot operator."
    child = f"{path}.{name}" if path else name
    if child in _NOT_JUDGED:
        return None
    if child in _BLOCK_ARGUMENTS:
        return _traverse_nested(child, name, steps[1:])
    if name in _BLOCK_ARGUMENTS[path]:
        return _traverse_value(_value_type(child), steps[1:])
    names = _BLOCK_ARGUMENTS[path] | {
        k.removeprefix(f"{path}.") for k in _BLOCK_ARGUMENTS if k and _parent(k) == path
    }
    message = f'This object has no argument, nested block, or exported attribute named "{name}".'
    close = _suggestion(name, sorted(names))
    return message + (f' Did you mean "{close}"?' if close else "")


def _traverse_nested(path: str, name: str, steps: _Steps) -> str | None:
    """``NestedBlock.staticValidateTraversal``: a set of blocks takes no step, a list one
    index (any key: ``ttl["enabled"]`` validates) before the block's, a single block none."""
    if path in _SINGLE_NESTED:
        return _traverse_block(path, steps)
    if not steps:
        return None
    if path in _SET_BLOCKS:
        return (
            f'Block type "{name}" is represented by a set of objects, and set elements do not '
            "have addressable keys. To find elements matching specific criteria, use a "
            '"for" expression with an "if" clause.'
        )
    if steps[0][0] == "attribute":
        return (
            f'Block type "{name}" is represented by a list of objects, so it must be indexed '
            f"using a numeric key, like .{name}[0]."
        )
    return _traverse_block(path, steps[1:])


def _value_type(path: str) -> str:
    """The type of the argument at ``path`` as Terraform names it in its messages."""
    if path in _MAPS:
        return "map"
    return "bool" if path in _BOOLS else "number" if path in _NUMBERS else "string"


def _traverse_value(kind: str, steps: _Steps) -> str | None:
    """HCL's traversal of an unknown value of the argument's type: a map takes one step of
    either kind (``tags.x`` and ``tags[0]`` validate), a primitive none."""
    if not steps:
        return None
    if kind == "map":
        return _traverse_value("string", steps[1:])
    if steps[0][0] == "attribute":
        return f"Can't access attributes on a primitive-typed value ({kind})."
    return "This value does not have any indices."


def check(arguments: Mapping[str, Any]) -> tuple[Rejection, ...]:
    """Every rule the evaluated ``aws_dynamodb_table`` arguments break, in a stable order."""
    c = _Checker(arguments)
    _schema(c)
    _ttl(c)
    _key_attributes(c)
    _capacity(c)
    _stream(c)
    _hash_key(c)
    _ignore_changes(c)
    return tuple(c.found)


def rejection_error(rejected: Sequence[Rejection], table_exists: bool) -> str:
    """The error of a table whose declaration Terraform rejects, naming each rule."""
    rules = "; ".join(f"{r.message} [{r.rule}]" for r in rejected)
    if table_exists:
        return f"Terraform would reject this declaration: {rules}"
    return f"the table does not exist and Terraform would refuse to create it: {rules}"
