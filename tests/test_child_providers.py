"""``provider "aws"`` blocks inside child modules (the legacy pattern of older public Terraform)
configure the tables of that module, as Terraform resolves them (driftwatch.terraform.providers).

They used to be ignored: such a table was read in the root provider's region (a false
"missing", or a silently wrong "in sync" against a same-named table there), with the root's
default tags and account. What Terraform 1.11.4 does in each case is checked against moto in
tests/test_child_providers_terraform.py; here the evaluation, per table.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from driftwatch.spec import AccountBinding, DeclaredTable, SourceLocation, Unknown
from driftwatch.terraform import providers
from driftwatch.terraform.modules import TargetDeclarations, TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache
from driftwatch.terraform.providers import OwnProvider, ProviderConfig

TARGET_REGION = "ca-central-1"  # the target's region: Terraform's AWS_REGION for driftwatch
ROLE_B = "arn:aws:iam::222222222222:role/terraform"

ROOT_PROVIDERS = """
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { Root = "yes" }
  }
}
provider "aws" {
  alias  = "west"
  region = "us-west-2"
  default_tags {
    tags = { West = "yes" }
  }
}
"""

TABLE = """
resource "aws_dynamodb_table" "t" {
  name         = "${var.prefix}-t"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""

LEGACY = """
variable "region" {}
variable "prefix" {}
provider "aws" {
  region = var.region
  default_tags {
    tags = { Child = var.prefix }
  }
}
provider "aws" {
  alias  = "second"
  region = "ap-south-1"
}
module "plain" {
  source = "../plain"
  prefix = "${var.prefix}-plain"
}
resource "aws_dynamodb_table" "a" {
  name         = "${var.prefix}-a"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
resource "aws_dynamodb_table" "b" {
  provider     = aws.second
  name         = "${var.prefix}-b"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""

MODULES = {
    "legacy/main.tf": LEGACY,
    "plain/main.tf": 'variable "prefix" {}\n' + TABLE,
    "empty/main.tf": 'variable "prefix" {}\nprovider "aws" {}\n' + TABLE,
}


def declare(
    tmp_path: Path, root: str, modules: dict[str, str] | None = None, region: str | None = TARGET_REGION
) -> TargetDeclarations:
    files = {**MODULES, **(modules or {}), "main.tf": ROOT_PROVIDERS + root}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    target = TargetInput(name="t", repo=tmp_path, root=tmp_path, env={}, region=region)
    return declare_target(target, ParseCache())


def by_address(result: TargetDeclarations) -> dict[str, DeclaredTable]:
    assert result.errors == [], result.errors
    return {table.address: table for table in result.tables}


def placement(result: TargetDeclarations) -> dict[str, tuple[object, object]]:
    """address -> (declared region, declared tags): where and how each table is compared."""
    return {address: (t.spec.region, t.spec.tags) for address, t in by_address(result).items()}


def test_a_legacy_module_configures_its_own_tables_and_its_children(tmp_path: Path) -> None:
    """Its default provider (``region = var.region``, evaluated in the child's scope) and its
    alias, not the root's; its child inherits its default. The root's default tags do not
    reach them (Terraform: tags_all holds only the child provider's)."""
    found = declare(
        tmp_path, 'module "legacy" {\n  source = "./legacy"\n  region = "eu-west-1"\n  prefix = "l"\n}\n'
    )
    assert placement(found) == {
        "module.legacy.aws_dynamodb_table.a": ("eu-west-1", {"Child": "l"}),
        "module.legacy.aws_dynamodb_table.b": ("ap-south-1", {}),
        "module.legacy.module.plain.aws_dynamodb_table.t": ("eu-west-1", {"Child": "l"}),
    }
    assert found.not_evaluated == []


def test_an_empty_provider_block_is_its_own_configuration_unless_one_is_passed(tmp_path: Path) -> None:
    """``provider "aws" {}`` in a child: not the inherited default (Terraform reads AWS_REGION,
    driftwatch the target's region, and no default tags); replaced by a configuration the call
    passes under its name (a "proxy" block). Allowed under ``count``."""
    root = """
    module "empty" {
      source = "./empty"
      prefix = "e"
    }
    module "proxy" {
      source    = "./empty"
      prefix    = "p"
      providers = { aws = aws.west }
    }
    module "counted" {
      source = "./empty"
      count  = 1
      prefix = "c"
    }
    module "alias" {
      source = "./emptyalias"
      prefix = "a"
    }
    """
    # An empty aliased block not passed: its own configuration too (terraform 1.11.4 put such
    # a table in AWS_REGION's region).
    alias = 'variable "prefix" {}\nprovider "aws" {\n  alias = "x"\n}\n' + TABLE.replace(
        "{\n", "{\n  provider = aws.x\n", 1
    )
    assert placement(declare(tmp_path, root, {"emptyalias/main.tf": alias})) == {
        "module.empty.aws_dynamodb_table.t": (TARGET_REGION, {}),
        "module.proxy.aws_dynamodb_table.t": ("us-west-2", {"West": "yes"}),
        "module.counted[0].aws_dynamodb_table.t": (TARGET_REGION, {}),
        "module.alias.aws_dynamodb_table.t": (TARGET_REGION, {}),
    }


def test_the_default_is_inherited_when_the_providers_map_passes_only_aliases(tmp_path: Path) -> None:
    """Terraform: a default provider is inherited whatever the map says about aliases. It was
    lost: the table fell back to the target's region without the root's default tags."""
    root = """
    module "m" {
      source    = "./aliased"
      prefix    = "m"
      providers = { aws.other = aws.west }
    }
    """
    aliased = (
        'variable "prefix" {}\n'
        + TABLE
        + TABLE.replace('"t"', '"o"', 1).replace("{\n", "{\n  provider = aws.other\n", 1).replace("-t", "-o")
    )
    assert placement(declare(tmp_path, root, {"aliased/main.tf": aliased})) == {
        "module.m.aws_dynamodb_table.t": ("us-east-1", {"Root": "yes"}),
        "module.m.aws_dynamodb_table.o": ("us-west-2", {"West": "yes"}),
    }


def test_a_legacy_modules_account_binding_reaches_its_tables(tmp_path: Path) -> None:
    module = f"""
    provider "aws" {{
      region = "eu-west-1"
      assume_role {{
        role_arn = "{ROLE_B}"
      }}
    }}
    variable "prefix" {{}}
    """
    found = declare(
        tmp_path,
        'module "acct" {\n  source = "./acct"\n  prefix = "a"\n}\n',
        {"acct/main.tf": module + TABLE},
    )
    (table,) = by_address(found).values()
    assert table.account == AccountBinding("module.acct.aws", "222222222222", "assume_role")
    assert table.spec.region == "eu-west-1"


def test_a_value_that_cannot_be_evaluated_is_unknown_never_the_roots(tmp_path: Path) -> None:
    """``region = var.region`` with no value: never the root provider's region. As for a root
    provider, the target's region stands in (Terraform's AWS_REGION); without one the region is
    Unknown (unresolved). Unknown default tags make every tag unresolved."""
    module = """
    variable "region" {}
    variable "tags" {}
    variable "prefix" {}
    provider "aws" {
      region = var.region
      default_tags {
        tags = var.tags
      }
    }
    """
    root = 'module "u" {\n  source = "./u"\n  prefix = "u"\n}\n'
    (table,) = declare(tmp_path, root, {"u/main.tf": module + TABLE}).tables
    assert table.spec.region == TARGET_REGION
    assert isinstance(table.spec.tags, Unknown) and table.spec.tags.reason.startswith("provider default_tags")
    (table,) = declare(tmp_path, root, {"u/main.tf": module + TABLE}, region=None).tables
    assert isinstance(table.spec.region, Unknown) and "var.region has no value" in table.spec.region.reason
    assert "region" in {note.attribute for note in table.notes}


def test_cloudposse_and_autoscaling_in_a_legacy_module_follow_its_provider(tmp_path: Path) -> None:
    """The emulated CloudPosse table module and hand-written autoscaling resources declared in a
    legacy module use that module's provider, like its plain tables (a scaling target in another
    region than its table would not be joined to it)."""
    module = """
    provider "aws" {
      region = "eu-north-1"
    }
    module "orders" {
      source            = "cloudposse/dynamodb/aws"
      version           = "0.37.0"
      name              = "orders"
      hash_key          = "id"
      enable_autoscaler = false
    }
    variable "prefix" {}
    resource "aws_appautoscaling_target" "read" {
      service_namespace  = "dynamodb"
      resource_id        = "table/${aws_dynamodb_table.t.name}"
      scalable_dimension = "dynamodb:table:ReadCapacityUnits"
      min_capacity       = 2
      max_capacity       = 9
    }
    """
    provisioned = TABLE.replace(
        '"PAY_PER_REQUEST"', '"PROVISIONED"\n  read_capacity = 2\n  write_capacity = 2'
    )
    found = declare(
        tmp_path,
        'module "cp" {\n  source = "./cp"\n  prefix = "x"\n}\n',
        {"cp/main.tf": module + provisioned},
    )
    tables = by_address(found)
    assert {address: t.spec.region for address, t in tables.items()} == {
        "module.cp.module.orders": "eu-north-1",
        "module.cp.aws_dynamodb_table.t": "eu-north-1",
    }
    read = tables["module.cp.aws_dynamodb_table.t"].spec.autoscaling.read
    assert read is not None and (read.min, read.max) == (2, 9)


@pytest.mark.parametrize(
    ("meta", "argument"),
    [
        ("count = 1", "count"),
        ('for_each = toset(["a"])', "for_each"),
        ("depends_on = [module.plain]", "depends_on"),
    ],
)
def test_a_legacy_module_under_count_for_each_or_depends_on_is_not_evaluated(
    tmp_path: Path, meta: str, argument: str
) -> None:
    """Terraform refuses it ("Module is incompatible with count, for_each, and depends_on"),
    directly or with the legacy module deeper down: which region its tables mean is unknowable,
    so none is picked. The call is listed as not evaluated, naming it; the rest is watched."""
    root = f"""
    module "plain" {{
      source = "./plain"
      prefix = "p"
    }}
    module "x" {{
      source = "./legacy"
      {meta}
      region = "eu-west-1"
      prefix = "x"
    }}
    module "outer" {{
      source = "./outer"
      {meta}
    }}
    """
    outer = (
        'module "in" {\n  source = "../legacy"\n  region = "eu-west-1"\n  prefix = "in"\n}\n'
        + TABLE.replace("${var.prefix}", "outer")
    )
    found = declare(tmp_path, root, {"outer/main.tf": outer})
    assert [t.address for t in found.tables] == ["module.plain.aws_dynamodb_table.t"]
    skipped = {entry.address: entry.reason for entry in found.not_evaluated}
    assert sorted(skipped) == ["module.outer", "module.x"]
    assert f"so this call may not use {argument}" in skipped["module.x"]
    assert "module.x" in skipped["module.x"] and "legacy/main.tf:4" in skipped["module.x"]
    assert (
        "module.outer" in skipped["module.outer"]
        and ".module.in is a legacy module" in skipped["module.outer"]
    )
    lines = [line.strip() for line in (tmp_path / "main.tf").read_text().splitlines()]
    for entry in found.not_evaluated:  # reported at the call
        call = f'module "{entry.address.removeprefix("module.")}" {{'
        assert entry.source == SourceLocation("main.tf", lines.index(call) + 1)


def test_an_empty_depends_on_does_not_restrict_a_legacy_module(tmp_path: Path) -> None:
    root = (
        'module "x" {\n  source = "./legacy"\n  depends_on = []\n  region = "eu-west-1"\n  prefix = "x"\n}\n'
    )
    found = declare(tmp_path, root)
    assert found.not_evaluated == []
    assert by_address(found)["module.x.aws_dynamodb_table.a"].spec.region == "eu-west-1"


@pytest.mark.parametrize("passed", ["aws = aws.west", "aws.second = aws.west"])
def test_passing_a_provider_the_module_configures_itself_is_not_evaluated(
    tmp_path: Path, passed: str
) -> None:
    """Terraform refuses it ("Cannot override provider configuration"): neither the passed nor
    the module's own configuration is "right", so the call is not evaluated, with the reason
    -- also when another call, itself not evaluated, reads its outputs first."""
    root = f"""
    module "reader" {{
      source = "./legacy"
      count  = 1
      region = "eu-west-1"
      prefix = module.x.name
    }}
    module "x" {{
      source    = "./legacy"
      region    = "eu-west-1"
      prefix    = "x"
      providers = {{ {passed} }}
    }}
    module "plain" {{
      source = "./plain"
      prefix = "p"
    }}
    """
    found = declare(tmp_path, root)
    assert [t.address for t in found.tables] == ["module.plain.aws_dynamodb_table.t"]
    skipped = {entry.address: entry.reason for entry in found.not_evaluated}
    assert sorted(skipped) == ["module.reader", "module.x"]
    assert "Cannot override provider configuration" in skipped["module.x"]
    assert f"configuration for {passed.split(' =')[0]} (legacy/main.tf:" in skipped["module.x"]


def test_a_providers_map_naming_an_alias_nobody_configures_is_not_evaluated(tmp_path: Path) -> None:
    """``providers = { aws = aws.replica }`` without a ``provider "aws" { alias = "replica" }``
    block: Terraform refuses the configuration ("missing provider", checked with terraform
    validate 1.11.4, in the root and in a child that was not passed the alias). The call's
    tables used to fall back to the default provider: a table read in the root's region, in
    silence (the tenth survey's regional module calls). Now the call is not evaluated, with the
    reason; a call passing an alias that exists, or one passed in, is unchanged."""
    root = """
    module "east" {
      source    = "./plain"
      prefix    = "east"
      providers = { aws = aws }
    }
    module "west" {
      source    = "./plain"
      prefix    = "west"
      providers = { aws = aws.west }
    }
    module "replica" {
      source    = "./plain"
      prefix    = "replica"
      providers = { aws = aws.replica }
    }
    module "table" {
      source            = "cloudposse/dynamodb/aws"
      version           = "0.37.0"
      name              = "cp"
      hash_key          = "id"
      enable_autoscaler = false
      providers         = { aws = aws.replica }
    }
    module "mid" {
      source    = "./mid"
      providers = { aws.x = aws.west }
    }
    """
    mid = """
    terraform {
      required_providers {
        aws = {
          source                = "hashicorp/aws"
          configuration_aliases = [aws.x]
        }
      }
    }
    module "ok" {
      source    = "../plain"
      prefix    = "ok"
      providers = { aws = aws.x }
    }
    module "bad" {
      source    = "../plain"
      prefix    = "bad"
      providers = { aws = aws.y }
    }
    """
    found = declare(tmp_path, root, {"mid/main.tf": mid})
    assert found.errors == []
    assert {t.address: t.spec.region for t in found.tables} == {
        "module.east.aws_dynamodb_table.t": "us-east-1",
        "module.west.aws_dynamodb_table.t": "us-west-2",
        "module.mid.module.ok.aws_dynamodb_table.t": "us-west-2",
    }
    skipped = {entry.address: entry.reason for entry in found.not_evaluated}
    assert sorted(skipped) == ["module.mid.module.bad", "module.replica", "module.table"]
    assert "missing provider" in skipped["module.replica"]
    assert "passes aws.replica, which the root module does not configure" in skipped["module.replica"]
    assert "passes aws.y, which module module.mid does not configure" in skipped["module.mid.module.bad"]


# --- the pure decisions ----------------------------------------------------------------------

WHERE = SourceLocation("m/main.tf", 3)
ROOT = ProviderConfig("us-east-1", {"Root": "yes"})
WEST = ProviderConfig("us-west-2", None)
OWN = ProviderConfig("eu-west-1", None)
EMPTY = ProviderConfig(None, None)


def test_resolve_precedence() -> None:
    configured = {None: OwnProvider(OWN, True, WHERE)}
    empty = {None: OwnProvider(EMPTY, False, WHERE)}
    assert providers.resolve(ROOT, {}, {}) == {None: ROOT}
    assert providers.resolve(ROOT, {}, configured) == {None: OWN}
    assert providers.resolve(ROOT, {}, empty) == {None: EMPTY}  # not the inherited default
    assert providers.resolve(ROOT, {None: WEST}, empty) == {None: WEST}  # a proxy block
    assert providers.resolve(ROOT, {"x": WEST}, {}) == {None: ROOT, "x": WEST}
    assert providers.resolve(None, {}, {}) == {}


def test_is_configured_and_overridden() -> None:
    assert not providers.is_configured([], 0)
    assert not providers.is_configured(["alias"], 0)
    assert providers.is_configured(["alias", "region"], 0)
    assert providers.is_configured(["version"], 0)
    assert providers.is_configured([], 1)  # default_tags {} is content
    own = {None: OwnProvider(OWN, True, WHERE), "e": OwnProvider(EMPTY, False, WHERE)}
    assert providers.overridden(own, {None, "e", "z"}) == ["aws"]
    assert providers.first_configured(own) == WHERE
    assert providers.first_configured({"e": OwnProvider(EMPTY, False, WHERE)}) is None


def test_a_provider_block_terraform_refuses_is_an_error_never_a_silent_choice(tmp_path: Path) -> None:
    """Two default blocks in one module (terraform validate: "Duplicate provider configuration")
    and a non-literal alias ("Variables not allowed") are errors at their line, once however
    many instances the module has. The non-literal alias used to be read as the default and
    replace it: the module's tables were read in the alias' region, silently."""
    legacy = (
        'variable "prefix" {}\nvariable "a" {\n  default = "x"\n}\n'
        'provider "aws" {\n  region = "eu-west-1"\n}\n'
        'provider "aws" {\n  region = "eu-north-1"\n}\n'
        'provider "aws" {\n  alias  = var.a\n  region = "ap-south-1"\n}\n' + TABLE
    )
    root = "".join(f'module "{name}" {{\n  source = "./dup"\n  prefix = "{name}"\n}}\n' for name in "mn")
    result = declare(tmp_path, root, {"dup/main.tf": legacy})
    assert sorted((e.file, e.line, e.message.split(":")[0]) for e in result.errors) == [
        ("dup/main.tf", 8, "Duplicate provider configuration"),
        ("dup/main.tf", 11, "the provider's alias must be a literal name"),
    ]
    assert {t.address: t.spec.region for t in result.tables} == {
        "module.m.aws_dynamodb_table.t": "eu-west-1",
        "module.n.aws_dynamodb_table.t": "eu-west-1",
    }
