"""The data sources whose result the AWS provider takes from its own configuration, so that
Terraform knows them at plan time: ``data.aws_region``, ``data.aws_partition``,
``data.aws_default_tags`` and, when the provider fixes the account, ``data.aws_caller_identity``.

Names and tags written with them (``"orders-${data.aws_region.current.name}"``, a KMS key ARN
built from the partition and the account) were Unknown, like every data source: the table was
not evaluated and nobody compared it, though ``terraform plan`` knows its name. What the
provider does (hashicorp/aws 5.100, measured against moto):

- ``aws_region``: ``name`` and ``id`` are the provider's region, or the region its ``name``
  argument (6.x: ``region``) names. Terraform fails ("finding Region by name") for a region
  its endpoint data does not list, even under ``skip_region_validation``: driftwatch gives
  Unknown there (botocore's endpoint data stands for the provider's).
- ``aws_partition``: the partition whose region list holds the region, else whose region
  pattern matches it (``cn-north-1`` is ``aws-cn``, ``eu-fake-9`` is ``aws``); ``dns_suffix``
  is that partition's, ``reverse_dns_prefix`` its labels reversed (``cn.com.amazonaws``).
- ``aws_caller_identity``: ``account_id`` (and ``id``) is the account of the credentials
  Terraform runs with. driftwatch cannot know it in general; it does when the provider fixes
  it: the account of a literal ``assume_role`` role ARN, or the one account
  ``allowed_account_ids`` allows (Terraform refuses to plan in any other). Elsewhere Unknown.
- ``aws_default_tags``: ``tags`` is the provider's ``default_tags`` without the keys that
  start with ``aws:`` and those its ``ignore_tags`` names (the provider's ``IgnoreAWS()
  .IgnoreConfig()``); ``id`` is the partition. No ``default_tags`` block: ``{}``.

Anything else is Unknown with its reason, never a guess: an attribute not listed above
(``endpoint``, ``arn``), a data block with ``count``, ``for_each`` or ``depends_on`` (Terraform
may defer reading it to the apply), one with an argument not listed above, a provider whose
region cannot be resolved. Every other data source stays Unknown (driftwatch.terraform.evaluate).

Pure over evaluated values; driftwatch.terraform.modules supplies each block's provider.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

from driftwatch.spec import Maybe, PartlyListed, TagFilter, Unknown
from driftwatch.terraform.resource import tag_map

KINDS: Final = frozenset({"aws_region", "aws_partition", "aws_caller_identity", "aws_default_tags"})
# Meta-arguments that leave the result as the provider's configuration makes it.
_META: Final = frozenset({"provider", "lifecycle"})
# The arguments each kind may have and driftwatch evaluates: the region they name.
_REGION_ARGUMENTS: Final = {
    "aws_region": ("name", "region"),
    "aws_partition": ("region",),
    "aws_caller_identity": (),
    "aws_default_tags": (),
}
_NO_FILTER: Final = TagFilter()


@dataclass(frozen=True)
class Partition:
    """One partition of AWS's endpoint data (botocore's ``partitions.json``)."""

    name: str
    regions: frozenset[str]
    pattern: re.Pattern[str]
    dns_suffix: str


@functools.cache
def partitions() -> tuple[Partition, ...]:
    """AWS's partitions as botocore's endpoint data lists them (read once, when first asked)."""
    spec = importlib.util.find_spec("botocore")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        return ()
    data = json.loads((Path(locations[0]) / "data" / "partitions.json").read_text(encoding="utf-8"))
    return tuple(
        Partition(
            entry["id"],
            frozenset(entry.get("regions", {})),
            re.compile(entry["regionRegex"]),
            entry["outputs"]["dnsSuffix"],
        )
        for entry in data["partitions"]
    )


def partition_of(region: str) -> Partition | None:
    """The partition a region belongs to, as the AWS SDKs decide it: the one that lists it,
    else the first whose pattern matches it; None when none does."""
    known = partitions()
    listed = next((p for p in known if region in p.regions), None)
    return listed or next((p for p in known if p.pattern.fullmatch(region)), None)


class DataSourceValues(dict[str, Any], PartlyListed):
    """A data source's result: the attributes driftwatch works out, any other one Unknown."""

    def __init__(self, address: str, values: Mapping[str, Any]):
        super().__init__(values)
        self.address = address

    def __missing__(self, name: str) -> Unknown:
        return Unknown(f"{self.address}.{name} is read from AWS by Terraform, not worked out by driftwatch")

    def plain(self, values: Mapping[str, Any]) -> DataSourceValues:
        """The same result holding ``values`` (driftwatch.terraform.evaluate makes values plain)."""
        return DataSourceValues(self.address, values)

    def unlisted(self) -> Unknown:
        return Unknown(f"{self.address} as a whole is read from AWS by Terraform, not worked out here")


@dataclass(frozen=True)
class Provider:
    """What a data block's provider configuration fixes, as evaluated."""

    region: Maybe[str] | None  # None: neither the provider nor the target gives a region
    account: str | None  # None: it does not fix the account (fixed_account)
    default_tags: Maybe[Mapping[str, Any]] | None = None  # its default_tags.tags, as evaluated
    ignore_tags: Maybe[TagFilter] = _NO_FILTER


