"""Which AWS account each declared table is bound to by its ``provider "aws"`` block.

``assume_role`` (and ``assume_role_with_web_identity``) put the provider in the role's account;
``allowed_account_ids`` / ``forbidden_account_ids`` make Terraform refuse any other. The binding
reaches each table exactly as the provider's region does: aliases, ``provider = aws.x``, module
``providers`` maps and the default provider children inherit. A value that cannot be evaluated
is Unknown: shown (inspect, unresolved), never checked. The pure decisions of
driftwatch.accounts are tested at the end; the scans against moto in test_provider_accounts_scan.
"""

from __future__ import annotations

import json
import textwrap
from io import StringIO
from pathlib import Path

import pytest
from realestate import table_tf, target, write_repo

from driftwatch import accounts
from driftwatch.report.inspect import render_inspect
from driftwatch.scan import DeclaredSet, declare
from driftwatch.spec import AccountBinding, DeclaredTable, Unknown
from driftwatch.terraform.parse import ParseCache

ROLE_B = "arn:aws:iam::222222222222:role/terraform"
ROLE_C = "arn:aws:iam::333333333333:role/terraform"


def declared(tmp_path: Path, files: dict[str, str]) -> DeclaredSet:
    repo = write_repo(tmp_path / "repo", {k: textwrap.dedent(v) for k, v in files.items()})
    return declare([target(repo)], ParseCache())


def tables(found: DeclaredSet) -> dict[str, DeclaredTable]:
    assert not found.errors and not found.early, (found.errors, found.early)
    return {job.table.address: job.table for job in found.jobs}


def bindings(tmp_path: Path, files: dict[str, str]) -> dict[str, AccountBinding | None]:
    return {address: table.account for address, table in tables(declared(tmp_path, files)).items()}


def test_a_table_without_account_settings_is_bound_to_no_account(tmp_path: Path) -> None:
    files = {"main.tf": 'provider "aws" {\n  region = "us-east-1"\n}\n' + table_tf("orders")}
    assert bindings(tmp_path, files) == {"aws_dynamodb_table.orders": None}


def test_default_provider_assume_role_binds_its_tables(tmp_path: Path) -> None:
    files = {
        "main.tf": f"""
        provider "aws" {{
          assume_role {{
            role_arn = "{ROLE_B}"
          }}
        }}
        """
        + table_tf("orders")
    }
    assert bindings(tmp_path, files) == {
        "aws_dynamodb_table.orders": AccountBinding("aws", "222222222222", "assume_role")
    }


def test_an_alias_binds_only_the_tables_that_name_it(tmp_path: Path) -> None:
    files = {
        "main.tf": f"""
        provider "aws" {{}}
        provider "aws" {{
          alias = "prod"
          assume_role {{
            role_arn = "{ROLE_B}"
          }}
        }}
        """
        + table_tf("orders")
        + table_tf("prod-orders").replace("{\n", "{\n  provider = aws.prod\n", 1)
    }
    assert bindings(tmp_path, files) == {
        "aws_dynamodb_table.orders": None,
        "aws_dynamodb_table.prod_orders": AccountBinding("aws.prod", "222222222222", "assume_role"),
    }


def test_modules_get_the_binding_through_providers_maps_and_inheritance(tmp_path: Path) -> None:
    files = {
        "main.tf": f"""
        provider "aws" {{
          assume_role {{
            role_arn = "{ROLE_C}"
          }}
        }}
        provider "aws" {{
          alias = "prod"
          assume_role {{
            role_arn = "{ROLE_B}"
          }}
        }}
        module "inherits" {{
          source = "./modules/table"
          name   = "a"
        }}
        module "mapped" {{
          source    = "./modules/table"
          name      = "b"
          providers = {{ aws = aws.prod }}
        }}
        module "outer" {{
          source    = "./modules/outer"
          providers = {{ aws = aws.prod }}
        }}
        """,
        "modules/table/main.tf": """
        variable "name" {}
        resource "aws_dynamodb_table" "t" {
          name         = var.name
          billing_mode = "PAY_PER_REQUEST"
          hash_key     = "id"
          attribute {
            name = "id"
            type = "S"
          }
        }
        """,
        "modules/outer/main.tf": """
        module "inner" {
          source = "../table"
          name   = "c"
        }
        """,
    }
    prod = AccountBinding("aws.prod", "222222222222", "assume_role")
    assert bindings(tmp_path, files) == {
        "module.inherits.aws_dynamodb_table.t": AccountBinding("aws", "333333333333", "assume_role"),
        "module.mapped.aws_dynamodb_table.t": prod,
        "module.outer.module.inner.aws_dynamodb_table.t": prod,  # inherited from the mapped default
    }


