"""The CloudPosse ``cloudposse/dynamodb/aws`` module, emulated: module inputs -> table arguments.

driftwatch does not download or run modules. For a call of the CloudPosse dynamodb module it
computes the arguments the module's ``aws_dynamodb_table.default`` would receive, plus the
scalable targets of its autoscaler submodule, exactly as the module's ``variables.tf`` and
``main.tf`` define them in the releases of ``KNOWN_VERSIONS`` (docs/terraform-parity.md,
"CloudPosse releases", records what each release does and the evidence for it). The result is
a ``ResourceDeclaration``, which ``resource.resource_to_spec`` turns into a ``TableSpec`` -- the
same mapping a plain ``aws_dynamodb_table`` goes through, so the two paths cannot disagree.

Decisions that the module's source leaves open:

* An input passed as an explicit ``null`` whose default is not null: Terraform (>= 1.1,
  ``nullable`` defaulting to true) passes the null into the module instead of the default.
  Where the module writes the input straight into a table argument (``table_class``,
  ``deletion_protection_enabled``, ``stream_view_type``, ``ttl_attribute``, from 0.35.1
  ``ttl_enabled``, and ``autoscale_min_*_capacity`` as the table's capacity), the argument is
  null, which is the provider's default: terraform plan puts it back after a console change
  (seventh survey, checked against the module's source). Everywhere else (a condition, a
  function argument, the autoscaler's inputs) Terraform refuses the null or what it does is
  not established, so the value is ``Unknown``.
* A missing ``hash_key`` (required) raises ``ModuleInputError`` naming it: Terraform refuses
  such a call, so there is no table to compare.
* An input a release does not declare yet (``tags_enabled`` before 0.29.3, ``table_class``
  before 0.32.0 among the known releases, ``deletion_protection_enabled`` before 0.34.0) makes
  the argument it would feed ``Unknown``: Terraform rejects the call, so what the author meant
  is not known and a guess could be a false alarm. Not passed, the argument is absent from that
  release's table, which ``resource_to_spec`` treats exactly like an absent argument of a plain
  table.
* ``table_name`` on 0.35.x and older (where the variable does not exist, so Terraform would
  reject the call) is ignored rather than fatal, so the rest of the table is still checked.
* A release that is not one of the known ones is never emulated as another: the walk
  evaluates its real source when it can fetch it, else lists the call as not evaluated
  (driftwatch.terraform.modules). Offline, a registry constraint resolves, as ``terraform
  init`` would, to the newest of ``RELEASES`` it admits; only a known one is emulated.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from driftwatch.spec import Autoscaling, Maybe, ScalingTarget, Unknown
from driftwatch.terraform.label import LABEL_INPUTS, Label, ModuleInputError, build_label
from driftwatch.terraform.numbers import format_number
from driftwatch.terraform.resource import ResourceDeclaration
from driftwatch.terraform.types import string_bool

__all__ = [
    "KNOWN_VERSIONS",
    "RELEASES",
    "ModuleInputError",
    "TableNotDetermined",
    "is_dynamodb_module_source",
    "is_label_module_source",
    "module_to_resource",
    "resolve_module_version",
]

# Every published release from 0.29.0 on, oldest first (v0.37.0 is the newest published when
# this was written). Offline, a registry constraint picks among these as `terraform init` picks
# among the registry's list; a pick outside KNOWN_VERSIONS is not emulated.
RELEASES = (
    "0.29.0",
    "0.29.1",
    "0.29.2",
    "0.29.3",
    "0.29.4",
    "0.30.0",
    "0.31.0",
    "0.32.0",
    "0.33.0",
    "0.34.0",
    "0.35.0",
    "0.35.1",
    "0.36.0",
    "0.37.0",
)
# The releases whose behaviour could not be established from their source and release notes
# (see docs/terraform-parity.md): never emulated, so evaluated from source or not evaluated.
UNESTABLISHED_RELEASES = frozenset({"0.29.0", "0.29.1", "0.30.0", "0.31.0"})
KNOWN_VERSIONS = tuple(release for release in RELEASES if release not in UNESTABLISHED_RELEASES)
NEWEST_VERSION = KNOWN_VERSIONS[-1]

Version = tuple[int, int, int]

_REGISTRY_SOURCE = re.compile(
    r"^(?:registry\.terraform\.io/)?(?P<namespace>[\w-]+)/(?P<name>[\w-]+)/(?P<system>[\w-]+)(?P<subdir>//[^?]*)?$",
    re.IGNORECASE,
)
_GITHUB_SOURCE = re.compile(
    r"^(?:git::)?(?:(?:https|ssh|git)://)?(?:[\w.-]+@)?github\.com[/:]"
    r"(?P<owner>[\w.-]+)/(?P<repo>[\w-]+?)(?:\.git)?(?P<subdir>//[^?]*)?(?:\?(?P<query>.*))?$",
    re.IGNORECASE,
)


class TableNotDetermined(Exception):
    """``enabled`` is Unknown: we cannot tell whether the module declares a table at all."""


# --- module sources --------------------------------------------------------------------------


def _root_subdir(subdir: str | None) -> bool:
    """Only the repository root is the module itself (``//examples/complete`` is another one)."""
    return subdir is None or subdir.strip("/") in ("", ".")


def _matches(source: str, registry: tuple[str, str, str], repository: str) -> bool:
    from driftwatch.terraform.addresses import GitSource, RegistrySource, SourceError, parse_source

    source = source.strip()
    try:  # an address Terraform rejects (cloudposse/dynamodb/AWS, deploy@github.com:...) is not one
        if not isinstance(parse_source(source), (RegistrySource, GitSource)):
            return False
    except SourceError:
        return False
    found = _GITHUB_SOURCE.match(source)
    if found is not None:
        return (
            found.group("owner").lower() == registry[0]
            and found.group("repo").lower() == repository
            and _root_subdir(found.group("subdir"))
        )
    found = _REGISTRY_SOURCE.match(source)
    if found is None:
        return False
    parts = (found.group("namespace").lower(), found.group("name").lower(), found.group("system").lower())
    return parts == registry and _root_subdir(found.group("subdir"))


def is_dynamodb_module_source(source: str) -> bool:
    """The public registry address (host optional) or a GitHub/git URL of terraform-aws-dynamodb."""
    return _matches(source, ("cloudposse", "dynamodb", "aws"), "terraform-aws-dynamodb")


def is_label_module_source(source: str) -> bool:
    """``cloudposse/label/null`` in the same spellings (repository terraform-null-label)."""
    return _matches(source, ("cloudposse", "label", "null"), "terraform-null-label")


# --- versions --------------------------------------------------------------------------------


def _version(text: str) -> Version:
    major, minor, patch = ([*map(int, text.split(".")), 0, 0])[:3]
    return (major, minor, patch)


def known_version(text: str | None) -> str | None:
    """``"v0.37.0"`` / ``"tags/0.36.0"`` / ``"0.35.1"`` -> the known release it names, else None."""
    if text is None:
        return None
    name = text.strip().removeprefix("refs/").removeprefix("tags/").removeprefix("v")
    return name if name in KNOWN_VERSIONS else None


def newest_release(constraint: str | None) -> str | None:
    """The newest of RELEASES a registry constraint admits (Terraform's rules), else None."""
    from driftwatch.terraform.addresses import SourceError, select_version

    try:
        return select_version(RELEASES, constraint)
    except SourceError as error:
        raise ModuleInputError("version", str(error)) from None


def newest_known(constraint: str | None) -> str | None:
    """The release a registry constraint resolves to offline, when it is a known one, else None:
    a constraint whose newest release is not known is never served by an older known one."""
    release = newest_release(constraint)
    return release if release in KNOWN_VERSIONS else None


# Refs that name the newest release: the moving major tag and the default branch, whose .tf
# files have not changed since v0.37.0.
_NEWEST_REFS = frozenset({None, "", "v0", "main", "master", "HEAD"})


def ref_version(ref: str | None) -> str | None:
    """The known release a git ``?ref=`` names (no ref / ``v0`` / the default branch: the newest),
    else None: another tag, branch or commit is not emulated."""
    if ref in _NEWEST_REFS:
        return NEWEST_VERSION
    return known_version(ref)


# null-label: driftwatch emulates 0.25.0 (driftwatch.terraform.label), the newest release there
# is (2021; every CloudPosse module's context.tf pins it). A call of another release (0.24.1,
# a 0.1x git tag) differs in its inputs, tags and casing, so it is evaluated from its fetched
# source, or not evaluated with the reason, as a dynamodb release that is not known is.
LABEL_VERSION = "0.25.0"
_LABEL_NEWEST_REFS = frozenset({None, "", "main", "master", "HEAD"})


def label_known_version(text: str | None) -> str | None:
    """``"0.25.0"`` when ``text`` names that release (``v0.25.0``, ``tags/0.25.0``), else None."""
    if text is None:
        return None
    name = text.strip().removeprefix("refs/").removeprefix("tags/").removeprefix("v")
    return name if name == LABEL_VERSION else None


def label_newest_release(constraint: str | None) -> str | None:
    """Offline, the release a registry constraint on null-label resolves to: 0.25.0 when the
    constraint admits it (no newer release exists), else None (an older one, not emulated)."""
    from driftwatch.terraform.addresses import SourceError, select_version

    try:
        return select_version((LABEL_VERSION,), constraint)
    except SourceError as error:
        raise ModuleInputError("version", str(error)) from None


def label_ref_version(ref: str | None) -> str | None:
    """0.25.0 for a git ``?ref=`` naming it or the default branch (no ref), else None."""
    if ref in _LABEL_NEWEST_REFS:
        return LABEL_VERSION
    return label_known_version(ref)


def resolve_module_version(source: str, version_constraint: str | None) -> str | None:
    """The known release whose semantics apply, without fetching anything: for registry sources
    the newest known release the constraint admits; for git sources the ``ref``. None when that
    is not a known release (it is then evaluated from source, or not evaluated)."""
    found = _GITHUB_SOURCE.match(source.strip())
    if found is not None:
        refs = parse_qs(found.group("query") or "").get("ref")
        return ref_version(refs[0] if refs else None)
    return newest_known(version_constraint)


def _at_least(version: str, minimum: str) -> bool:
    return _version(version) >= _version(minimum)


# Inputs that appeared after 0.29.2 -> the first *known* release that declares them (every
# other input of MODULE_INPUTS is declared by all known releases): tags_enabled came with 0.29.3
# (PR #91); table_class with 0.30.0, 0.31.0 or 0.32.0 (PR #106; only 0.32.0 is known);
# deletion_protection_enabled with 0.34.0 (PR #112); import_table with 0.35.0 (PR #120);
# table_name with 0.36.0.
_INPUT_SINCE = {
    "tags_enabled": "0.29.3",
    "table_class": "0.32.0",
    "deletion_protection_enabled": "0.34.0",
    "import_table": "0.35.0",
    "table_name": "0.36.0",
}
# The first known release whose replica blocks spell out kms_key_arn / propagate_tags /
# point_in_time_recovery (PR #107, before 0.32.0 raised the provider floor for it, PR #108).
_REPLICA_OPTIONS_SINCE = "0.32.0"


def declares(version: str, name: str) -> bool:
    """Whether release ``version`` of the module has the input ``name``."""
    return _at_least(version, _INPUT_SINCE.get(name, "0.0.0"))


# --- module inputs ---------------------------------------------------------------------------

_REQUIRED = object()

# name -> (type, default) from variables.tf: the same in every known release that declares the
# input (_INPUT_SINCE says which do).
MODULE_INPUTS: dict[str, tuple[str, Any]] = {
    "hash_key": ("string", _REQUIRED),
    "hash_key_type": ("string", "S"),
    "range_key": ("string", ""),
    "range_key_type": ("string", "S"),
    "billing_mode": ("string", "PROVISIONED"),
    "autoscale_min_read_capacity": ("number", 5),
    "autoscale_max_read_capacity": ("number", 20),
    "autoscale_min_write_capacity": ("number", 5),
    "autoscale_max_write_capacity": ("number", 20),
    "autoscale_read_target": ("number", 50),
    "autoscale_write_target": ("number", 50),
    "enable_autoscaler": ("bool", False),
    "enable_streams": ("bool", False),
    "stream_view_type": ("string", ""),
    "enable_encryption": ("bool", True),
    "server_side_encryption_kms_key_arn": ("string", None),
    "enable_point_in_time_recovery": ("bool", True),
    "ttl_attribute": ("string", "Expires"),
    "ttl_enabled": ("bool", True),
    "dynamodb_attributes": ("list", []),
    "global_secondary_index_map": ("list", []),
    "local_secondary_index_map": ("list", []),
    "replicas": ("list", []),
    "tags_enabled": ("bool", True),
    "table_class": ("string", "STANDARD"),
    "deletion_protection_enabled": ("bool", False),
    "import_table": ("any", None),
    "table_name": ("string", None),
}


# What every known release declares besides MODULE_INPUTS: the inputs it hands its autoscaler,
# and context.tf's (null-label 0.25.0's, the same in every release).
_OTHER_INPUTS = frozenset({"autoscaler_attributes", "autoscaler_tags", *LABEL_INPUTS})


def undeclared_inputs(inputs: Mapping[str, Any]) -> list[str]:
    """Inputs no known release declares: Terraform refuses the call ("Unsupported argument"),
    and a typo (``point_in_time_recovery_enabled``) would otherwise leave the setting the
    author meant at its default in silence. An input of a later release passed to an earlier
    one is not here: the module's documentation says what driftwatch does with it."""
    return sorted(name for name in inputs if name not in MODULE_INPUTS and name not in _OTHER_INPUTS)


def _convert(value: Any, kind: str, name: str) -> Any:
    """Terraform's conversion to the variable's type (``"5"`` -> 5, ``"true"`` -> True)."""
    if value is None or isinstance(value, Unknown) or kind == "any":
        return value
    if kind == "string" and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value if isinstance(value, str) else format_number(value)
    if kind == "string" and isinstance(value, bool):
        return "true" if value else "false"
    if kind == "bool":
        converted = value if isinstance(value, bool) else string_bool(value)
        if converted is not None:
            return converted
    if kind == "number" and not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an integer of 400 digits
            raise ModuleInputError(name, f"a number is required, got {value!r}") from None
        if not math.isfinite(number):
            raise ModuleInputError(name, f"a number is required, got {value!r}")
        return int(number) if number.is_integer() else number
    if kind == "list" and isinstance(value, (list, tuple)):
        return list(value)
    raise ModuleInputError(name, f"a {kind} is required, got {type(value).__name__}")


def _input(inputs: Mapping[str, Any], name: str) -> Any:
    """An input's value: the default when not passed, Unknown for an explicit null (see module doc)."""
    kind, default = MODULE_INPUTS[name]
    if name not in inputs:
        if default is _REQUIRED:
            raise ModuleInputError(name, "required input is not set")
        return default
    value = inputs[name]
    if value is None and default is _REQUIRED:
        raise ModuleInputError(name, "required input is null")
    if value is None and default is not None:
        return Unknown(f"input {name} is null (Terraform passes null, not the default {default!r})")
    return _convert(value, kind, name)


def _passed_input(inputs: Mapping[str, Any], name: str) -> Any:
    """An input the module writes straight into a table argument: an explicit null is that
    argument's null (absent: the provider's default), as Terraform passes it (see module doc)."""
    if name in inputs and inputs[name] is None and MODULE_INPUTS[name][1] is not _REQUIRED:
        return None
    return _input(inputs, name)


# --- Unknown-aware expression helpers -------------------------------------------------------


def _if(condition: Maybe[bool], then: Any, otherwise: Any) -> Any:
    """``condition ? then : otherwise``; an Unknown condition only matters if the arms differ."""
    if isinstance(condition, Unknown):
        return then if then == otherwise else condition
    return then if condition else otherwise


def _equals(value: Any, other: Any) -> Maybe[bool]:
    return value if isinstance(value, Unknown) else value == other


def _and(*values: Maybe[bool]) -> Maybe[bool]:
    """Terraform ``&&`` with three-valued logic: one known false decides."""
    if any(value is False for value in values):
        return False
    unknown = next((v for v in values if isinstance(v, Unknown)), None)
    return unknown if unknown is not None else True


def _or(*values: Maybe[bool]) -> Maybe[bool]:
    if any(value is True for value in values):
        return True
    unknown = next((v for v in values if isinstance(v, Unknown)), None)
    return unknown if unknown is not None else False


def _non_empty(values: Any) -> Maybe[bool]:
    """``length(list) > 0`` (known even when elements are Unknown)."""
    return values if isinstance(values, Unknown) else len(values) > 0


# --- table arguments -------------------------------------------------------------------------


def _table_name(inputs: Mapping[str, Any], label: Label, version: str) -> Maybe[str]:
    """0.36.0+: a non-empty ``table_name`` verbatim, else the label id (0.35.x: always the id)."""
    if not _at_least(version, "0.36.0"):
        return label.id
    override = _input(inputs, "table_name")
    if isinstance(override, Unknown):
        return override
    return override if override else label.id


def _attributes(inputs: Mapping[str, Any]) -> Any:
    """[range key] (dropped when range_key is "") + [hash key] + dynamodb_attributes."""
    range_key = _input(inputs, "range_key")
    extras = _input(inputs, "dynamodb_attributes")
    if isinstance(range_key, Unknown):
        return Unknown(f"whether there is a range key attribute is unknown ({range_key.reason})")
    if isinstance(extras, Unknown):
        return extras
    head = [{"name": range_key, "type": _input(inputs, "range_key_type")}] if range_key != "" else []
    return [*head, {"name": _input(inputs, "hash_key"), "type": _input(inputs, "hash_key_type")}, *extras]


def _ttl(inputs: Mapping[str, Any], version: str) -> Any:
    """Up to 0.35.0: a block only when ttl_enabled; 0.35.1+: always, disabled when the attribute is ""."""
    attribute = _passed_input(inputs, "ttl_attribute")
    if not _at_least(version, "0.35.1"):  # ttl_enabled is the dynamic block's condition
        return _if(_input(inputs, "ttl_enabled"), [{"attribute_name": attribute, "enabled": True}], [])
    enabled = _passed_input(inputs, "ttl_enabled")
    has_attribute = attribute if isinstance(attribute, Unknown) else attribute != ""
    return [{"attribute_name": attribute, "enabled": _if(has_attribute, enabled, False)}]


def _index_blocks(value: Any, fields: tuple[str, ...], name: str) -> Any:
    """One block per map entry; ``lookup(entry, field, null)`` so explicit nulls are fine."""
    if isinstance(value, Unknown):
        return value
    if not all(isinstance(entry, (Mapping, Unknown)) for entry in value):
        # lookup() of a string or a list is an error in Terraform; .get() raised AttributeError
        return Unknown(f"an entry of {name} is not an object")
    return [
        entry if isinstance(entry, Unknown) else {name: entry.get(name) for name in fields} for entry in value
    ]


_GSI_FIELDS = (
    "name",
    "hash_key",
    "range_key",
    "projection_type",
    "non_key_attributes",
    "read_capacity",
    "write_capacity",
)
_LSI_FIELDS = ("name", "range_key", "projection_type", "non_key_attributes")


def _replica_blocks(replicas: Any, version: str) -> Any:
    if isinstance(replicas, Unknown):
        return replicas
    if not _at_least(version, _REPLICA_OPTIONS_SINCE):
        return [{"region_name": region} for region in replicas]
    return [
        {"region_name": region, "kms_key_arn": None, "propagate_tags": False, "point_in_time_recovery": False}
        for region in replicas
    ]


def _stream_arguments(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Replicas force the stream on; the view type is used only when the stream is wanted."""
    has_replicas = _non_empty(_input(inputs, "replicas"))
    enable_streams = _input(inputs, "enable_streams")
    return {
        "stream_enabled": _if(has_replicas, True, enable_streams),
        "stream_view_type": _if(
            _or(has_replicas, enable_streams), _passed_input(inputs, "stream_view_type"), ""
        ),
    }


_ABSENT = object()  # an argument the release's aws_dynamodb_table does not set at all


def _release_input(inputs: Mapping[str, Any], name: str, version: str, passed: bool = False) -> Any:
    """The value of an input that only some releases declare: its value (or default) where the
    release declares it (``passed``: written straight into a table argument, see
    ``_passed_input``); Unknown when passed to a release that does not (Terraform rejects the
    call, so what was meant is unknown); _ABSENT when neither, so the release's table has no
    such argument."""
    if declares(version, name):
        return _passed_input(inputs, name) if passed else _input(inputs, name)
    if name in inputs:
        return Unknown(
            f"input {name} does not exist in cloudposse/dynamodb/aws {version} (it came with a later "
            "release); Terraform rejects the call"
        )
    return _ABSENT


def _tags(inputs: Mapping[str, Any], label: Label, version: str) -> Any:
    """``tags_enabled ? label tags : null``; before 0.29.3 always the label tags."""
    enabled = _release_input(inputs, "tags_enabled", version)
    if enabled is _ABSENT:
        return label.tags
    if not declares(version, "tags_enabled"):
        return enabled  # Unknown: Terraform rejects the call
    return _if(enabled, label.tags, None)


def _table_arguments(inputs: Mapping[str, Any], label: Label, version: str) -> dict[str, Any]:
    on_demand = _equals(_input(inputs, "billing_mode"), "PAY_PER_REQUEST")
    import_table = _release_input(inputs, "import_table", version)
    arguments: dict[str, Any] = {
        "name": _table_name(inputs, label, version),
        "billing_mode": _input(inputs, "billing_mode"),
        "read_capacity": _if(on_demand, None, _passed_input(inputs, "autoscale_min_read_capacity")),
        "write_capacity": _if(on_demand, None, _passed_input(inputs, "autoscale_min_write_capacity")),
        "hash_key": _input(inputs, "hash_key"),
        "range_key": _input(inputs, "range_key"),
        **_stream_arguments(inputs),
        "table_class": _release_input(inputs, "table_class", version, passed=True),
        "deletion_protection_enabled": _release_input(
            inputs, "deletion_protection_enabled", version, passed=True
        ),
        "server_side_encryption": [
            {
                "enabled": _passed_input(inputs, "enable_encryption"),
                "kms_key_arn": _input(inputs, "server_side_encryption_kms_key_arn"),
            }
        ],
        "point_in_time_recovery": [{"enabled": _passed_input(inputs, "enable_point_in_time_recovery")}],
        "lifecycle": [{"ignore_changes": ["read_capacity", "write_capacity"]}],
        "attribute": _attributes(inputs),
        "ttl": _ttl(inputs, version),
        "global_secondary_index": _index_blocks(
            _input(inputs, "global_secondary_index_map"), _GSI_FIELDS, "global_secondary_index_map"
        ),
        "local_secondary_index": _index_blocks(
            _input(inputs, "local_secondary_index_map"), _LSI_FIELDS, "local_secondary_index_map"
        ),
        "replica": _replica_blocks(_input(inputs, "replicas"), version),
        "tags": _tags(inputs, label, version),
    }
    if import_table is not None and import_table is not _ABSENT:
        arguments["import_table"] = [import_table]
    return {name: value for name, value in arguments.items() if value is not _ABSENT}


# --- autoscaler ------------------------------------------------------------------------------


# The metric the autoscaler submodule's policies track, per direction (it has no input for it).
AUTOSCALER_METRIC = {"read": "DynamoDBReadCapacityUtilization", "write": "DynamoDBWriteCapacityUtilization"}


def _scaling_target(minimum: Any, maximum: Any, target: Any, direction: str) -> ScalingTarget:
    return ScalingTarget(
        min=minimum if isinstance(minimum, Unknown) else int(minimum),
        max=maximum if isinstance(maximum, Unknown) else int(maximum),
        target=target if isinstance(target, Unknown) else float(target),
        metric=AUTOSCALER_METRIC[direction],
    )


def _declared_autoscaling(inputs: Mapping[str, Any], enabled: Maybe[bool]) -> Autoscaling:
    """Table and every GSI share the table's min/max/target (index overrides are not passed).

    When whether the autoscaler is on is Unknown, the targets exist with Unknown values:
    reported as unresolved, never as drift.
    """
    if isinstance(enabled, Unknown):
        unknown = ScalingTarget(min=enabled, max=enabled, target=enabled)
        return Autoscaling(read=unknown, write=unknown)
    return Autoscaling(
        read=_scaling_target(
            _input(inputs, "autoscale_min_read_capacity"),
            _input(inputs, "autoscale_max_read_capacity"),
            _input(inputs, "autoscale_read_target"),
            "read",
        ),
        write=_scaling_target(
            _input(inputs, "autoscale_min_write_capacity"),
            _input(inputs, "autoscale_max_write_capacity"),
            _input(inputs, "autoscale_write_target"),
            "write",
        ),
    )


def _gsi_names(inputs: Mapping[str, Any]) -> list[str]:
    indexes = _input(inputs, "global_secondary_index_map")
    if isinstance(indexes, Unknown):
        return []
    return [
        entry["name"]
        for entry in indexes
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str)
    ]


def _autoscaler_enabled(inputs: Mapping[str, Any], label_enabled: Maybe[bool]) -> Maybe[bool]:
    """``enabled && enable_autoscaler && billing_mode == "PROVISIONED"``."""
    return _and(
        label_enabled,
        _input(inputs, "enable_autoscaler"),
        _equals(_input(inputs, "billing_mode"), "PROVISIONED"),
    )


# --- entry point -----------------------------------------------------------------------------


def module_to_resource(inputs: Mapping[str, Any], version: str) -> ResourceDeclaration | None:
    """The table (and autoscaling) a ``cloudposse/dynamodb/aws`` call at ``version`` declares.

    ``inputs`` are the call's evaluated arguments. None when the label is disabled (no table).
    Raises ``TableNotDetermined`` when ``enabled`` is Unknown and ``ModuleInputError`` for
    inputs Terraform itself rejects (missing ``hash_key``, invalid label settings).
    """
    if version not in KNOWN_VERSIONS:
        raise ValueError(f"unknown module version {version!r}; known: {', '.join(KNOWN_VERSIONS)}")
    label = build_label(inputs)
    if isinstance(label.enabled, Unknown):
        raise TableNotDetermined(f"whether the module is enabled is unknown ({label.enabled.reason})")
    if label.enabled is False:
        return None
    arguments = _table_arguments(inputs, label, version)
    autoscaler = _autoscaler_enabled(inputs, label.enabled)
    if autoscaler is False:
        return ResourceDeclaration(arguments=arguments)
    declared = _declared_autoscaling(inputs, autoscaler)
    table = arguments.get("name")
    return ResourceDeclaration(
        arguments=arguments,
        autoscaling=_policies_named(declared, table, None),
        gsi_autoscaling={name: _policies_named(declared, table, name) for name in _gsi_names(inputs)},
    )


def _policies_named(scaling: Autoscaling, table: Any, index: str | None) -> Autoscaling:
    """``scaling`` with the names the autoscaler submodule gives its policies: the metric, ":",
    and the scalable target's resource id (``DynamoDBReadCapacityUtilization:table/<t>``), so
    that the live policy of that name is compared, not one added beside it."""
    if not isinstance(table, str):
        return scaling
    resource = f"table/{table}" + (f"/index/{index}" if index is not None else "")

    def named(target: ScalingTarget | None, direction: str) -> ScalingTarget | None:
        if target is None:
            return None
        return dataclasses.replace(target, policy_name=f"{AUTOSCALER_METRIC[direction]}:{resource}")

    return Autoscaling(read=named(scaling.read, "read"), write=named(scaling.write, "write"))
