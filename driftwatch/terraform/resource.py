"""``aws_dynamodb_table`` arguments -> ``TableSpec``: the one mapping of the declared side.

Both a plain ``resource "aws_dynamodb_table"`` block and the CloudPosse module (whose emulation
in ``cloudposse.py`` produces the arguments its inner ``aws_dynamodb_table.default`` would get)
go through ``resource_to_spec``, so the two paths cannot disagree about what an argument means.

What an *absent* argument means follows hashicorp/aws 5.x, verified with Terraform 1.11 and
provider 5.100 against moto (tests/test_terraform_plain_resource.py, recorded in
docs/plain-resource-semantics.md):

* Optional+Computed -- absent means "not managed", listed in ``TableSpec.unmanaged``:
  ``ttl``, ``point_in_time_recovery``, ``server_side_encryption`` blocks, ``read_capacity`` /
  ``write_capacity`` (also per GSI: ``None``), ``stream_view_type``, SSE ``kms_key_arn``.
* Optional with a default that Terraform enforces: ``billing_mode`` (PROVISIONED),
  ``table_class`` (STANDARD), ``stream_enabled`` (false), ``deletion_protection_enabled``
  (false), ``tags`` ({} -- extra live tags are removed), ``global_secondary_index`` (none --
  an extra live GSI is removed), ``local_secondary_index``, ``replica``.

Everything may be ``Unknown``; a field that depends on an Unknown is Unknown (never a guess).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from driftwatch.spec import (
    EXISTENCE_ATTRIBUTE,
    Autoscaling,
    BillingMode,
    Gsi,
    Lsi,
    Maybe,
    Sse,
    Stream,
    TableSpec,
    Ttl,
    Unknown,
    Unresolved,
    first_unknown,
)
from driftwatch.terraform.numbers import format_number
from driftwatch.terraform.types import string_bool

PAY_PER_REQUEST = BillingMode.PAY_PER_REQUEST.value
DEFAULT_BILLING_MODE = BillingMode.PROVISIONED.value
DEFAULT_TABLE_CLASS = "STANDARD"

# lifecycle.ignore_changes entries (top-level argument) -> vocabulary names they silence.
IGNORE_CHANGES_VOCABULARY: dict[str, tuple[str, ...]] = {
    "hash_key": ("hash_key",),
    "range_key": ("range_key",),
    "attribute": ("hash_key_type", "range_key_type"),
    "billing_mode": ("billing_mode",),
    "read_capacity": ("read_capacity",),
    "write_capacity": ("write_capacity",),
    "table_class": ("table_class",),
    "ttl": ("ttl.*",),
    "point_in_time_recovery": ("point_in_time_recovery",),
    "server_side_encryption": ("sse.*",),
    "stream_enabled": ("stream.enabled",),
    "stream_view_type": ("stream.view_type",),
    "deletion_protection_enabled": ("deletion_protection",),
    "global_secondary_index": ("gsi.*",),
    "local_secondary_index": ("lsi.*",),
    "replica": ("replicas",),
    "tags": ("tags.*",),
    # tags_all: the resource's own tags still plan as changes of ``tags``; only the provider's
    # default tags may go uncompared (``_default_tags_ignored``, which knows them).
    "tags_all": (),
}
# Nested paths that map to one field (``ttl[0].enabled``, ``server_side_encryption.0.kms_key_arn``).
_NESTED_IGNORE: dict[tuple[str, str], str] = {
    ("ttl", "enabled"): "ttl.enabled",
    ("ttl", "attribute_name"): "ttl.attribute",
    ("server_side_encryption", "enabled"): "sse.enabled",
    ("server_side_encryption", "kms_key_arn"): "sse.kms_key_arn",
    ("point_in_time_recovery", "enabled"): "point_in_time_recovery",
}
# ``ignore_changes = all`` (or an entry we cannot resolve): every table attribute. Autoscaling
# is declared by separate resources, which the table's lifecycle does not affect.
# ``name`` under ignore_changes: Terraform knows the table by the name in its state, which may
# be another table's or none's (driftwatch.scan says so rather than "missing"). Not in the
# vocabulary above, which also places findings (locations.py): a missing table is shown at
# its resource, not at its ``name``.
_IGNORED_NAME = frozenset({EXISTENCE_ATTRIBUTE})
IGNORE_ALL: frozenset[str] = (
    frozenset(name for names in IGNORE_CHANGES_VOCABULARY.values() for name in names)
    | {"stream.*"}
    | _IGNORED_NAME
)

_IGNORE_PATH = re.compile(r"^(?P<head>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>.*)$")
_PATH_PARTS = re.compile(r'\[\s*"([^"]*)"\s*\]|\.(\d+)|\.([A-Za-z_][A-Za-z0-9_-]*)|\[\s*(\d+)\s*\]')
# Blocks the provider allows once (MaxItems 1): ``ttl[0]`` is the block, ``ttl[1]`` matches nothing.
_SINGLE_BLOCKS = frozenset({"ttl", "point_in_time_recovery", "server_side_encryption"})


@dataclass(frozen=True)
class ResourceDeclaration:
    """One ``aws_dynamodb_table`` as evaluated arguments, plus the autoscaling declared for it.

    ``arguments`` holds evaluated values; nested blocks are lists of dicts (``attribute``,
    ``ttl``, ``server_side_encryption``, ``point_in_time_recovery``, ``global_secondary_index``,
    ``local_secondary_index``, ``replica``, ``lifecycle``). ``lifecycle[0].ignore_changes``
    holds attribute names as strings. ``autoscaling`` None means no scalable targets are
    declared for the table (so live ones are not Terraform's business); ``gsi_autoscaling``
    likewise per GSI name.
    """

    arguments: dict[str, Any]
    autoscaling: Autoscaling | None = None
    gsi_autoscaling: Mapping[str, Autoscaling] = field(default_factory=dict)


# --- value conversion --------------------------------------------------------------------------


def _text(value: Any) -> Maybe[str] | None:
    """A string argument; None and "" (the provider's zero value) both mean "not set"."""
    if isinstance(value, Unknown):
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        # As Terraform converts a number to a string: the shortest decimal ("1.5", not the
        # evaluator's exact Num repr), so a fractional tag value is not a false alarm.
        return format_number(value)
    if isinstance(value, str):
        return value
    # A list or a map is no string to Terraform (an error); str() made "['a']" a value: drift.
    return Unknown(f"a string is required, got {_kind(value)}")


def _kind(value: Any) -> str:
    """Terraform's word for the type of a value that is not what an argument takes."""
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "a list"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return f"the number {format_number(value)}"
    return "a string" if isinstance(value, str) else type(value).__name__


def _flag(value: Any, default: bool) -> Maybe[bool]:
    if isinstance(value, Unknown):
        return value
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    converted = string_bool(value)
    if converted is not None:
        return converted
    # Terraform converts only "true"/"false"/"1"/"0" to a bool; bool() read "yes", 5 or "False"
    # as on and [] or "" as off: a guess, where Terraform refuses the configuration.
    return Unknown(f"a bool is required, got {_kind(value)}")


def _number(value: Any) -> Maybe[int] | None:
    if isinstance(value, Unknown):
        return value
    if value is None or isinstance(value, bool):
        return None
    # repr() of an int of over 4,300 digits (1e4900 is one) raises ValueError: printed as Terraform does
    text = format_number(value) if isinstance(value, (int, float)) else repr(value)
    shown = text if len(text) <= 40 else f"{text[:30]}..."
    try:
        number = float(value)
    except OverflowError:  # an integer of 400 digits: no int64 (the provider's type) holds it
        return Unknown(f"{shown} is out of range for a whole number")
    except (TypeError, ValueError):
        return Unknown(f"{shown} is not a number")
    # "1e400" and "inf" raised OverflowError out of int(): every table of the target was lost.
    # Terraform requires a whole number here; anything else is not a value it would apply.
    if not math.isfinite(number) or not number.is_integer():
        return Unknown(f"{shown} is not a whole number")
    return int(number)


def _strings(value: Any, what: str) -> Maybe[frozenset[str]]:
    """A set of strings (non_key_attributes); null means the empty set."""
    unknown = first_unknown(value)
    if unknown is not None:
        return unknown
    if value is None:
        return frozenset()
    if not isinstance(value, (list, tuple, set, frozenset)):
        return Unknown(f"{what} must be a list of strings, got {_kind(value)}")
    items: set[str] = set()
    for item in value:
        # a number or bool converts to its text (as Terraform converts it); null, a list or a map
        # does not, and str() made "None" or "[1]" an attribute name: drift
        text = _text(item) if item is not None else Unknown(f"{what} holds a null")
        if text is None:  # ""
            text = ""
        if isinstance(text, Unknown):
            return Unknown(f"{what}: {text.reason}")
        items.add(text)
    return frozenset(items)


def _single_block(arguments: Mapping[str, Any], name: str) -> Maybe[dict[str, Any]] | None:
    """A MaxItems=1 block: None when absent (no block, null or an empty list)."""
    value = arguments.get(name)
    if isinstance(value, Unknown):
        return value
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, (list, tuple)):  # 5[0] was a TypeError: the table was lost
        return Unknown(f"{name} is not a block, got {_kind(value)}")
    if not value:
        return None
    first = value[0]
    if isinstance(first, Unknown):
        return first
    return dict(first) if isinstance(first, Mapping) else Unknown(f"{name} block is not an object")


def _blocks(arguments: Mapping[str, Any], name: str) -> Maybe[list[dict[str, Any]]]:
    """A repeated block; any Unknown element makes the whole list Unknown (its keys are unknown)."""
    value = arguments.get(name)
    if isinstance(value, Unknown):
        return value
    if value is None:
        return []
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, (list, tuple)):  # iterating 5 was a TypeError, "ab" two blocks
        return Unknown(f"{name} is not a list of blocks, got {_kind(value)}")
    blocks: list[dict[str, Any]] = []
    for item in value:
        if isinstance(item, Unknown):
            return item
        if not isinstance(item, Mapping):
            return Unknown(f"a {name} block is not an object")
        blocks.append(dict(item))
    return blocks