def test_an_alias_passed_under_an_alias_name(tmp_path: Path) -> None:
    files = {
        "main.tf": f"""
        provider "aws" {{}}
        provider "aws" {{
          alias = "prod"
          assume_role {{
            role_arn = "{ROLE_B}"
          }}
        }}
        module "m" {{
          source    = "./m"
          providers = {{ aws = aws, aws.target = aws.prod }}
        }}
        """,
        "m/main.tf": table_tf("x").replace("{\n", "{\n  provider = aws.target\n", 1) + table_tf("y"),
    }
    assert bindings(tmp_path, files) == {
        "module.m.aws_dynamodb_table.x": AccountBinding("aws.prod", "222222222222", "assume_role"),
        "module.m.aws_dynamodb_table.y": None,
    }


def test_cloudposse_module_uses_the_providers_its_call_passes(tmp_path: Path) -> None:
    """The emulated cloudposse/dynamodb module used the caller's default provider, whatever the
    call's ``providers`` map said: its table was read in the default provider's region (a
    "missing" false alarm) -- and now would be in the wrong account."""
    files = {
        "main.tf": f"""
        provider "aws" {{
          region = "us-east-1"
        }}
        provider "aws" {{
          alias  = "west"
          region = "us-west-2"
          assume_role {{
            role_arn = "{ROLE_B}"
          }}
        }}
        module "orders" {{
          source    = "cloudposse/dynamodb/aws"
          version   = "0.37.0"
          name      = "orders"
          hash_key  = "id"
          enable_autoscaler = false
          providers = {{ aws = aws.west }}
        }}
        """
    }
    repo = write_repo(tmp_path / "repo", {k: textwrap.dedent(v) for k, v in files.items()})
    found = declare([target(repo, region=None)], ParseCache())
    (job,) = found.jobs
    assert job.region == "us-west-2"
    assert job.table.account == AccountBinding("aws.west", "222222222222", "assume_role")


def test_allowed_and_forbidden_account_ids(tmp_path: Path) -> None:
    files = {
        "main.tf": """
        provider "aws" {
          allowed_account_ids = ["111111111111", 222222222222]
        }
        provider "aws" {
          alias                 = "f"
          forbidden_account_ids = toset(["444444444444"])
        }
        provider "aws" {
          alias               = "empty"
          allowed_account_ids = []
        }
        """
        + table_tf("a")
        + table_tf("f").replace("{\n", "{\n  provider = aws.f\n", 1)
        + table_tf("e").replace("{\n", "{\n  provider = aws.empty\n", 1)
    }
    assert bindings(tmp_path, files) == {
        "aws_dynamodb_table.a": AccountBinding("aws", allowed=frozenset({"111111111111", "222222222222"})),
        "aws_dynamodb_table.f": AccountBinding("aws.f", forbidden=frozenset({"444444444444"})),
        "aws_dynamodb_table.e": None,  # an empty list checks nothing, as in the provider
    }


def test_role_chains_web_identity_empty_arns_and_dynamic_blocks(tmp_path: Path) -> None:
    files = {
        "main.tf": f"""
        variable "roles" {{
          default = ["{ROLE_C}", "{ROLE_B}"]
        }}
        provider "aws" {{
          alias = "chain"
          assume_role {{
            role_arn = "{ROLE_C}"
          }}
          assume_role {{
            role_arn = "{ROLE_B}"
          }}
        }}
        provider "aws" {{
          alias = "web"
          assume_role_with_web_identity {{
            role_arn = "{ROLE_C}"
          }}
        }}
        provider "aws" {{
          alias = "web_then_role"
          assume_role_with_web_identity {{
            role_arn = "{ROLE_C}"
          }}
          assume_role {{
            role_arn = "{ROLE_B}"
          }}
        }}
        provider "aws" {{
          alias = "empty"
          assume_role {{
            role_arn = ""
          }}
        }}
        provider "aws" {{
          alias = "dyn"
          dynamic "assume_role" {{
            for_each = var.roles
            content {{
              role_arn = assume_role.value
            }}
          }}
        }}
        """
        + "".join(
            table_tf(alias).replace("{\n", f"{{\n  provider = aws.{alias}\n", 1)
            for alias in ("chain", "web", "web_then_role", "empty", "dyn")
        )
    }
    found = bindings(tmp_path, files)
    assert found == {
        "aws_dynamodb_table.chain": AccountBinding("aws.chain", "222222222222"),
        "aws_dynamodb_table.web": AccountBinding("aws.web", "333333333333", "assume_role_with_web_identity"),
        "aws_dynamodb_table.web_then_role": AccountBinding("aws.web_then_role", "222222222222"),
        "aws_dynamodb_table.empty": None,
        "aws_dynamodb_table.dyn": AccountBinding("aws.dyn", "222222222222"),
    }


