"""The AWS provider's functions (``provider::aws::arn_parse`` and the others, Terraform 1.8+
with hashicorp/aws 5.40+): pure string functions a configuration may build a table's name, a
key ARN or a tag with. They were "not evaluated": such a table was not compared.

Each follows the provider's code (``internal/function``) and the SDK's ``arn.Parse``, and is
checked against ``terraform console`` with the provider (tests/test_differential_plan.py):
- an ARN is ``arn:`` and at least six ``:``-separated sections, the sixth keeping any further
  ``:`` (``arn:aws:s3:::bucket/a:b`` has the resource ``bucket/a:b``); empty sections are valid;
- ``arn_build`` joins its five arguments the same way, whatever they hold;
- ``trim_iam_role_path`` keeps ``role/`` and the last path element, and refuses an ARN whose
  service is not ``iam``, whose region is not empty or whose resource is not a role.
A null argument is an error, as the provider declares no parameter nullable. Terraform offers
them only in a module whose ``required_providers`` declares the provider; the evaluator checks
that (driftwatch.terraform.evaluate).
"""

from __future__ import annotations

from typing import Any

from driftwatch.terraform.functions import FunctionError, register, to_string

_PREFIX = "provider::aws::"
_ROLE = "role/"


def _text(value: Any, parameter: str) -> str:
    if value is None:
        raise FunctionError(f'invalid value for "{parameter}" parameter: argument must not be null')
    return to_string(value)


def _arn(value: Any) -> list[str]:
    """The six sections of an ARN (the SDK's ``arn.Parse``)."""
    text = _text(value, "arn")
    if not text.startswith("arn:"):
        raise FunctionError("arn: invalid prefix")
    sections = text.split(":", 5)
    if len(sections) != 6:
        raise FunctionError("arn: not enough sections")
    return sections


@register(_PREFIX + "arn_parse")
def arn_parse(arn: Any) -> dict[str, str]:
    _, partition, service, region, account_id, resource = _arn(arn)
    return {
        "partition": partition,
        "service": service,
        "region": region,
        "account_id": account_id,
        "resource": resource,
    }


@register(_PREFIX + "arn_build")
def arn_build(partition: Any, service: Any, region: Any, account_id: Any, resource: Any) -> str:
    names = ("partition", "service", "region", "account_id", "resource")
    parts = (partition, service, region, account_id, resource)
    return ":".join(["arn", *(_text(part, name) for name, part in zip(names, parts, strict=True))])


@register(_PREFIX + "trim_iam_role_path")
def trim_iam_role_path(arn: Any) -> str:
    sections = _arn(arn)
    if sections[2] != "iam":
        raise FunctionError('service must be "iam"')
    if sections[3] != "":
        raise FunctionError("region must be empty")
    if not sections[5].startswith(_ROLE):
        raise FunctionError(f'resource must begin with "{_ROLE}"')
    sections[5] = _ROLE + sections[5].split("/")[-1]
    return ":".join(sections)