# --- lifecycle.ignore_changes -----------------------------------------------------------------


def ignore_changes_to_vocabulary(entry: str) -> frozenset[str]:
    """Vocabulary names silenced by one ``ignore_changes`` entry (unknown arguments: none)."""
    entry = entry.strip()
    if entry == "all":
        return IGNORE_ALL
    match = _IGNORE_PATH.match(entry)
    if match is None:
        return frozenset()
    head, rest = match.group("head"), match.group("rest")
    if head == "name":
        return _IGNORED_NAME
    steps, keys = _loose_steps(rest)
    if head in ("tags", "tags_all") and steps:
        # Only an index (``tags["K"]``) names a map key. Terraform reads ``tags.K`` as an
        # attribute step, which matches no element of a map: it ignores nothing (terraform plan
        # still changes the tag), so nothing is silenced here either.
        key = steps[0].group(1)
        return frozenset({f"tags.{key}"}) if key is not None else frozenset()
    if head in _SINGLE_BLOCKS and _whole_block_key(steps):
        return frozenset(IGNORE_CHANGES_VOCABULARY[head])
    index = steps[0].group(2) or steps[0].group(4) if steps else None
    if head in _SINGLE_BLOCKS and index is not None and int(index) != 0:
        return frozenset()  # no such element: Terraform ignores nothing (terraform plan)
    if keys and head in _SINGLE_BLOCKS:
        # One argument of the block: only what driftwatch reads of it. The rest of the block is
        # still planned (``point_in_time_recovery[0].recovery_period_in_days`` leaves
        # ``enabled`` compared; it used to silence all of PITR, a turned-off PITR unreported).
        nested = _NESTED_IGNORE.get((head, keys[0]))
        return frozenset({nested}) if nested is not None else frozenset()
    return frozenset(IGNORE_CHANGES_VOCABULARY.get(head, ()))