def test_what_cannot_be_evaluated_is_unknown_shown_and_not_checked(tmp_path: Path) -> None:
    files = {
        "main.tf": """
        data "aws_caller_identity" "me" {}
        variable "ids" {
          type = list(string)
        }
        provider "aws" {
          assume_role {
            role_arn = "arn:aws:iam::${data.aws_caller_identity.me.account_id}:role/terraform"
          }
        }
        provider "aws" {
          alias = "bad"
          assume_role {
            role_arn = "not-an-arn"
          }
        }
        provider "aws" {
          alias               = "list"
          allowed_account_ids = var.ids
        }
        """
        + table_tf("a")
        + table_tf("b").replace("{\n", "{\n  provider = aws.bad\n", 1)
        + table_tf("c").replace("{\n", "{\n  provider = aws.list\n", 1)
    }
    found = tables(declared(tmp_path, files))
    for address, table in found.items():
        binding = table.account
        assert binding is not None, address
        assert not accounts.checkable(binding), address
        assert accounts.problem(binding, "111111111111", "x") is None  # never a false alarm
        notes = [n for n in table.notes if n.attribute == "account"]
        assert len(notes) == 1 and "the account is not checked" in notes[0].reason, (address, table.notes)
    assert isinstance(found["aws_dynamodb_table.a"].account.assumed, Unknown)  # type: ignore[union-attr]
    assert "not an IAM role ARN" in found["aws_dynamodb_table.b"].notes[-1].reason
    assert isinstance(found["aws_dynamodb_table.c"].account.allowed, Unknown)  # type: ignore[union-attr]


def test_a_target_whose_providers_read_with_different_credentials_says_so(tmp_path: Path) -> None:
    """Terraform reads a table whose provider sets ``profile`` (or keys, or credential files)
    with those credentials, in whichever account they are; driftwatch reads every table of a
    target with the target's. With ``aws`` on profile "dev" and ``aws.prod`` on "prod", some
    tables were compared with another account's same-named table, and nothing said so. Now such
    tables list ``account`` unresolved, unless the provider's account is checked anyway (a
    role, allowed_account_ids). Keys and tokens are named, never shown."""
    files = {
        "main.tf": f"""
        variable "profile" {{
          type    = string
          default = null
        }}
        provider "aws" {{
          profile = "dev"
        }}
        provider "aws" {{
          alias      = "keys"
          access_key = "AKIAEXAMPLEKEY000000"
          secret_key = "s3cr3t-value-never-shown"
        }}
        provider "aws" {{
          alias   = "unset"
          profile = var.profile
          shared_credentials_files = []
        }}
        provider "aws" {{
          alias               = "checked"
          profile             = "prod"
          allowed_account_ids = ["123456789012"]
        }}
        provider "aws" {{
          alias   = "role"
          profile = "prod"
          assume_role {{
            role_arn = "{ROLE_B}"
          }}
        }}
        """
        + table_tf("a")
        + table_tf("b").replace("{\n", "{\n  provider = aws.keys\n", 1)
        + table_tf("c").replace("{\n", "{\n  provider = aws.unset\n", 1)
        + table_tf("d").replace("{\n", "{\n  provider = aws.checked\n", 1)
        + table_tf("e").replace("{\n", "{\n  provider = aws.role\n", 1)
    }
    found = declared(tmp_path, files)
    by_address = tables(found)
    notes = {
        address.rsplit(".", 1)[1]: [n.reason for n in table.notes if n.attribute == "account"]
        for address, table in by_address.items()
    }
    assert notes["a"] == [
        'provider aws reads with its own credentials (profile "dev"), other tables of this target '
        'with others (access_key, secret_key; profile "prod"; the environment\'s): driftwatch reads '
        "all of them with the target's, so the account is not checked (set allowed_account_ids in "
        "each provider block, or split the tables into targets with their own role_arn)"
    ]
    assert len(notes["b"]) == 1 and "(access_key, secret_key)" in notes["b"][0]
    assert notes["c"] == notes["d"] == notes["e"] == []  # null and empty choose nothing; d, e checked
    assert by_address["aws_dynamodb_table.c"].account is None
    for letter in "ab":
        binding = by_address[f"aws_dynamodb_table.{letter}"].account
        assert binding is not None and not accounts.checkable(binding)  # no GetCallerIdentity for it
        assert accounts.problem(binding, "111111111111", "x") is None  # never a false alarm
    out = StringIO()
    render_inspect(found, "json", out)
    render_inspect(found, "text", out)
    assert "s3cr3t" not in out.getvalue() and "AKIAEXAMPLEKEY" not in out.getvalue()
    assert 'provider aws (profile "dev")' in out.getvalue()


