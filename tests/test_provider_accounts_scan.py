"""Tables declared for another AWS account are never compared with the account driftwatch reads.

End to end against moto, whose default account is 123456789012 and whose STS answers
GetCallerIdentity and AssumeRole into any account id of the role ARN (credentials from such a
role act in that account). A table whose provider binds it to another account than the one its
target reads is an error row with the reason, and is not read (no DescribeTable); every other
table is compared as before; a target without any binding makes exactly the calls it made
before (4 per table + 2 per region, no sts:GetCallerIdentity).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.handlers
import pytest
from realestate import account_clients, provision, row, run_scan, table_tf, target, write_repo

from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.aws.clients import AwsClients
from driftwatch.spec import TableStatus

MOTO_ACCOUNT = "123456789012"
OTHER = "222222222222"
ROLE_OTHER = f"arn:aws:iam::{OTHER}:role/driftwatch-read-only"


def on(provider: str, text: str) -> str:
    """``text`` (a table_tf resource) on ``provider = aws.<provider>``."""
    return text.replace("{\n", f"{{\n  provider = aws.{provider}\n", 1)


def providers(**aliases: str) -> str:
    """The default provider and one alias per keyword, each with the given body."""
    blocks = ['provider "aws" {\n  region = "us-east-1"\n}\n']
    for alias, body in aliases.items():
        blocks.append(f'provider "aws" {{\n  alias  = "{alias}"\n  region = "us-east-1"\n{body}}}\n')
    return "".join(blocks)


def assume(account: str) -> str:
    return f'  assume_role {{\n    role_arn = "arn:aws:iam::{account}:role/terraform"\n  }}\n'


def add_botocore_handler(monkeypatch: pytest.MonkeyPatch, event: str, handler: Callable[..., Any]) -> None:
    monkeypatch.setattr(
        botocore.handlers, "BUILTIN_HANDLERS", [*botocore.handlers.BUILTIN_HANDLERS, (event, handler)]
    )


def described(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The table names of every DescribeTable driftwatch sends from now on."""
    names: list[str] = []
    add_botocore_handler(
        monkeypatch,
        "before-parameter-build.dynamodb.DescribeTable",
        lambda params, **_: names.append(params["TableName"]),
    )
    return names


def calls(recorder: ApiCallRecorder) -> dict[str, int]:
    counts: dict[str, int] = {}
    for (operation, _), count in recorder.snapshot().items():
        counts[operation] = counts.get(operation, 0) + count
    return counts


def scan_repo(tmp_path: Path, main_tf: str, **fields: Any) -> tuple[Any, ApiCallRecorder]:
    repo = write_repo(tmp_path / "repo", {"main.tf": main_tf})
    t = target(repo, **fields)
    provision([t])  # in moto's default account, as the base credentials see it
    recorder = ApiCallRecorder()
    return run_scan([t], AwsClients(recorder=recorder)), recorder