def _loose_steps(rest: str) -> tuple[list[re.Match[str]], list[str]]:
    """The path steps found in an entry after its head, and the names among them (string keys
    and attributes, in order): what the silencing rules read. Refused entries are the
    validator's (``ignore_changes_traversal``)."""
    steps = list(_PATH_PARTS.finditer(rest))
    return steps, [m.group(1) or m.group(3) for m in steps if (m.group(1) or m.group(3))]


def _whole_block_key(steps: list[re.Match[str]]) -> bool:
    """Whether the steps are one string key (``ttl["enabled"]``): Terraform drops an entry's
    last string key as a map's key, then finds no map, and ignores the whole block (terraform
    1.11.4 plan: a TTL attribute name changed in the console is not planned)."""
    return len(steps) == 1 and steps[0].group(1) is not None


def _ignores_whole_or(entries: list[str], head: str, argument: str) -> bool:
    """Whether an entry names the block ``head`` as a whole (``x``, ``x[0]``) or its argument
    ``argument`` (``x[0].argument``)."""
    for entry in entries:
        match = _IGNORE_PATH.match(entry.strip())
        if match is None or match.group("head") != head:
            continue
        steps, keys = _loose_steps(match.group("rest"))
        if not keys or keys[0] == argument or _whole_block_key(steps):
            return True
    return False


