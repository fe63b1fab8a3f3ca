"""Override files merged into a module's other blocks, by Terraform's rules (no I/O).

Terraform reads a module directory's files in two groups: the primary files, then the override
files (``override.tf``, ``*_override.tf`` and their ``.tf.json`` forms), each in lexical order.
An override file does not declare anything of its own: each of its blocks is merged into the
block of the primary files that has the same identity, attribute by attribute (Terraform's
``Module.mergeFile`` and ``MergeBodies``):

* resource / data ``type.name``: each argument set in the override replaces the base's (``count``,
  ``for_each``, ``provider`` too); a nested block type that appears in the override replaces
  *every* nested block of that type in the base, ``dynamic`` blocks of that type included
  (nested blocks are never merged deeper); ``lifecycle`` merges per argument (an empty
  ``ignore_changes`` keeps the base's, and ``ignore_changes = all`` stays all); ``depends_on``
  may not be overridden;
* module ``name``: ``source``, ``version``, ``count``, ``for_each``, ``providers`` and every
  input replace the base's (``depends_on`` refused);
* variable: ``default``, ``type``, ``description``, ``sensitive``, ``nullable``, ``ephemeral``;
* output: ``value``, ``description``, ``sensitive``, ``ephemeral`` (``depends_on`` refused);
* locals: per local name;
* provider ``name`` + ``alias``: merged like a resource body; a default (no alias) provider
  with no base is added as it is, an aliased one with no base is an error.

An override block with no base (but the default provider) is an error in Terraform; here it is
an ``OverrideError`` with the override file and line, reported as the target's error. A block
merged from an override keeps the base's file and line (where Terraform reports the resource);
each attribute and nested block it took from the override names the override file
(``origin``), so that a value and its location point where it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from driftwatch.spec import Unknown
from driftwatch.terraform.parse import Block, Content, node_line, sourced

_OVERRIDE_SUFFIXES = (".tf", ".tf.json")
# Arguments of a variable / output block an override may change (Terraform's Variable.merge,
# Output.merge); the rest of an override's variable or output is not used.
_VARIABLE_ARGUMENTS = frozenset({"default", "type", "description", "sensitive", "nullable", "ephemeral"})
_OUTPUT_ARGUMENTS = frozenset({"value", "description", "sensitive", "ephemeral"})
_LIFECYCLE_ARGUMENTS = frozenset({"create_before_destroy", "prevent_destroy", "ignore_changes"})
_REFUSED = "Terraform refuses the configuration"


@dataclass(frozen=True)
class OverrideError:
    """An override Terraform refuses, at the line of the override file that makes it."""

    message: str
    file: str
    line: int


def is_override_file(name: str) -> bool:
    """``override.tf``, ``*_override.tf``, ``override.tf.json``, ``*_override.tf.json``."""
    for suffix in _OVERRIDE_SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return stem == "override" or stem.endswith("_override")
    return False


def merge_overrides(
    primary: list[tuple[Block, str]], overrides: list[tuple[list[Block], str]]
) -> tuple[list[tuple[Block, str]], list[OverrideError]]:
    """The module's blocks once every override file (``(its blocks, its file)``, in lexical order)
    is merged into the primary files' blocks; and what Terraform would refuse."""
    merged = list(primary)
    errors: list[OverrideError] = []
    index: dict[tuple[str, ...], int] = {}
    local_index: dict[str, int] = {}
    for position, (block, _file) in enumerate(merged):
        key = _identity(block)
        if key is not None:
            index.setdefault(key, position)
        if block.type == "locals":
            for name in block.items[0]:
                local_index.setdefault(name, position)
    for blocks, file in overrides:
        for block in blocks:
            if block.type == "locals":
                _merge_locals(merged, local_index, block, file, errors)
                continue
            if block.type == "moved":
                errors.append(
                    OverrideError(
                        f"a moved block cannot be in an override file ({_REFUSED}: records of moved "
                        "objects can appear only in normal files)",
                        file,
                        block.line,
                    )
                )
                continue
            key = _identity(block)
            if key is None:
                continue  # terraform, import, check...: nothing driftwatch reads is changed
            found = index.get(key)
            if found is None:
                if key[0] == "provider" and key[2] == "":
                    # A default provider configuration with no base: Terraform takes an absent one
                    # to be empty, so the override's is the configuration.
                    index[key] = len(merged)
                    merged.append((block, file))
                else:
                    errors.append(OverrideError(_missing(key), file, block.line))
                continue
            base, base_file = merged[found]
            content = _merge(base, block, file, errors)
            merged[found] = (Block(base.type, base.labels, content, base.line, base.origin), base_file)
    return merged, errors