def test_a_table_declared_for_the_account_read_is_compared(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = described(monkeypatch)
    tf = providers(same=assume(MOTO_ACCOUNT)) + on("same", table_tf("acme-orders"))
    report, recorder = scan_repo(tmp_path, tf)
    assert row(report, "acme-orders").status == TableStatus.IN_SYNC
    assert names == ["acme-orders"]
    assert calls(recorder)["GetCallerIdentity"] == 1
    assert not report.errors


def test_a_table_declared_for_another_account_is_an_error_and_not_read(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = described(monkeypatch)
    tf = (
        providers(prod=assume(OTHER), same=assume(MOTO_ACCOUNT))
        + on("prod", table_tf("acme-orders"))
        + table_tf("acme-users")
        + on("same", table_tf("acme-carts"))
    )
    report, recorder = scan_repo(tmp_path, tf)
    orders = row(report, "acme-orders")
    assert orders.status == TableStatus.ERROR
    assert orders.error == (
        f"declared for account {OTHER} (provider aws.prod, assume_role), but driftwatch reads account "
        f"{MOTO_ACCOUNT} (its base credentials, by sts:GetCallerIdentity): give the target a role_arn "
        f"in {OTHER}"
    )
    assert row(report, "acme-users").status == TableStatus.IN_SYNC
    assert row(report, "acme-carts").status == TableStatus.IN_SYNC
    assert sorted(names) == ["acme-carts", "acme-users"]  # the other account's table: never asked for
    counted = calls(recorder)
    assert counted["GetCallerIdentity"] == 1  # one per scan, however many bound tables
    assert counted["DescribeTable"] == 2


def test_the_target_role_decides_the_account_without_a_call(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target with role_arn reads the role's account: a table declared there is compared, one
    declared for the base account is the error; no GetCallerIdentity is needed."""
    names = described(monkeypatch)
    tf = (
        providers(prod=assume(OTHER), base=assume(MOTO_ACCOUNT))
        + on("prod", table_tf("acme-orders"))
        + on("base", table_tf("acme-users"))
    )
    repo = write_repo(tmp_path / "repo", {"main.tf": tf})
    t = target(repo, role_arn=ROLE_OTHER)
    provision([t], {"prod": account_clients(OTHER)})
    recorder = ApiCallRecorder()
    report = run_scan([t], AwsClients(recorder=recorder))
    assert row(report, "acme-orders").status == TableStatus.IN_SYNC
    users = row(report, "acme-users")
    assert users.status == TableStatus.ERROR
    assert users.error is not None and users.error.startswith(
        f"declared for account {MOTO_ACCOUNT} (provider aws.base, assume_role), but driftwatch reads "
        f"account {OTHER} (the target's role_arn)"
    )
    assert names == ["acme-orders"]
    assert "GetCallerIdentity" not in calls(recorder)


@pytest.mark.parametrize(
    ("setting", "status"),
    [
        (f'  allowed_account_ids = ["{OTHER}"]\n', TableStatus.ERROR),
        (f'  allowed_account_ids = ["{OTHER}", "{MOTO_ACCOUNT}"]\n', TableStatus.IN_SYNC),
        (f'  forbidden_account_ids = ["{MOTO_ACCOUNT}"]\n', TableStatus.ERROR),
        (f'  forbidden_account_ids = ["{OTHER}"]\n', TableStatus.IN_SYNC),
    ],
)
def test_allowed_and_forbidden_account_ids(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, status: TableStatus
) -> None:
    names = described(monkeypatch)
    report, _ = scan_repo(tmp_path, providers(listed=setting) + on("listed", table_tf("acme-orders")))
    found = row(report, "acme-orders")
    assert found.status == status, found
    if status == TableStatus.ERROR:
        assert found.error is not None and "_account_ids), but driftwatch reads account" in found.error
        assert names == []
    else:
        assert names == ["acme-orders"]


def test_a_role_arn_that_cannot_be_evaluated_is_compared_and_shown(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tf = (
        'data "aws_caller_identity" "me" {}\n'
        + providers(prod=assume("${data.aws_caller_identity.me.account_id}"))
        + on("prod", table_tf("acme-orders"))
    )
    report, recorder = scan_repo(tmp_path, tf)
    found = row(report, "acme-orders")
    assert found.status == TableStatus.IN_SYNC
    assert [u.attribute for u in found.unresolved] == ["account"]
    assert "GetCallerIdentity" not in calls(recorder)  # nothing to check it against


def test_a_target_without_bindings_makes_the_calls_it_made_before(embedded_aws: None, tmp_path: Path) -> None:
    report, recorder = scan_repo(tmp_path, providers() + table_tf("acme-orders") + table_tf("acme-users"))
    assert {r.status for r in report.tables} == {TableStatus.IN_SYNC}
    counted = calls(recorder)
    assert "GetCallerIdentity" not in counted
    assert sum(counted.values()) == 4 * 2 + 2  # 4 per table, 2 per region


@pytest.mark.parametrize(
    "answer", [{}, {"Account": "12345"}, {"Account": 123456789012}, {"Account": "x" * 12}]
)
def test_an_identity_answer_that_is_not_an_account_fails_only_the_bound_tables(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: dict[str, Any]
) -> None:
    def garbage(parsed: dict[str, Any], **_: Any) -> None:
        parsed.pop("Account", None)
        parsed.update(answer)

    add_botocore_handler(monkeypatch, "after-call.sts.GetCallerIdentity", garbage)
    names = described(monkeypatch)
    tf = providers(prod=assume(MOTO_ACCOUNT)) + on("prod", table_tf("acme-orders")) + table_tf("acme-users")
    report, _ = scan_repo(tmp_path, tf)
    orders = row(report, "acme-orders")
    assert orders.status == TableStatus.ERROR
    assert orders.error is not None
    assert orders.error.startswith("cannot tell which account driftwatch reads (GetCallerIdentity failed")
    assert "InvalidResponse" in orders.error and "Account" in orders.error
    assert orders.error.endswith(
        f"the table is declared for provider aws.prod (assume_role {MOTO_ACCOUNT}), so it is not compared"
    )
    assert row(report, "acme-users").status == TableStatus.IN_SYNC
    assert names == ["acme-users"]


def test_unmanaged_discovery_is_not_misled_by_another_accounts_declaration(
    embedded_aws: None, tmp_path: Path
) -> None:
    """``acme-orders`` declared for account 222222222222 says nothing about the account read:
    the same-named live table there, declared by nobody for it, is unmanaged. The error row of
    the foreign table does not make this account's declarations incomplete either."""
    repo = write_repo(
        tmp_path / "repo",
        {
            "main.tf": providers(prod=assume(OTHER))
            + table_tf("acme-users")
            + on("prod", table_tf("acme-orders"))
        },
    )
    t = target(repo, unmanaged_prefixes=("acme-",))
    provision([t])  # both tables exist in the account read (moto's)
    report = run_scan([t], AwsClients())
    statuses = {(r.table_name, r.status) for r in report.tables}
    assert statuses == {
        ("acme-users", TableStatus.IN_SYNC),
        ("acme-orders", TableStatus.ERROR),
        ("acme-orders", TableStatus.UNMANAGED),
    }
    assert not report.errors, report.errors


def test_unmanaged_discovery_counts_tables_held_for_an_unknown_account_as_declared(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the account read cannot be told, a bound table may well be this account's: it is an
    error, and still covers its name (never a false "unmanaged")."""
    add_botocore_handler(monkeypatch, "after-call.sts.GetCallerIdentity", lambda parsed, **_: parsed.clear())
    repo = write_repo(
        tmp_path / "repo",
        {"main.tf": providers(prod=assume(MOTO_ACCOUNT)) + on("prod", table_tf("acme-orders"))},
    )
    t = target(repo, unmanaged_prefixes=("acme-",))
    provision([t])
    report = run_scan([t], AwsClients())
    assert [(r.table_name, r.status) for r in report.tables] == [("acme-orders", TableStatus.ERROR)]


def test_a_hung_identity_call_is_bounded_by_the_scan_deadline(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GetCallerIdentity runs before any table is read, on the scan's deadline like AssumeRole:
    a call that never answers costs the scan its deadline, and the bound tables say why."""
    release = threading.Event()
    held: list[int] = []

    def hang(**_: Any) -> None:
        held.append(1)
        release.wait(60)

    add_botocore_handler(monkeypatch, "before-call.sts.GetCallerIdentity", hang)
    repo = write_repo(
        tmp_path / "repo", {"main.tf": providers(prod=assume(OTHER)) + on("prod", table_tf("acme-orders"))}
    )
    t = target(repo)
    try:
        report = run_scan([t], AwsClients(), scan_timeout=1.5)
    finally:
        release.set()
    assert held == [1]
    assert row(report, "acme-orders").error == (
        "cannot tell which account driftwatch reads (scan deadline of 1.5 s exceeded before "
        "GetCallerIdentity answered); the table is declared for provider aws.prod "
        f"(assume_role {OTHER}), so it is not compared"
    )
    assert report.exit_code == 1


def test_the_identity_is_asked_again_each_scan(embedded_aws: None, tmp_path: Path) -> None:
    """The daemon keeps its AwsClients for ever, while its base credentials may change (a new
    IRSA token, another profile): the account read is asked once per scan, not remembered."""
    repo = write_repo(
        tmp_path / "repo",
        {"main.tf": providers(prod=assume(MOTO_ACCOUNT)) + on("prod", table_tf("acme-orders"))},
    )
    t = target(repo)
    provision([t])
    recorder = ApiCallRecorder()
    clients = AwsClients(recorder=recorder)
    for _ in range(2):
        assert row(run_scan([t], clients), "acme-orders").status == TableStatus.IN_SYNC
    assert calls(recorder)["GetCallerIdentity"] == 2