def ignore_changes_traversal(entry: str) -> tuple[str, list[tuple[str, str]]] | None:
    """An ``ignore_changes`` entry's head and its steps, each ``("index", "0")`` (``[0]``,
    ``.0``), ``("key", "K")`` (``["K"]``) or ``("attribute", "name")`` (``.name``); None for
    ``all`` or text that is not wholly a path (not judged: it could be anything)."""
    entry = entry.strip()
    match = _IGNORE_PATH.match(entry)
    if entry == "all" or match is None:
        return None
    rest, position, steps = match.group("rest"), 0, []
    while position < len(rest):
        step = _PATH_PARTS.match(rest, position)
        if step is None:
            return None
        if step.group(1) is not None:
            steps.append(("key", step.group(1)))
        elif step.group(3) is not None:
            steps.append(("attribute", step.group(3)))
        else:
            steps.append(("index", step.group(2) or step.group(4)))
        position = step.end()
    return match.group("head"), steps


def ignore_changes_entries(arguments: Mapping[str, Any]) -> list[str] | None:
    """The entries of ``lifecycle { ignore_changes }`` as text; None when one cannot be read
    (Unknown, not a reference), which could name anything."""
    lifecycles = _blocks(arguments, "lifecycle")
    if isinstance(lifecycles, Unknown):
        return None
    found: list[str] = []
    for lifecycle in lifecycles:
        entries = lifecycle.get("ignore_changes")
        if isinstance(entries, Unknown):
            return None
        if entries is not None and not isinstance(entries, (str, list, tuple)):
            return None  # not a list of references: it could name anything (was a TypeError)
        for entry in [entries] if isinstance(entries, str) else entries or ():
            if not isinstance(entry, str):
                return None
            found.append(entry)
    return found


def _ignored(arguments: Mapping[str, Any]) -> frozenset[str]:
    """Everything ``lifecycle { ignore_changes }`` silences.

    An Unknown entry could name anything, so it silences everything: a missed finding is
    acceptable, a false alarm is not.
    """
    entries = ignore_changes_entries(arguments)
    if entries is None:
        return IGNORE_ALL
    return frozenset(name for entry in entries for name in ignore_changes_to_vocabulary(entry))


# --- keys ----------------------------------------------------------------------------------------


def _key_type(
    attributes: Maybe[list[dict[str, Any]]], key: Maybe[str] | None, role: str
) -> Maybe[str] | None:
    """The ``type`` of the ``attribute`` block named like the key; missing -> Unknown with why."""
    if key is None:
        return None
    if isinstance(key, Unknown):
        return Unknown(f"the {role} key is unknown ({key.reason})")
    if isinstance(attributes, Unknown):
        return attributes
    uncertain: Unknown | None = None
    for attribute in attributes:
        name = attribute.get("name")
        if isinstance(name, Unknown):
            uncertain = name
        elif name == key:
            kind = _text(attribute.get("type"))
            return Unknown(f"attribute {key!r} has no type") if kind is None else kind
    if uncertain is not None:
        return uncertain
    return Unknown(f"no attribute block declares the {role} key {key!r}")


# --- capacity --------------------------------------------------------------------------------


def _capacity(value: Any, on_demand: Maybe[bool]) -> Maybe[int] | None:
    """Declared capacity: not compared (None) under PAY_PER_REQUEST or when not set."""
    declared = _number(value)
    if on_demand is True or declared is None:
        return None
    if isinstance(on_demand, Unknown):
        return Unknown(f"billing mode is unknown ({on_demand.reason})")
    return declared


def _on_demand(billing_mode: Maybe[str]) -> Maybe[bool]:
    return billing_mode if isinstance(billing_mode, Unknown) else billing_mode == PAY_PER_REQUEST


# --- blocks ----------------------------------------------------------------------------------


def _ttl(block: Maybe[dict[str, Any]]) -> Ttl:
    """The attribute name is compared only when TTL is declared on (AWS reports none when off)."""
    if isinstance(block, Unknown):
        return Ttl(enabled=block, attribute=block)
    enabled = _flag(block.get("enabled"), False)
    if enabled is False:
        return Ttl(enabled=False)
    attribute = _text(block.get("attribute_name"))
    if isinstance(enabled, Unknown) and attribute is not None:
        attribute = Unknown(f"whether TTL is enabled is unknown ({enabled.reason})")
    return Ttl(enabled=enabled, attribute=attribute)