def result(kind: str, address: str, arguments: Mapping[str, Any], provider: Maybe[Provider]) -> Any:
    """The value ``data.<kind>.<name>`` has in Terraform's plan: a DataSourceValues, or Unknown.

    ``arguments``: the block's arguments evaluated, meta-arguments included (their presence
    counts, not their value)."""
    if isinstance(provider, Unknown):
        return Unknown(f"{address}: {provider.reason}")
    deferred = sorted(name for name in ("count", "for_each", "depends_on") if name in arguments)
    if deferred:
        return Unknown(f"{address} has {deferred[0]}, which driftwatch does not evaluate for a data source")
    region_arguments = _REGION_ARGUMENTS[kind]
    other = sorted(name for name in arguments if name not in _META and name not in region_arguments)
    if other:
        return Unknown(f"{address} has the argument {other[0]}, which driftwatch does not evaluate")
    if kind == "aws_caller_identity":
        return _caller_identity(address, provider.account)
    region = _region(address, arguments, region_arguments, provider.region)
    partition = None if isinstance(region, Unknown) else partition_of(region)
    if kind == "aws_default_tags":
        named = partition.name if partition is not None else _no_partition(address, region)
        return DataSourceValues(address, {"tags": _default_tags(address, provider), "id": named})
    if isinstance(region, Unknown):
        return region
    if partition is None:
        return _no_partition(address, region)
    if kind == "aws_region":
        if region not in partition.regions:
            return Unknown(f"{address}: Terraform cannot find the region {region!r} (finding Region by name)")
        return DataSourceValues(address, {"name": region, "id": region, "region": region})
    return DataSourceValues(
        address,
        {
            "partition": partition.name,
            "id": partition.name,
            "dns_suffix": partition.dns_suffix,
            "reverse_dns_prefix": ".".join(reversed(partition.dns_suffix.split("."))),
        },
    )


def _no_partition(address: str, region: Maybe[str]) -> Unknown:
    if isinstance(region, Unknown):
        return region
    return Unknown(f"{address}: the region {region!r} is in no AWS partition Terraform knows")


def _default_tags(address: str, provider: Provider) -> Maybe[dict[str, Maybe[str]]]:
    """``tags`` of ``data.aws_default_tags``: the default tags the provider applies, as it
    reports them (``aws:`` keys and the keys ``ignore_tags`` names left out)."""
    tags = tag_map(provider.default_tags, f"{address}.tags: the provider's default_tags")
    if isinstance(tags, Unknown):
        return tags
    if isinstance(provider.ignore_tags, Unknown):
        return Unknown(f"{address}.tags: the provider's ignore_tags: {provider.ignore_tags.reason}")
    return provider.ignore_tags.user_tags(tags)


def _region(
    address: str, arguments: Mapping[str, Any], names: tuple[str, ...], provider_region: Maybe[str] | None
) -> Maybe[str]:
    """The region the block reads: its own region argument when set, else the provider's."""
    given = [(name, arguments[name]) for name in names if arguments.get(name) is not None]
    if len(given) > 1:
        return Unknown(f"{address} sets both {given[0][0]} and {given[1][0]}")
    if given:
        name, value = given[0]
        if isinstance(value, Unknown):
            return Unknown(f"{address}.{name}: {value.reason}")
        if not isinstance(value, str) or not value:
            return Unknown(f"{address}.{name} is not a region name")
        return value
    if provider_region is None:
        return Unknown(f"{address}: its provider has no region, and the target gives none")
    if isinstance(provider_region, Unknown):
        return Unknown(f"{address}: the region of its provider cannot be resolved: {provider_region.reason}")
    return provider_region


def _caller_identity(address: str, account: str | None) -> DataSourceValues:
    if account is not None:
        return DataSourceValues(address, {"account_id": account, "id": account})
    reason = (
        "a data source: the account of the credentials Terraform runs with, which its provider does not fix"
    )
    return DataSourceValues(
        address,
        {name: Unknown(f"{address}.{name} is {reason}") for name in ("account_id", "id")},
    )


def fixed_account(assumed: Any, allowed: Any) -> str | None:
    """The account a provider fixes: its literal role's (``assume_role``), else the only one
    ``allowed_account_ids`` allows; None when it fixes none or it cannot be resolved."""
    if isinstance(assumed, str):
        return assumed
    if assumed is None and isinstance(allowed, frozenset) and len(allowed) == 1:
        (only,) = allowed
        return str(only)
    return None


class DataSources(Mapping[tuple[str, str], Any]):
    """``data.<kind>.<name>`` for the blocks of the kinds above in one module instance, each
    worked out when first read (``compute`` is given what ``declared`` holds for it).

    ``NONE`` stands where a scope has no data sources (a variable's default): every data source
    is Unknown there, but a ``for`` variable named ``data`` is still that variable."""

    NONE: ClassVar[DataSources]

    def __init__(self, declared: Mapping[tuple[str, str], Any], compute: Callable[[Any], Any]):
        self._declared = declared
        self._compute = compute
        self._values: dict[tuple[str, str], Any] = {}
        self._active: set[tuple[str, str]] = set()

    def __getitem__(self, key: tuple[str, str]) -> Any:
        if key in self._values:
            return self._values[key]
        declared = self._declared[key]
        if key in self._active:  # data "aws_region" "r" { name = data.aws_region.r.name }
            return Unknown(f"data.{key[0]}.{key[1]} refers to itself")
        self._active.add(key)
        try:
            value = self._values[key] = self._compute(declared)
        finally:
            self._active.discard(key)
        return value

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._declared)

    def __len__(self) -> int:
        return len(self._declared)


DataSources.NONE = DataSources({}, lambda declared: declared)
