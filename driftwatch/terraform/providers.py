"""Which ``provider "aws"`` configuration the resources of each module instance use, decided as
Terraform decides it (measured with terraform 1.11.4 against moto: tests/test_child_providers.py).

A table's region, ``default_tags``, ``ignore_tags`` and account come from that configuration,
so choosing the wrong one reads the table in the wrong region or account -- a false
``missing``, or a silently wrong ``in sync`` against a same-named table there -- or compares
the wrong tags. The rules:

- A module's own ``provider "aws"`` blocks (the default and each alias; the "legacy" pattern of
  older public modules) configure the resources of that module, evaluated in its scope
  (``region = var.region`` is the module's variable). Its children inherit its default.
- A block with no argument but ``alias`` and no nested block (``provider "aws" {}``) is an
  empty ("proxy") block: a configuration passed under its name by the call's ``providers`` map
  replaces it; when none is passed it is a configuration of its own, with no region (the
  environment's ``AWS_REGION`` -- for driftwatch the target's region) and no default tags. It
  is not the caller's inherited default.
- The default configuration is inherited from the caller unless the module has its own or the
  call's ``providers`` map passes one -- also when that map passes only aliases. Aliases are
  never inherited: only passed (``providers = { aws.x = aws.west }``) or declared.
- Terraform refuses a call whose ``providers`` map passes a name the module configures itself
  ("Cannot override provider configuration"), and a module with its own (non-empty) provider
  blocks anywhere under a call with ``count``, ``for_each`` or a non-empty ``depends_on``
  ("Module is incompatible with count, for_each, and depends_on"). driftwatch cannot tell which
  configuration such tables would use, so it evaluates none of them and lists the call as not
  evaluated with Terraform's reason: never a region picked in silence.

Pure decisions over evaluated values; driftwatch.terraform.modules evaluates the blocks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from driftwatch.spec import AccountBinding, Maybe, SourceLocation, TagFilter, Unknown

# What Terraform reads out of a provider block before it checks the rest for content: a block
# with only ``alias`` is empty. (``version`` is read out too, but makes the block a configuration.)
_NOT_CONTENT = frozenset({"alias"})


@dataclass(frozen=True)
class ProviderConfig:
    """The parts of a ``provider "aws"`` block that change what a table looks like."""

    region: Maybe[str] | None
    default_tags: Maybe[Mapping[str, Any]] | None
    ignore_tags: Mapping[str, Any] | None = None
    # The account it binds its tables to (assume_role, allowed/forbidden_account_ids): carried
    # to each table exactly as ``region`` is, through aliases and module ``providers`` maps.
    account: AccountBinding | None = None


# The AWS provider's own environment variables for tags (hashicorp/aws 5.x): a tag per
# ``TF_AWS_DEFAULT_TAGS_<key>``, and comma-separated keys and prefixes it ignores.
DEFAULT_TAGS_PREFIX = "TF_AWS_DEFAULT_TAGS_"
IGNORE_TAGS_KEYS = "TF_AWS_IGNORE_TAGS_KEYS"
IGNORE_TAGS_KEY_PREFIXES = "TF_AWS_IGNORE_TAGS_KEY_PREFIXES"


@dataclass(frozen=True)
class EnvironmentTags:
    """What the AWS provider reads about tags from the environment terraform runs in, beside
    every provider block (and where there is none).

    driftwatch reads its own environment for them, as it reads ``TF_VAR_`` and ``TF_WORKSPACE``:
    a CI job that runs ``terraform apply`` with ``TF_AWS_DEFAULT_TAGS_CostCenter=42`` and
    driftwatch in the same environment must see the same tags. Without this, the tag the
    provider put on every table was a false "tag added" on every scan, and a tag it ignores by
    ``TF_AWS_IGNORE_TAGS_KEYS`` was compared. Checked with terraform 1.11.4 and hashicorp/aws
    5.100: a ``default_tags`` key wins over the same variable's, an empty value is a tag with an
    empty value, and the ignore lists are split on commas and trimmed.
    """

    default_tags: Mapping[str, str]
    ignore: TagFilter

    @classmethod
    def read(cls, env: Mapping[str, str]) -> EnvironmentTags:
        defaults = {
            key[len(DEFAULT_TAGS_PREFIX) :]: value
            for key, value in sorted(env.items())
            if key.startswith(DEFAULT_TAGS_PREFIX)
        }
        keys = _comma_list(env.get(IGNORE_TAGS_KEYS, ""))
        prefixes = _comma_list(env.get(IGNORE_TAGS_KEY_PREFIXES, ""))
        return cls(defaults, TagFilter(keys=frozenset(keys), key_prefixes=tuple(sorted(set(prefixes)))))

    def default_tags_under(
        self, configured: Maybe[Mapping[str, Any]] | None
    ) -> Maybe[Mapping[str, Any]] | None:
        """The provider's default tags: these, then the block's ``default_tags.tags`` over them.
        An unknown or malformed block value is left for the caller to report as it is."""
        if not self.default_tags or isinstance(configured, Unknown):
            return configured
        if configured is None:
            return dict(self.default_tags)
        if not isinstance(configured, Mapping):
            return configured
        return {**self.default_tags, **configured}

    def ignoring(self, configured: Maybe[TagFilter]) -> Maybe[TagFilter]:
        """The block's ``ignore_tags`` with the environment's keys and prefixes added."""
        if not self.ignore or isinstance(configured, Unknown):
            return configured
        return TagFilter(
            keys=configured.keys | self.ignore.keys,
            key_prefixes=tuple(sorted({*configured.key_prefixes, *self.ignore.key_prefixes})),
        )


def _comma_list(text: str) -> list[str]:
    """The provider's reading of an ignore variable: split on commas, trimmed, empties dropped."""
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True)
class OwnProvider:
    """A ``provider "aws"`` block of a module, evaluated in that module's scope."""

    config: ProviderConfig
    configured: bool  # False: an empty ("proxy") block, replaced by a configuration passed in
    where: SourceLocation