def _sse(block: Maybe[dict[str, Any]]) -> Sse:
    """A null key means "AWS managed or any KMS key" (kms_key_arn is Optional+Computed)."""
    if isinstance(block, Unknown):
        return Sse(enabled=block, kms_key_arn=block)
    enabled = _required_flag(block.get("enabled"), "server_side_encryption")
    if enabled is False:
        return Sse(enabled=False)
    key = _text(block.get("kms_key_arn"))
    if isinstance(enabled, Unknown) and key is not None:
        key = Unknown(f"whether SSE is enabled is unknown ({enabled.reason})")
    return Sse(enabled=enabled, kms_key_arn=key)


def _pitr(block: Maybe[dict[str, Any]]) -> Maybe[bool]:
    if isinstance(block, Unknown):
        return block
    return _required_flag(block.get("enabled"), "point_in_time_recovery")


def _required_flag(value: Any, block: str) -> Maybe[bool]:
    """``enabled`` of a block whose schema requires it (terraform validate: 'The argument
    "enabled" is required'); read as false when absent, a PITR declared on would be off."""
    if value is None:
        return Unknown(f'{block} has no "enabled": Terraform requires it')
    return _flag(value, False)


def _stream(arguments: Mapping[str, Any]) -> Stream:
    """stream_enabled defaults to false (enforced); the view type is compared only when set."""
    enabled = _flag(arguments.get("stream_enabled"), False)
    if enabled is False:
        return Stream(enabled=False)
    return Stream(enabled=enabled, view_type=_text(arguments.get("stream_view_type")))


def _index_name(block: Mapping[str, Any], kind: str) -> Maybe[str]:
    name = _text(block.get("name"))
    if name is None:
        return Unknown(f"a {kind} block has no name")
    return name


def _required(value: Any, what: str) -> Maybe[str]:
    text = _text(value)
    return Unknown(f"{what} is not set") if text is None else text


def _gsi(block: Mapping[str, Any], name: str, on_demand: Maybe[bool], autoscaling: Autoscaling) -> Gsi:
    hash_key: Maybe[str] = _required(block.get("hash_key"), f"hash_key of GSI {name!r}")
    range_key: Maybe[str] | None = _text(block.get("range_key"))
    if block.get("key_schema") and block.get("hash_key") is None:
        # Newer providers' multi-attribute keys: driftwatch does not read key_schema blocks, so
        # the GSI's keys are not known (never compared as absent: a false alarm).
        why = f"GSI {name!r} declares its keys in key_schema blocks, which driftwatch does not read"
        hash_key, range_key = Unknown(why), Unknown(why)
    return Gsi(
        name=name,
        hash_key=hash_key,
        range_key=range_key,
        projection_type=_required(block.get("projection_type"), f"projection_type of GSI {name!r}"),
        non_key_attributes=_strings(block.get("non_key_attributes"), f"non_key_attributes of GSI {name!r}"),
        read_capacity=_capacity(block.get("read_capacity"), on_demand),
        write_capacity=_capacity(block.get("write_capacity"), on_demand),
        autoscaling=autoscaling,
    )


def _gsis(decl: ResourceDeclaration, on_demand: Maybe[bool]) -> Maybe[tuple[Gsi, ...]]:
    blocks = _blocks(decl.arguments, "global_secondary_index")
    if isinstance(blocks, Unknown):
        return blocks
    gsis: list[Gsi] = []
    for block in blocks:
        name = _index_name(block, "global_secondary_index")
        if isinstance(name, Unknown):
            return name
        gsis.append(_gsi(block, name, on_demand, decl.gsi_autoscaling.get(name, Autoscaling())))
    return tuple(gsis)


def _lsis(arguments: Mapping[str, Any]) -> Maybe[tuple[Lsi, ...]]:
    blocks = _blocks(arguments, "local_secondary_index")
    if isinstance(blocks, Unknown):
        return blocks
    lsis: list[Lsi] = []
    for block in blocks:
        name = _index_name(block, "local_secondary_index")
        if isinstance(name, Unknown):
            return name
        lsis.append(
            Lsi(
                name=name,
                range_key=_required(block.get("range_key"), f"range_key of LSI {name!r}"),
                projection_type=_required(block.get("projection_type"), f"projection_type of LSI {name!r}"),
                non_key_attributes=_strings(
                    block.get("non_key_attributes"), f"non_key_attributes of LSI {name!r}"
                ),
            )
        )
    return tuple(lsis)


