"""A root with a ``terragrunt.hcl``: what Terragrunt changes is never read as its default.

``terragrunt plan`` passes ``inputs`` to Terraform as ``TF_VAR_`` values and, with
``terraform { source }``, plans another module than the directory's files. driftwatch runs
neither, so a variable Terragrunt sets is Unknown (below tfvars files and the target's vars,
which still decide it), and a source is an error of the target. Terraform's side (Terragrunt
is not installed here): ``TF_VAR_env=prod terraform plan`` in the root of the first case plans
``prod-orders``, the table Terragrunt makes; before this, driftwatch watched ``dev-orders``.
"""

from __future__ import annotations

from pathlib import Path

from driftwatch.spec import Unknown
from driftwatch.terraform.modules import declare_target
from driftwatch.terraform.parse import ParseCache, parse_text
from driftwatch.terraform.target import TargetDeclarations, TargetInput
from driftwatch.terraform.terragrunt import read_root

_ROOT_TF = """
variable "env" {
  type    = string
  default = "dev"
}
variable "tags" {
  type    = map(string)
  default = { Team = "orders" }
}
resource "aws_dynamodb_table" "orders" {
  name         = "${var.env}-orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  tags         = var.tags
  attribute {
    name = "id"
    type = "S"
  }
}
"""

# The live/<env>/<unit> layout of Terragrunt's documentation, with the unit's own .tf files.
_INPUTS = """
locals {
  env = "prod"
}
inputs = {
  env = local.env
}
"""


def _declare(tmp_path: Path, files: dict[str, str], **kwargs: object) -> TargetDeclarations:
    root = tmp_path / "live" / "prod" / "orders"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    target = TargetInput(name="t", repo=tmp_path, root=root, env={}, region="us-east-1", **kwargs)  # type: ignore[arg-type]
    return declare_target(target, ParseCache())


def _messages(result: TargetDeclarations) -> list[str]:
    return [error.message for error in result.errors]


def test_a_variable_terragrunt_sets_is_not_read_at_its_default(tmp_path: Path) -> None:
    result = _declare(tmp_path, {"main.tf": _ROOT_TF, "terragrunt.hcl": _INPUTS})
    (table,) = result.tables
    name = table.spec.name  # not dev-orders: the scan reports it as an error row
    assert isinstance(name, Unknown), name
    assert "var.env may be set by Terragrunt (terragrunt.hcl: its inputs" in name.reason
    assert "vars or var_files" in name.reason


def test_the_targets_vars_and_tfvars_outrank_terragrunts_inputs(tmp_path: Path) -> None:
    by_var = _declare(tmp_path / "a", {"main.tf": _ROOT_TF, "terragrunt.hcl": _INPUTS}, vars={"env": "prod"})
    by_file = _declare(
        tmp_path / "b", {"main.tf": _ROOT_TF, "terragrunt.hcl": _INPUTS, "terraform.tfvars": 'env = "prod"\n'}
    )
    for result in (by_var, by_file):
        assert _messages(result) == []
        (table,) = result.tables
        assert table.spec.name == "prod-orders"
        # A variable the inputs do not name keeps its default, as under Terragrunt.
        assert table.spec.tags == {"Team": "orders"}


def test_an_include_may_set_any_variable(tmp_path: Path) -> None:
    included = 'include "root" {\n  path = find_in_parent_folders()\n}\n' + _INPUTS
    result = _declare(tmp_path, {"main.tf": _ROOT_TF, "terragrunt.hcl": included}, vars={"env": "prod"})
    (table,) = result.tables
    assert table.spec.name == "prod-orders"
    assert isinstance(table.spec.tags, Unknown)
    assert "var.tags may be set by Terragrunt" in table.spec.tags.reason


def test_extra_arguments_may_set_any_variable_above_the_automatic_tfvars(tmp_path: Path) -> None:
    """``optional_var_files`` / ``arguments = ["-var", ...]`` reach ``terraform plan`` as
    ``-var-file`` / ``-var``: above terraform.tfvars, below nothing driftwatch can see but the
    target's own var_files and vars."""
    unit = """
terraform {
  extra_arguments "env_vars" {
    commands           = ["plan", "apply"]
    optional_var_files = ["${get_terragrunt_dir()}/prod.tfvars"]
  }
}
"""
    files = {"main.tf": _ROOT_TF, "terragrunt.hcl": unit, "terraform.tfvars": 'env = "stage"\n'}
    result = _declare(tmp_path / "a", files)
    (table,) = result.tables
    assert isinstance(table.spec.name, Unknown)  # not stage-orders
    assert isinstance(table.spec.tags, Unknown)
    files["prod.tfvars"] = 'env = "prod"\ntags = {}\n'
    (table,) = _declare(tmp_path / "b", files, var_files=("prod.tfvars",)).tables
    assert (table.spec.name, table.spec.tags) == ("prod-orders", {})