def _merge_locals(
    merged: list[tuple[Block, str]],
    local_index: dict[str, int],
    block: Block,
    file: str,
    errors: list[OverrideError],
) -> None:
    """Each local of an override ``locals`` block replaces the local of that name, wherever
    in the primary files it is defined."""
    for name, attribute in block.items[0].items():
        position = local_index.get(name)
        if position is None:
            what = f'there is no local value named "{name}"'
            errors.append(OverrideError(_missing(("local", what)), file, node_line(attribute) or block.line))
            continue
        base, base_file = merged[position]
        attributes, nested = base.items
        replaced = {**attributes, name: sourced(attribute, file)}
        content = Content(tuple(replaced.items()), tuple(nested))
        merged[position] = (Block(base.type, base.labels, content, base.line, base.origin), base_file)


def _identity(block: Block) -> tuple[str, ...] | None:
    """What an override block is matched by; None for blocks an override does not merge."""
    if block.type in ("resource", "data") and len(block.labels) == 2:
        return (block.type, *block.labels)
    if block.type in ("module", "variable", "output") and len(block.labels) == 1:
        return (block.type, block.labels[0])
    if block.type == "provider" and len(block.labels) == 1:
        return ("provider", block.labels[0], _alias(block))
    return None


def _alias(block: Block) -> str:
    """A provider block's ``alias`` ("" for none); Terraform requires a literal string."""
    from driftwatch.terraform.evaluate import Scope, evaluate

    attribute = block.items[0].get("alias")
    if attribute is None:
        return ""
    value = evaluate(attribute.expression, Scope({}))
    if isinstance(value, str):
        return value
    return f"<not a literal string: {value.reason if isinstance(value, Unknown) else value!r}>"


def _missing(key: tuple[str, ...]) -> str:
    kind = key[0]
    if kind == "resource":
        what = f'there is no {key[1]} resource named "{key[2]}"'
    elif kind == "data":
        what = f'there is no {key[1]} data resource named "{key[2]}"'
    elif kind == "module":
        what = f'there is no module call named "{key[1]}"'
    elif kind == "provider":
        what = f'there is no {key[1]} provider configuration with the alias "{key[2]}"'
    elif kind == "local":
        what = key[1]
    else:
        what = f'there is no {kind} named "{key[1]}"'
    return (
        f"this override file overrides nothing: {what} in the module's other files ({_REFUSED}; "
        "an override file can only change what a primary file declares)"
    )


def _merge(base: Block, over: Block, file: str, errors: list[OverrideError]) -> Content:
    """The body of ``base`` with ``over`` (from override file ``file``) merged in."""
    base_attributes, base_blocks = base.items
    over_attributes, over_blocks = over.items
    attributes = dict(base_attributes)
    if base.type == "variable":
        taken = {k: v for k, v in over_attributes.items() if k in _VARIABLE_ARGUMENTS}
        return _content(attributes, taken, file, base_blocks)
    if base.type == "output":
        _refuse_depends_on(over_attributes, file, over, errors)
        taken = {k: v for k, v in over_attributes.items() if k in _OUTPUT_ARGUMENTS}
        return _content(attributes, taken, file, base_blocks)
    if base.type == "module":
        _refuse_depends_on(over_attributes, file, over, errors)
        taken = {k: v for k, v in over_attributes.items() if k != "depends_on"}
        if "providers" in taken and _is_empty_collection(taken["providers"].expression):
            del taken["providers"]  # an empty providers map changes nothing (Terraform: len != 0)
        return _content(attributes, taken, file, _merge_blocks(base_blocks, over_blocks, file))
    if base.type in ("resource", "data"):
        _refuse_depends_on(over_attributes, file, over, errors)
        taken = {k: v for k, v in over_attributes.items() if k != "depends_on"}
        lifecycle = _merge_lifecycle(
            [b for b in base_blocks if b.type == "lifecycle"],
            [b for b in over_blocks if b.type == "lifecycle"],
            file,
        )
        blocks = _merge_blocks(
            [b for b in base_blocks if b.type != "lifecycle"],
            [b for b in over_blocks if b.type != "lifecycle"],
            file,
        )
        return _content(attributes, taken, file, blocks + lifecycle)
    # provider: MergeBodies
    return _content(attributes, over_attributes, file, _merge_blocks(base_blocks, over_blocks, file))