def _replicas(arguments: Mapping[str, Any]) -> Maybe[frozenset[str]]:
    blocks = _blocks(arguments, "replica")
    if isinstance(blocks, Unknown):
        return blocks
    regions: set[str] = set()
    for block in blocks:
        region = _required(block.get("region_name"), "region_name of a replica")
        if isinstance(region, Unknown):
            return region
        regions.add(region)
    return frozenset(regions)


def tag_map(value: Any, what: str) -> Maybe[dict[str, Maybe[str]]]:
    """A tags argument as the provider reads it: values as text, a null value dropped."""
    if isinstance(value, Unknown):
        return Unknown(f"{what} are unknown ({value.reason})")
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        return Unknown(f"{what} are not a map")
    tags: dict[str, Maybe[str]] = {}
    for key, item in value.items():
        if isinstance(key, Unknown):
            return Unknown(f"a key of {what} is unknown ({key.reason})")
        if item is not None:  # the provider never sends a null tag
            tags[str(key)] = item if isinstance(item, Unknown) else (_text(item) or "")
    return tags


def _tags(
    arguments: Mapping[str, Any], default_tags: Mapping[str, Any] | None
) -> Maybe[dict[str, Maybe[str]]]:
    """Provider ``default_tags`` under the resource's ``tags``; absent tags mean {} (enforced)."""
    defaults = tag_map(default_tags, "the provider's default_tags")
    own = tag_map(arguments.get("tags"), "tags")
    if isinstance(defaults, Unknown):
        return defaults
    if isinstance(own, Unknown):
        return own
    return {**defaults, **own}


# --- the mapping -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _TagIgnores:
    """What ``ignore_changes`` says about tags, entry by entry: Terraform treats an entry on
    ``tags`` and one on ``tags_all`` differently (measured with terraform plan, see below)."""

    by_tags: frozenset[str]  # "tags.*" for ``tags``, "tags.K" for ``tags["K"]``
    by_tags_all: frozenset[str]  # "tags.K" for ``tags_all["K"]``
    whole_tags_all: bool  # ``tags_all``
    everything: bool  # ``all``


def _tag_ignores(arguments: Mapping[str, Any]) -> _TagIgnores | None:
    """None when an entry cannot be read: it could name anything, so the tag rules below that
    would compare more than ``_ignored`` (which then silences everything) do not apply."""
    entries = ignore_changes_entries(arguments)
    if entries is None:
        return None
    by_tags: set[str] = set()
    by_tags_all: set[str] = set()
    whole_tags_all = everything = False
    for entry in entries:
        match = _IGNORE_PATH.match(entry.strip())
        if match is None:
            return None
        head, whole = match.group("head"), not match.group("rest").strip()
        if head == "all" and whole:
            everything = True
        elif head == "tags":
            by_tags |= ignore_changes_to_vocabulary(entry) if not whole else {"tags.*"}
        elif head == "tags_all" and whole:
            whole_tags_all = True
        elif head == "tags_all":
            by_tags_all |= ignore_changes_to_vocabulary(entry)
    return _TagIgnores(frozenset(by_tags), frozenset(by_tags_all), whole_tags_all, everything)


def _default_tags_ignored(arguments: Mapping[str, Any], default_tags: Mapping[str, Any] | None) -> set[str]:
    """``ignore_changes = [tags_all]`` (measured with terraform plan): a resource tag changed or
    a tag added in the console still plans as a change of ``tags``, but a default tag removed
    plans nothing; so the default tags the resource does not set itself are not compared (a
    changed value of one is then missed, never alarmed)."""
    ignores = _tag_ignores(arguments)
    if ignores is None or not ignores.whole_tags_all or not isinstance(default_tags, Mapping):
        return set()
    own = arguments.get("tags")
    own_keys = set(own) if isinstance(own, Mapping) else set()
    return {f"tags.{key}" for key in default_tags if key not in own_keys}


def _restored_default_tags(
    arguments: Mapping[str, Any], default_tags: Mapping[str, Any] | None
) -> dict[str, Maybe[str]]:
    """Default tags Terraform puts back when they are deleted, though ``ignore_changes`` leaves
    their value alone (measured with terraform plan): under ``ignore_changes = [tags]`` or
    ``[tags["K"]]``, a provider default tag deleted in the console plans a change of
    ``tags_all`` back to the default's value (even where the resource's own tag overrode it),
    while the same tag given another value plans nothing. ``tags_all`` in the list, ``all``, or
    an entry that cannot be read restores nothing."""
    ignores = _tag_ignores(arguments)
    defaults = tag_map(default_tags, "the provider's default_tags")
    if ignores is None or ignores.whole_tags_all or ignores.everything or isinstance(defaults, Unknown):
        return {}
    whole = "tags.*" in ignores.by_tags
    return {
        key: value
        for key, value in defaults.items()
        if (whole or f"tags.{key}" in ignores.by_tags) and f"tags.{key}" not in ignores.by_tags_all
    }