def is_configured(arguments: Collection[str], nested_blocks: int) -> bool:
    """Whether a provider block is a configuration rather than an empty ("proxy") block: it has
    an argument besides ``alias``, or a nested block (``default_tags {}`` is content too)."""
    return nested_blocks > 0 or any(name not in _NOT_CONTENT for name in arguments)


def resolve(
    inherited: ProviderConfig | None,
    passed: Mapping[str | None, ProviderConfig],
    own: Mapping[str | None, OwnProvider],
) -> dict[str | None, ProviderConfig]:
    """The configurations a module instance's resources use, by alias (None: the default).

    ``inherited`` is the caller's default (None when it has none), ``passed`` what the call's
    ``providers`` map passes (resolved in the caller), ``own`` the module's own blocks. A
    configured own block wins over everything (passing its name too is an error, see
    ``overridden``); a passed one over an empty own block; an empty own block over the
    inherited default."""
    result: dict[str | None, ProviderConfig] = {}
    if inherited is not None:
        result[None] = inherited
    for alias, block in own.items():
        if not block.configured:
            result[alias] = block.config
    result.update(passed)
    for alias, block in own.items():
        if block.configured:
            result[alias] = block.config
    return result


def overridden(own: Mapping[str | None, OwnProvider], passed_names: Collection[str | None]) -> list[str]:
    """The names the call's ``providers`` map passes that the module configures itself, which
    Terraform refuses ("Cannot override provider configuration"), as ``aws`` / ``aws.<alias>``."""
    return sorted(
        provider_name(alias) for alias, block in own.items() if block.configured and alias in passed_names
    )


def provider_name(alias: str | None, module: str = "") -> str:
    """``aws`` / ``aws.west``, after the module's address (``module.legacy.aws.west``)."""
    return f"{module}aws" if alias is None else f"{module}aws.{alias}"


def first_configured(own: Mapping[str | None, OwnProvider]) -> SourceLocation | None:
    """Where the module's first own configuration is written (None: it has none, only empty
    blocks or nothing): what makes it a "legacy" module for Terraform."""
    found = [block.where for block in own.values() if block.configured]
    return min(found, key=lambda where: (where.file, where.line)) if found else None


def override_reason(module: str, own: Mapping[str | None, OwnProvider], names: list[str]) -> str:
    """Why a call that passes a provider the module configures itself (``names``, from
    ``overridden``) is not evaluated, naming where the first of them is configured."""
    listed = ", ".join(names)
    where = next(block.where for alias, block in own.items() if provider_name(alias) == names[0])
    return (
        f"Terraform refuses this configuration (Cannot override provider configuration): {module} "
        f"has its own provider configuration for {listed} ({where}), and the call's providers "
        "map passes one under the same name; its tables are not watched"
    )


def legacy_reason(module: str, argument: str, where: SourceLocation) -> str:
    """Why a call with ``count``/``for_each``/``depends_on`` above a module with its own provider
    configuration is not evaluated (Terraform refuses it; which region it means is unknowable)."""
    return (
        f"Terraform refuses this configuration (Module is incompatible with count, for_each, and "
        f'depends_on): {module} is a legacy module with its own provider "aws" configuration '
        f"({where}), so this call may not use {argument}; its tables are not watched"
    )
