"""What a ``terragrunt.hcl`` beside a target's root changes, read so that it is never silent.

driftwatch does not run Terragrunt. A root directory holding a ``terragrunt.hcl`` is planned
by ``terragrunt plan``, which differs from ``terraform plan`` in that directory in three ways
that decide which tables exist and what they hold:

* ``inputs = { ... }`` reach Terraform as ``TF_VAR_<name>`` environment variables (below
  every tfvars file and ``-var``; Terragrunt leaves a ``TF_VAR_`` already in the environment
  alone). A variable with a default that Terragrunt sets would otherwise be read at its
  default: ``name = "${var.env}-orders"`` watched as ``dev-orders`` while Terragrunt made
  ``prod-orders``, in silence. Each variable Terragrunt sets is therefore Unknown at that
  precedence, with a reason saying how to give it (the target's ``vars`` / ``var_files``
  outrank it, as ``-var`` and tfvars files outrank ``TF_VAR_``). When the names cannot be
  told (``inputs`` built by an expression, or an ``include`` that merges a parent's inputs),
  every variable is.
* ``terraform { extra_arguments ... }`` may add ``-var-file`` / ``-var`` to the plan, above
  the automatic tfvars files: then every variable is Unknown at that precedence (below the
  target's own ``var_files`` and ``vars``). A block whose written-out ``commands`` or
  ``arguments`` cannot pass a variable (``-lock-timeout=20m``) changes nothing.
* ``terraform { source = ... }`` makes Terragrunt plan that module, not the files of the
  directory: an error of the target naming the source.

The values of ``inputs`` are not evaluated: they read Terragrunt's own ``local``,
``dependency`` and ``include`` namespaces and functions (``find_in_parent_folders()``,
``get_env()``...), which are not Terraform's. ``generate`` blocks (a provider written by
Terragrunt) are not read either; see docs/terraform-parity.md, "Terragrunt".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hcl2.rules.containers import ObjectElemKeyRule, ObjectRule
from hcl2.rules.expressions import ExprTermRule
from hcl2.rules.literal_rules import IdentifierRule

from driftwatch.spec import Unknown
from driftwatch.terraform.evaluate import Scope, evaluate
from driftwatch.terraform.parse import Block, body_items

FILE_NAME = "terragrunt.hcl"


@dataclass(frozen=True)
class TerragruntRoot:
    """What driftwatch reads of a root's ``terragrunt.hcl``.

    ``inputs``: the variable names its ``inputs`` set, or None when they cannot be told (then
    every variable may be set). ``source``: the ``terraform { source }`` it plans instead of the
    directory (its text, or a placeholder when it is an expression), else None.
    """

    inputs: frozenset[str] | None
    source: str | None
    source_line: int | None = None
    extra_arguments: bool = False  # ``terraform { extra_arguments }``: -var-file / -var for any variable


def read_root(tree_body: Any, file: str) -> TerragruntRoot:
    """The inputs and source of a parsed ``terragrunt.hcl`` (pure: no file access)."""
    attributes, blocks = body_items(tree_body)
    source, source_line = _source(blocks, file)
    extra = any(
        _may_set_variables(nested, file)
        for block in blocks
        if block.type == "terraform"
        for nested in block.items[1]
        if nested.type == "extra_arguments"
    )
    includes = any(block.type == "include" for block in blocks)
    names: frozenset[str] | None = frozenset()
    if "inputs" in attributes:
        names = _input_names(attributes["inputs"].expression, file)
    if includes:
        names = None  # the included file's inputs are merged in, and not read here
    return TerragruntRoot(names, source, source_line, extra)


def unknown_reason(name: str) -> Unknown:
    """The value of a variable Terragrunt's ``inputs`` may set."""
    return Unknown(
        f"var.{name} may be set by Terragrunt ({FILE_NAME}: its inputs, include or extra_arguments), "
        "which driftwatch does not run: give its value in the target's vars or var_files"
    )


def _source(blocks: list[Block], file: str) -> tuple[str | None, int | None]:
    for block in blocks:
        if block.type != "terraform":
            continue
        attributes, _ = block.items
        if "source" not in attributes:
            continue
        node = attributes["source"]
        value = evaluate(node.expression, Scope({}, file))
        if value is None:  # Terragrunt reads a null source as none: the directory is planned
            continue
        text = value if isinstance(value, str) else "(an expression driftwatch does not evaluate)"
        return text, block.line
    return None, None


# What an ``extra_arguments`` block may set variables by: var files, and environment variables
# (``TF_VAR_<name>``, ``TF_CLI_ARGS_plan``) whatever their names.
_VARIABLE_ATTRIBUTES = ("required_var_files", "optional_var_files", "env_vars")


def _may_set_variables(block: Block, file: str) -> bool:
    """Whether an ``extra_arguments`` block may give ``terraform plan`` or ``apply`` a variable.

    Not when its ``commands`` are written out and name neither, nor when its ``arguments`` are
    written out and none is ``-var`` or ``-var-file`` (Go's flags also take ``--var``): the
    ``-lock-timeout=20m`` of Terragrunt's documentation, in most Terragrunt repositories, made
    every variable Unknown, and a table named from one an error row instead of watched.
    Anything not written out (a Terragrunt function, a local) may."""
    attributes, _ = block.items
    scope = Scope({}, file)
    commands = evaluate(attributes["commands"].expression, scope) if "commands" in attributes else None
    if (
        isinstance(commands, (list, tuple))
        and all(isinstance(c, str) for c in commands)
        and not {"plan", "apply"} & set(commands)
    ):
        return False
    if any(name in attributes for name in _VARIABLE_ATTRIBUTES):
        return True
    if "arguments" not in attributes:
        return False
    arguments = evaluate(attributes["arguments"].expression, scope)
    if not isinstance(arguments, (list, tuple)) or not all(isinstance(a, str) for a in arguments):
        return True
    return any(a.lstrip("-").startswith("var") and a.startswith("-") for a in arguments)


def _input_names(node: Any, file: str) -> frozenset[str] | None:
    """The keys of an object constructor, or None when ``inputs`` is anything else or a key is
    not a constant (``merge(local.x, {...})``, ``{ (local.k) = 1 }``)."""
    while isinstance(node, ExprTermRule):
        node = node.expression
    if not isinstance(node, ObjectRule):
        return None
    names: set[str] = set()
    for element in node.elements:
        key = element.key
        if isinstance(key, ObjectElemKeyRule) and isinstance(key.value, IdentifierRule):
            names.add(str(key.value.token.value))
            continue
        inner = key.value if isinstance(key, ObjectElemKeyRule) else getattr(key, "expression", None)
        value = evaluate(inner, Scope({}, file)) if inner is not None else None
        if not isinstance(value, str):
            return None
        names.add(value)
    return frozenset(names)