def _own_tags_still_compared(arguments: Mapping[str, Any]) -> set[str]:
    """``ignore_changes = [tags_all["K"]]`` does not silence the resource's own tag ``K``
    (measured with terraform plan): changed or deleted in the console, it still plans a change
    of ``tags``. Only an entry on ``tags`` itself (``tags`` or ``tags["K"]``) silences it. A
    default tag's key stays silenced there (a miss, never a false alarm)."""
    ignores = _tag_ignores(arguments)
    own = arguments.get("tags")
    if ignores is None or ignores.everything or "tags.*" in ignores.by_tags or not isinstance(own, Mapping):
        return set()
    return {f"tags.{key}" for key in own if f"tags.{key}" in ignores.by_tags_all - ignores.by_tags}


def _unmanaged(
    decl: ResourceDeclaration,
    spec_gsis: Maybe[tuple[Gsi, ...]],
    default_tags: Mapping[str, Any] | None = None,
) -> frozenset[str]:
    """Attributes the declaration does not manage: absent Optional+Computed arguments, undeclared
    autoscaling, and ``lifecycle.ignore_changes``."""
    arguments = decl.arguments
    unmanaged = set(_ignored(arguments)) - _own_tags_still_compared(arguments)
    unmanaged |= _default_tags_ignored(arguments, default_tags)
    if _single_block(arguments, "ttl") is None:
        unmanaged.add("ttl.*")
    if _single_block(arguments, "point_in_time_recovery") is None:
        unmanaged.add("point_in_time_recovery")
    if _single_block(arguments, "server_side_encryption") is None:
        unmanaged.add("sse.*")
    for capacity in ("read_capacity", "write_capacity"):
        if arguments.get(capacity) is None:
            unmanaged.add(capacity)
    if decl.autoscaling is None:
        unmanaged.add("autoscaling.*")
    if not isinstance(spec_gsis, Unknown):
        unmanaged.update(
            f"gsi.{gsi.name}.autoscaling.*" for gsi in spec_gsis if gsi.name not in decl.gsi_autoscaling
        )
    return frozenset(unmanaged)


def resource_to_spec(
    decl: ResourceDeclaration,
    *,
    region: Maybe[str] | None,
    default_tags: Mapping[str, Any] | None = None,
) -> TableSpec:
    """The ``TableSpec`` Terraform would converge the table to, with ``unmanaged`` filled in.

    ``default_tags`` is the provider block's ``default_tags.tags`` (they are part of what
    Terraform declares for the table).
    """
    arguments = decl.arguments
    billing_mode = _text(arguments.get("billing_mode")) or DEFAULT_BILLING_MODE
    on_demand = _on_demand(billing_mode)
    attributes = _blocks(arguments, "attribute")
    hash_key = _required(arguments.get("hash_key"), "hash_key")
    range_key = _text(arguments.get("range_key"))
    gsis = _gsis(decl, on_demand)
    ttl_block = _single_block(arguments, "ttl")
    sse_block = _single_block(arguments, "server_side_encryption")
    pitr_block = _single_block(arguments, "point_in_time_recovery")
    return TableSpec(
        name=_required(arguments.get("name"), "the table name"),
        region=region,
        hash_key=hash_key,
        hash_key_type=_key_type(attributes, hash_key, "hash") or Unknown("hash key type"),
        range_key=range_key,
        range_key_type=_key_type(attributes, range_key, "range"),
        billing_mode=billing_mode,
        read_capacity=_capacity(arguments.get("read_capacity"), on_demand),
        write_capacity=_capacity(arguments.get("write_capacity"), on_demand),
        table_class=_text(arguments.get("table_class")) or DEFAULT_TABLE_CLASS,
        ttl=Ttl(enabled=False) if ttl_block is None else _ttl(ttl_block),
        point_in_time_recovery=False if pitr_block is None else _pitr(pitr_block),
        sse=Sse(enabled=False) if sse_block is None else _sse(sse_block),
        stream=_stream(arguments),
        deletion_protection=_flag(arguments.get("deletion_protection_enabled"), False),
        gsis=gsis,
        lsis=_lsis(arguments),
        replicas=_replicas(arguments),
        tags=_tags(arguments, default_tags),
        autoscaling=decl.autoscaling or Autoscaling(),
        unmanaged=_unmanaged(decl, gsis, default_tags),
        restored_tags=_restored_default_tags(arguments, default_tags),
    )