def test_one_choice_of_credentials_for_the_whole_target_is_not_noted(tmp_path: Path) -> None:
    """The usual root: one provider on one profile (or keys), for local runs. The target is
    configured for that account, as for a root without any: nothing is noted."""
    files = {
        "main.tf": 'provider "aws" {\n  profile = "prod"\n}\n'
        'provider "aws" {\n  alias   = "west"\n  region  = "us-west-2"\n  profile = "prod"\n}\n'
        + table_tf("a")
        + table_tf("b").replace("{\n", "{\n  provider = aws.west\n", 1)
    }
    found = tables(declared(tmp_path, files))
    assert {address: table.notes for address, table in found.items()} == {
        "aws_dynamodb_table.a": (),
        "aws_dynamodb_table.b": (),
    }


def test_a_profile_written_as_a_number_is_the_same_choice_as_its_string(tmp_path: Path) -> None:
    """The provider's ``profile`` is a string: Terraform converts ``123`` to ``"123"``, one
    choice of credentials. driftwatch compared the values as written and noted two."""
    files = {
        "main.tf": 'provider "aws" {\n  profile = 123\n}\n'
        'provider "aws" {\n  alias   = "west"\n  region  = "us-west-2"\n  profile = "123"\n}\n'
        + table_tf("a")
        + table_tf("b").replace("{\n", "{\n  provider = aws.west\n", 1)
    }
    found = tables(declared(tmp_path / "same", files))
    assert {address: table.notes for address, table in found.items()} == {
        "aws_dynamodb_table.a": (),
        "aws_dynamodb_table.b": (),
    }
    other = {"main.tf": files["main.tf"].replace('profile = "123"', 'profile = "124"')}
    found = tables(declared(tmp_path / "other", other))
    assert [note.attribute for note in found["aws_dynamodb_table.b"].notes] == ["account"]


def test_inspect_shows_the_binding(tmp_path: Path) -> None:
    files = {
        "main.tf": f"""
        provider "aws" {{
          alias = "prod"
          assume_role {{
            role_arn = "{ROLE_B}"
          }}
        }}
        provider "aws" {{
          alias = "bad"
          assume_role {{
            role_arn = "not-an-arn"
          }}
        }}
        """
        + table_tf("orders").replace("{\n", "{\n  provider = aws.prod\n", 1)
        + table_tf("other").replace("{\n", "{\n  provider = aws.bad\n", 1)
    }
    found = declared(tmp_path, files)
    out = StringIO()
    render_inspect(found, "json", out)
    payload = {t["address"]: t for t in json.loads(out.getvalue())["tables"]}
    assert payload["aws_dynamodb_table.orders"]["account"] == {
        "provider": "aws.prod",
        "assumed": "222222222222",
        "via": "assume_role",
        "allowed": None,
        "forbidden": None,
        "credentials": [],
        "credentials_choice": 0,
    }
    assert payload["aws_dynamodb_table.other"]["account"]["assumed"] == {
        "unknown": "assume_role.role_arn 'not-an-arn' is not an IAM role ARN"
    }
    out = StringIO()
    render_inspect(found, "text", out)
    text = " ".join(out.getvalue().split())
    assert "provider aws.prod (assume_role 222222222222)" in text
    assert "not an IAM role ARN; the account is not checked" in text


# --------------------------------------------------------------------------- the pure decisions


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        (ROLE_B, "222222222222"),
        ("arn:aws-cn:iam::222222222222:role/path/to/r", "222222222222"),
        ("arn:aws:iam::22222222222:role/r", None),  # 11 digits
        ("arn:aws:iam::2222222222222:role/r", None),
        ("arn:aws:iam::22222222222x:role/r", None),
        ("arn:aws:iam::222222222222:user/r", None),
        ("arn:aws:sts::222222222222:role/r", None),
        ("arn:aws:iam::٢٢٢٢٢٢٢٢٢٢٢٢:role/r", None),  # not ASCII digits
        ("", None),
    ],
)
def test_role_account(arn: str, account: str | None) -> None:
    assert accounts.role_account(arn) == account