def _content(attributes: dict[str, Any], taken: dict[str, Any], file: str, blocks: list[Block]) -> Content:
    for name, attribute in taken.items():
        attributes[name] = sourced(attribute, file)
    return Content(tuple(attributes.items()), tuple(blocks))


def _merge_blocks(base: list[Block], over: list[Block], file: str) -> list[Block]:
    """MergeBodies for nested blocks: a type present in the override (as a block or as a
    ``dynamic`` block of that type) hides every base block of that type, dynamic ones too."""
    overridden = {b.labels[0] if b.type == "dynamic" and b.labels else b.type for b in over}
    kept = [
        b
        for b in base
        if b.type not in overridden and not (b.type == "dynamic" and b.labels and b.labels[0] in overridden)
    ]
    return kept + [b if b.origin is not None else replace(b, origin=file) for b in over]


def _merge_lifecycle(base: list[Block], over: list[Block], file: str) -> list[Block]:
    """``lifecycle`` per argument, as Resource.merge does: create_before_destroy and
    prevent_destroy when set, ignore_changes when not empty; ``all`` is never undone."""
    if not over:
        return base
    first = base[0] if base else None
    attributes: dict[str, Any] = dict(first.items[0]) if first is not None else {}
    for block in over:
        for name, attribute in block.items[0].items():
            if name not in _LIFECYCLE_ARGUMENTS:
                continue
            if name == "ignore_changes":
                if _is_empty_collection(attribute.expression):
                    continue
                current = attributes.get("ignore_changes")
                if current is not None and _is_all(current.expression):
                    continue
            attributes[name] = sourced(attribute, file)
    nested = first.items[1] if first is not None else []
    line = first.line if first is not None else over[0].line
    origin = first.origin if first is not None else file
    merged = Block("lifecycle", (), Content(tuple(attributes.items()), tuple(nested)), line, origin)
    return [merged, *base[1:]]


def _refuse_depends_on(
    attributes: dict[str, Any], file: str, block: Block, errors: list[OverrideError]
) -> None:
    if "depends_on" in attributes:
        errors.append(
            OverrideError(
                f"depends_on cannot be set in an override file ({_REFUSED}: the depends_on argument "
                "may not be overridden)",
                file,
                node_line(attributes["depends_on"]) or block.line,
            )
        )


def _unwrap(node: Any) -> Any:
    from hcl2.rules.expressions import ExprTermRule

    while isinstance(node, ExprTermRule):
        node = node.expression
    return node


def _is_empty_collection(node: Any) -> bool:
    """``[]`` or ``{}`` written literally (what Terraform reads as "not set" in an override)."""
    from hcl2.rules.containers import ObjectRule, TupleRule

    node = _unwrap(node)
    if isinstance(node, TupleRule):
        return not node.elements
    if isinstance(node, ObjectRule):
        return not node.elements
    return False


def _is_all(node: Any) -> bool:
    """``ignore_changes = all`` (the keyword)."""
    from hcl2.rules.literal_rules import IdentifierRule

    node = _unwrap(node)
    return isinstance(node, IdentifierRule) and str(node.token.value) == "all"
