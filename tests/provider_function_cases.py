"""The AWS provider's functions (driftwatch.terraform.aws_functions) as differential cases.

``terraform console`` needs the provider for them, and starting it costs ~4 s, so
tests/test_differential_plan.py evaluates them in the plan it makes anyway (an output of its
root), and tests/test_differential_console.py counts them as covered.
"""

from __future__ import annotations

ROLE = "arn:aws:iam::444455556666:role"
PROVIDER_FUNCTION_CASES: dict[str, list[str]] = {
    "provider::aws::arn_parse": [
        'provider::aws::arn_parse("arn:aws:kms:us-east-1:111111111111:key/abc")',
        'provider::aws::arn_parse("arn:aws:s3:::bucket/a:b:c")',  # the sixth section keeps its ":"
        'provider::aws::arn_parse("arn:::::")',
        'provider::aws::arn_parse("arn:aws:kms:us-east-1:111111111111:key/abc").account_id',
        'provider::aws::arn_parse("arn::::")',  # not enough sections
        'provider::aws::arn_parse("arn:aws:s3")',
        'provider::aws::arn_parse("xarn:aws:s3:::b")',
        'provider::aws::arn_parse("ARN:aws:s3:::b")',
        "provider::aws::arn_parse(null)",
        "provider::aws::arn_parse(12)",
    ],
    "provider::aws::arn_build": [
        'provider::aws::arn_build("aws", "kms", "us-east-1", "111111111111", "key/abc")',
        'provider::aws::arn_build("", "", "", "", "")',
        'provider::aws::arn_build("aws", "s3", "", "", "b:c/d")',
        'provider::aws::arn_build("aws", "iam", "", 111111111111, true)',
        'provider::aws::arn_build("aws", "iam", "", null, "x")',
        'provider::aws::arn_build("aws", "iam", "")',
    ],
    "provider::aws::trim_iam_role_path": [
        f'provider::aws::trim_iam_role_path("{ROLE}/with/path/example")',
        f'provider::aws::trim_iam_role_path("{ROLE}/example")',
        f'provider::aws::trim_iam_role_path("{ROLE}/trailing/")',
        f'provider::aws::trim_iam_role_path("{ROLE}/")',
        'provider::aws::trim_iam_role_path("arn:aws:iam::444455556666:user/a/b")',
        'provider::aws::trim_iam_role_path("arn:aws:iam:us-east-1:444455556666:role/a/b")',
        'provider::aws::trim_iam_role_path("arn:aws:s3:::role/a/b")',
        'provider::aws::trim_iam_role_path("arn:aws:iam::444455556666:ROLE/a")',
        'provider::aws::trim_iam_role_path("arn:aws:iam")',
    ],
}

# Terraform's own functions by their full name (Terraform 1.8+).
CORE_CASES = ['core::upper("a")', 'core::join("-", ["a", "b"])', "core::length(core::keys({a = 1}))"]
