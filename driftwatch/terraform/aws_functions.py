"""The functions provider hashicorp/aws defines (``provider::aws::arn_parse`` and the like,
Terraform 1.8+, provider 5.40+), evaluated as the provider does.

Terraform knows their values from the configuration alone, so a tag or a name built with one
is not left unresolved: the eighth survey met ``provider::aws::arn_parse(var.arn).resource`` in
a table's tags. The rules follow the provider 5.100 (aws-sdk-go-v2's ``arn.Parse``: the
``arn:`` prefix and six ``:``-separated sections, the last keeping any further ``:``), checked
against ``terraform console`` (tests/test_functions.py records its answers). Terraform offers
them only in a module whose ``required_providers`` declares the provider; the evaluator checks
that (driftwatch.terraform.evaluate). Pure.
"""

from __future__ import annotations

import re
from typing import Any, Final

from driftwatch.terraform.functions import FunctionError, register, to_string

PREFIX: Final = "provider::aws::"


def _text(value: Any, parameter: str) -> str:
    if value is None:
        raise FunctionError(f'invalid value for "{parameter}" parameter: argument must not be null')
    return to_string(value)


@register(PREFIX + "arn_parse")
def arn_parse(arn: Any) -> dict[str, str]:
    text = _text(arn, "arn")
    if not text.startswith("arn:"):
        raise FunctionError("arn: invalid prefix")
    sections = text.split(":", 5)
    if len(sections) != 6:
        raise FunctionError("arn: not enough sections")
    _, partition, service, region, account_id, resource = sections
    return {
        "account_id": account_id,
        "partition": partition,
        "region": region,
        "resource": resource,
        "service": service,
    }


@register(PREFIX + "arn_build")
def arn_build(partition: Any, service: Any, region: Any, account_id: Any, resource: Any) -> str:
    parts = zip(
        ("partition", "service", "region", "account_id", "resource"),
        (partition, service, region, account_id, resource),
        strict=True,
    )
    return "arn:" + ":".join(_text(value, name) for name, value in parts)


# an IAM role ARN with a path: arn:<partition>:iam::<account>:role/<path>/<name>
_ROLE_PATH = re.compile(r"\A(arn:[^:]*:iam::[^:]*:role/)(?:.*/)?([^/]*)\Z")


@register(PREFIX + "trim_iam_role_path")
def trim_iam_role_path(arn: Any) -> str:
    text = _text(arn, "arn")
    parsed = arn_parse(text)
    if parsed["service"] != "iam" or not parsed["resource"].startswith("role/"):
        raise FunctionError(f'invalid IAM role ARN "{text}"')
    match = _ROLE_PATH.match(text)
    return text if match is None else match.group(1) + match.group(2)