# --- what driftwatch does not compare ----------------------------------------------------------

# Settings terraform plan changes on an existing table that driftwatch's vocabulary has no
# attribute for. Declared, they are named as unresolved rather than passed over in silence.
_UNCOMPARED_BLOCKS = ("on_demand_throughput", "warm_throughput")
# A replica's own settings, with the provider's default (not noted: CloudPosse writes them out).
_REPLICA_DEFAULTS: dict[str, Any] = {
    "kms_key_arn": None,
    "point_in_time_recovery": False,
    "deletion_protection_enabled": False,
    "consistency_mode": None,
}


def _ignored_heads(arguments: Mapping[str, Any]) -> frozenset[str] | None:
    """The top-level arguments ``ignore_changes`` names; None for ``all`` or an Unknown entry."""
    entries = ignore_changes_entries(arguments)
    matches = [_IGNORE_PATH.match(entry) for entry in entries or ()]
    if entries is None or "all" in (entry.strip() for entry in entries) or None in matches:
        return None
    return frozenset(match.group("head") for match in matches if match is not None)


def _everything_ignored_note(entries: list[str] | None) -> Unresolved | None:
    """``ignore_changes = all`` (or an entry that cannot be read, which could name anything)
    leaves no argument of the table compared. Terraform is silent about such a table too, but
    a report that says "in sync" must not read as if driftwatch had looked: it is named once,
    as unresolved (its autoscaling resources have lifecycles of their own and are compared)."""
    if entries is None:
        why = "an ignore_changes entry could not be read and could name any argument, so none is compared"
    elif "all" in (entry.strip() for entry in entries):
        why = "ignore_changes = all: terraform plan changes none of the table's arguments; none is compared"
    else:
        return None
    return Unresolved("lifecycle.ignore_changes", why)


def _set(value: Any) -> bool:
    """A block or value that is there (an empty dynamic block or a null is not)."""
    return value not in (None, [], {}) and not (
        isinstance(value, list) and all(v in (None, {}) for v in value)
    )


def uncompared_arguments(arguments: Mapping[str, Any]) -> tuple[Unresolved, ...]:
    """Settings the declaration makes that Terraform would enforce but driftwatch does not
    compare (``on_demand_throughput``, ``warm_throughput``, PITR's ``recovery_period_in_days``,
    a replica's own settings), each as an unresolved attribute saying so: a change of them in
    the console is drift for terraform plan, and driftwatch must not look like it checked."""
    everything = _everything_ignored_note(ignore_changes_entries(arguments))
    if everything is not None:
        return (everything,)
    heads = _ignored_heads(arguments)
    if heads is None:
        return ()
    why = "driftwatch does not compare {}; terraform plan does"
    notes: list[Unresolved] = []
    for name in _UNCOMPARED_BLOCKS:
        if name not in heads and _set(arguments.get(name)):
            notes.append(Unresolved(name, why.format(name)))
    pitr = _single_block(arguments, "point_in_time_recovery")
    if (
        not _ignores_whole_or(
            ignore_changes_entries(arguments) or [], "point_in_time_recovery", "recovery_period_in_days"
        )
        and isinstance(pitr, dict)
        and pitr.get("recovery_period_in_days") is not None
    ):
        notes.append(
            Unresolved(
                "point_in_time_recovery.recovery_period_in_days", why.format("the PITR recovery period")
            )
        )
    gsis = _blocks(arguments, "global_secondary_index")
    if "global_secondary_index" not in heads and not isinstance(gsis, Unknown):
        for gsi in gsis:
            for name in _UNCOMPARED_BLOCKS:
                if _set(gsi.get(name)):
                    notes.append(Unresolved(f"gsi.{gsi.get('name')}.{name}", why.format(f"a GSI's {name}")))
    replicas = _blocks(arguments, "replica")
    if "replica" not in heads and not isinstance(replicas, Unknown):
        for replica in replicas:
            for name, default in _REPLICA_DEFAULTS.items():
                value = replica.get(name, default)
                if value is not None and value != default:
                    attribute = f"replicas.{replica.get('region_name')}.{name}"
                    notes.append(Unresolved(attribute, why.format(f"a replica's {name}")))
    return tuple(notes)