def test_extra_arguments_that_pass_no_variable_leave_them_known(tmp_path: Path) -> None:
    """The extra_arguments of Terragrunt's own documentation (``-lock-timeout=20m`` for the
    commands that lock) set no variable: the default is what Terragrunt plans, as before. An
    argument list that may (``-var-file=``, ``--var``, one not written out), var files or
    ``env_vars`` (``TF_VAR_``, ``TF_CLI_ARGS_plan``) still make every variable Unknown."""
    lock = """
terraform {
  extra_arguments "retry_lock" {
    commands  = get_terraform_commands_that_need_locking()
    arguments = ["-lock-timeout=20m"]
  }
  extra_arguments "init_only" {
    commands  = ["init"]
    arguments = ["-var-file=init.tfvars"]
  }
}
"""
    (table,) = _declare(tmp_path / "lock", {"main.tf": _ROOT_TF, "terragrunt.hcl": lock}).tables
    assert (table.spec.name, table.spec.tags) == ("dev-orders", {"Team": "orders"})
    for index, body in enumerate(
        (
            'arguments = ["-lock-timeout=20m", "-var-file=prod.tfvars"]',
            'arguments = ["--var", "env=prod"]',
            "arguments = local.args",
            'env_vars = {\n  TF_VAR_env = "prod"\n}',
            'required_var_files = ["prod.tfvars"]',
            'commands = ["apply"]\n  arguments = ["-var=env=prod"]',
        )
    ):
        unit = f'terraform {{\n  extra_arguments "x" {{\n  {body}\n  }}\n}}\n'
        (table,) = _declare(tmp_path / str(index), {"main.tf": _ROOT_TF, "terragrunt.hcl": unit}).tables
        assert isinstance(table.spec.name, Unknown), body


def test_a_terragrunt_source_is_an_error_naming_it(tmp_path: Path) -> None:
    unit = 'terraform {\n  source = "../../../modules/orders"\n}\n' + _INPUTS
    result = _declare(tmp_path, {"terragrunt.hcl": unit})
    messages = _messages(result)
    planned = "Terragrunt plans the module at ../../../modules/orders"
    assert any(planned in m and "driftwatch does not run Terragrunt" in m for m in messages), messages
    (error,) = [e for e in result.errors if "Terragrunt" in e.message]
    assert error.file == "live/prod/orders/terragrunt.hcl"


def test_a_terragrunt_file_added_later_is_seen_by_a_kept_cache(tmp_path: Path) -> None:
    """The daemon keeps its evaluations while the files they read are unchanged: the question
    whether terragrunt.hcl exists is one of them."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(_ROOT_TF)
    target = TargetInput(name="t", repo=tmp_path, root=root, env={}, region="us-east-1")
    cache = ParseCache()
    assert [t.spec.name for t in declare_target(target, cache).tables] == ["dev-orders"]
    (root / "terragrunt.hcl").write_text(_INPUTS)
    (table,) = declare_target(target, cache).tables
    assert isinstance(table.spec.name, Unknown)


def test_read_root_names_the_inputs_when_it_can() -> None:
    def read(text: str) -> tuple[frozenset[str] | None, str | None]:
        found = read_root(parse_text(text, "terragrunt.hcl").body, "terragrunt.hcl")
        return found.inputs, found.source

    assert read('inputs = {\n  a = 1\n  "b-c" = local.x\n}\n') == (frozenset({"a", "b-c"}), None)
    assert read("locals {\n  x = 1\n}\n") == (frozenset(), None)
    assert read("inputs = merge(local.common, {\n  a = 1\n})\n") == (None, None)
    assert read("inputs = {\n  (local.k) = 1\n}\n") == (None, None)
    assert read('terraform {\n  source = "${get_parent_terragrunt_dir()}/m"\n}\n') == (
        frozenset(),
        "(an expression driftwatch does not evaluate)",
    )
    assert read("terraform {\n  source = null\n}\n") == (frozenset(), None)  # null: no source