def test_problem_names_the_account_declared_the_one_read_and_the_fix() -> None:
    binding = AccountBinding("aws.prod", "222222222222", "assume_role")
    assert accounts.problem(binding, "222222222222", "the target's role_arn") is None
    assert accounts.problem(binding, "111111111111", "its base credentials") == (
        "declared for account 222222222222 (provider aws.prod, assume_role), but driftwatch reads "
        "account 111111111111 (its base credentials): give the target a role_arn in 222222222222"
    )
    allowed = AccountBinding("aws", allowed=frozenset({"333333333333", "222222222222"}))
    assert accounts.problem(allowed, "222222222222", "x") is None
    assert "declared for accounts 222222222222, 333333333333 (provider aws, allowed_account_ids)" in str(
        accounts.problem(allowed, "111111111111", "x")
    )
    forbidden = AccountBinding("aws", forbidden=frozenset({"111111111111"}))
    assert accounts.problem(forbidden, "222222222222", "x") is None
    assert "(provider aws, forbidden_account_ids)" in str(accounts.problem(forbidden, "111111111111", "x"))
    # The role decides first, as in the provider; the lists are checked against the same account.
    both = AccountBinding("aws", "222222222222", allowed=frozenset({"333333333333"}))
    assert "assume_role" in str(accounts.problem(both, "111111111111", "x"))
    assert "allowed_account_ids" in str(accounts.problem(both, "222222222222", "x"))


def test_account_set_accepts_only_lists_of_ids() -> None:
    assert accounts.account_set(None, "a") is None
    assert accounts.account_set([], "a") is None
    assert accounts.account_set(["1", 2], "a") == frozenset({"1", "2"})
    assert isinstance(accounts.account_set("111111111111", "a"), Unknown)
    assert isinstance(accounts.account_set([True], "a"), Unknown)
    assert isinstance(accounts.account_set([{"x": 1}], "a"), Unknown)
    assert isinstance(accounts.account_set([Unknown("x")], "a"), Unknown)


def test_providers_with_different_keys_or_unshown_profiles_are_different_credentials(tmp_path: Path) -> None:
    """Keys are named, never shown, and so is a profile too long or unprintable to show: two
    providers with different static keys (or two such profiles) looked like one choice of
    credentials, so a root spanning two accounts that way said nothing. They are now told apart
    by their values, which are never shown; the same keys (one variable) are still one choice."""
    long_a, long_b = "a" * 70, "b" * 70
    files = {
        "main.tf": f"""
        variable "dev_key" {{
          default = "AKIADEVKEY0000000000"
        }}
        provider "aws" {{
          access_key = var.dev_key
          secret_key = "dev-s3cr3t"
        }}
        provider "aws" {{
          alias      = "same"
          region     = "us-west-2"
          access_key = var.dev_key
          secret_key = "dev-s3cr3t"
        }}
        provider "aws" {{
          alias      = "prod"
          access_key = "AKIAPRODKEY000000000"
          secret_key = "prod-s3cr3t"
        }}
        provider "aws" {{
          alias   = "long_a"
          profile = "{long_a}"
        }}
        provider "aws" {{
          alias   = "long_b"
          profile = "{long_b}"
        }}
        """
        + table_tf("a")
        + table_tf("b").replace("{\n", "{\n  provider = aws.same\n", 1)
        + table_tf("c").replace("{\n", "{\n  provider = aws.prod\n", 1)
    }
    found = declared(tmp_path, files)
    noted = {
        address.rsplit(".", 1)[1]
        for address, table in tables(found).items()
        if any(n.attribute == "account" for n in table.notes)
    }
    assert noted == {"a", "b", "c"}
    only_long = {
        "main.tf": files["main.tf"]
        .replace("provider = aws.same", "provider = aws.long_a")
        .replace("provider = aws.prod", "provider = aws.long_b")
    }
    only_long["main.tf"] = only_long["main.tf"].replace(table_tf("a"), "")
    found_long = declared(tmp_path / "long", only_long)
    assert all(any(n.attribute == "account" for n in table.notes) for table in tables(found_long).values()), (
        tables(found_long)
    )
    out = StringIO()
    render_inspect(found, "json", out)
    render_inspect(found, "text", out)
    for secret in ("s3cr3t", "AKIADEVKEY", "AKIAPRODKEY", long_a):
        assert secret not in out.getvalue()
