"""Every Terraform string is NFC (cty normalizes each string it makes), so a string built at run
time -- decoded from JSON, base64 or CSV, joined, formatted, split, interpolated from pieces --
is normalized as well: ``join("", ["e", "\\u0301"])`` is ``"\\u00e9"``, one character. Before,
driftwatch normalized literals and ``file()`` only, so a tag value or ``for_each`` key built
that way was another string than the one Terraform sent to AWS: a false drift, or an address
that is not the state's. ``jsondecode`` of an object whose key is not NFC is Terraform's error.

Measured with ``terraform console`` (1.11.4), checked below where terraform is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftwatch.spec import Unknown
from driftwatch.terraform.evaluate import Scope, evaluate_text
from tests.terraform_support import REQUIRES_TERRAFORM_CLI, terraform
from tests.test_modules import TABLE, declare, names, write_tree

ACUTE, E_ACUTE = "\\u0301", "\u00e9"  # ACUTE as written in HCL

# (expression, its value in Terraform)
CASES: list[tuple[str, object]] = [
    (f'"${{"e"}}${{"{ACUTE}"}}"', E_ACUTE),
    (f'join("", ["e", "{ACUTE}"])', E_ACUTE),
    (f'format("%s%s", "e", "{ACUTE}")', E_ACUTE),
    (f'replace("eX", "X", "{ACUTE}")', E_ACUTE),
    ('base64decode("ZcyB")', E_ACUTE),
    ('jsondecode("\\"e\\\\u0301\\"")', E_ACUTE),
    ('jsondecode("[\\"e\\\\u0301\\"]")', [E_ACUTE]),
    ('jsondecode("{\\"k\\": \\"e\\\\u0301\\"}")', {"k": E_ACUTE}),
    ('split(",", base64decode("ZcyBLHg="))', [E_ACUTE, "x"]),
    ('csvdecode(base64decode("aApjYWZlzIE="))', [{"h": "caf" + E_ACUTE}]),  # "h\ncafe\u0301"
    (f'formatlist("%s%s", "e", ["{ACUTE}"])', [E_ACUTE]),
    ('regexall(".", base64decode("ZcyB"))', [E_ACUTE]),
    (f'length(join("", ["e", "{ACUTE}"]))', 1),
    (f'length(toset([join("", ["e", "{ACUTE}"]), "{E_ACUTE}"]))', 1),
]


@pytest.mark.parametrize(("expression", "expected"), CASES)
def test_a_string_made_at_run_time_is_nfc_as_in_terraform(expression: str, expected: object) -> None:
    assert evaluate_text(expression, Scope({})) == expected


def test_jsondecode_of_an_object_with_a_key_that_is_not_nfc_is_terraforms_error() -> None:
    value = evaluate_text('jsondecode("{\\"e\\\\u0301\\": 1}")', Scope({}))
    assert isinstance(value, Unknown)
    assert 'unsupported attribute "e\u0301"' in value.reason  # the key as written, as Terraform


def test_a_var_string_and_a_tfvars_json_string_are_nfc(tmp_path: Path) -> None:
    main = TABLE.replace("var.name", 'join("/", [var.name, var.other])') + (
        'variable "name" {}\nvariable "other" {\n  type = string\n}\n'
    )
    write_tree(tmp_path, {"root/main.tf": main, "root/terraform.tfvars.json": '{"other": "e\\u0301"}'})
    assert names(declare(tmp_path, vars={"name": "e\u0301"})) == [f"{E_ACUTE}/{E_ACUTE}"]


@REQUIRES_TERRAFORM_CLI
def test_terraform_console_agrees(tmp_path: Path) -> None:
    (tmp_path / "cli.tfrc").write_text("")
    listed = ", ".join(expression for expression, _ in CASES)
    shown = terraform(tmp_path, "console", stdin=f"jsonencode([{listed}])\n").stdout
    assert json.loads(json.loads(shown)) == [expected for _, expected in CASES]
    refused = terraform(
        tmp_path, "console", "-no-color", stdin='jsondecode("{\\"e\\\\u0301\\": 1}")\n', ok=(1,)
    )
    assert 'unsupported attribute "e\u0301"' in refused.stderr
