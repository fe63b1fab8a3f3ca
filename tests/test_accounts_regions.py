"""Many accounts (``role_arn`` per target) and many regions in one scan, against moto.

moto routes every request by its access key: credentials from AssumeRole into account X act in
account X, so two targets with roles in two accounts see two different sets of tables -- even
tables with the same name -- exactly as in AWS.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from realestate import account_clients, provision, row, run_scan, table_tf, target, write_repo

from driftwatch.aws import responses
from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.aws.clients import AwsClients, Role, role_session_name
from driftwatch.aws.dynamodb import LiveReadError
from driftwatch.aws.responses import INVALID_RESPONSE
from driftwatch.config import ConfigError, parse_config
from driftwatch.demo.provision import create_table
from driftwatch.scan import declare
from driftwatch.spec import TableStatus
from driftwatch.targets import targets_from_config
from driftwatch.terraform.parse import ParseCache

TABLE = "acme-orders"
ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
ROLE_A = f"arn:aws:iam::{ACCOUNT_A}:role/driftwatch-read-only"
ROLE_B = f"arn:aws:iam::{ACCOUNT_B}:role/driftwatch-read-only"


def add_botocore_handler(monkeypatch: pytest.MonkeyPatch, event: str, handler: Callable[..., Any]) -> None:
    """Register ``handler`` on every botocore session created from now on (driftwatch builds one
    per assumed role), the way moto hooks itself in; undone with the monkeypatch."""
    monkeypatch.setattr(
        botocore.handlers, "BUILTIN_HANDLERS", [*botocore.handlers.BUILTIN_HANDLERS, (event, handler)]
    )


@pytest.fixture
def recorder() -> ApiCallRecorder:
    return ApiCallRecorder()


def two_account_repo(tmp_path: Path) -> Path:
    """The same table name in two roots: one per account."""
    return write_repo(
        tmp_path / "repo",
        {"envs/a/main.tf": table_tf(TABLE), "envs/b/main.tf": table_tf(TABLE)},
    )


# --------------------------------------------------------------------------- config and names


def test_role_config_is_validated_and_reaches_the_target(tmp_path: Path) -> None:
    base: dict[str, Any] = {"repo": str(tmp_path)}
    config = parse_config(
        {**base, "targets": [{"name": "a", "root": ".", "role_arn": ROLE_A, "external_id": "acme-drift"}]}
    )
    (found,) = targets_from_config(config, tmp_path)
    assert (found.role_arn, found.external_id) == (ROLE_A, "acme-drift")
    with pytest.raises(ConfigError, match=r"targets\.0\.role_arn: .*not an IAM role ARN"):
        parse_config({**base, "targets": [{"name": "a", "root": ".", "role_arn": "driftwatch-role"}]})
    with pytest.raises(ConfigError, match=r"targets\.0: .*external_id is only used with role_arn"):
        parse_config({**base, "targets": [{"name": "a", "root": ".", "external_id": "acme-drift"}]})


def test_session_names_say_which_target_made_the_call() -> None:
    assert role_session_name("prod") == "driftwatch-prod"
    assert role_session_name("prod eu/1") == "driftwatch-prod-eu-1"
    assert len(role_session_name("x" * 100)) == 64


def test_assume_role_sends_the_session_name_and_external_id(
    aws_env: None, embedded_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    add_botocore_handler(
        monkeypatch, "before-parameter-build.sts.AssumeRole", lambda params, **_: calls.append(dict(params))
    )
    clients = AwsClients()
    clients.dynamodb("us-east-1", Role(ROLE_A, "acme-drift", "driftwatch-prod")).list_tables()
    clients.dynamodb("us-east-1", Role(ROLE_B, None, "driftwatch-dev")).list_tables()
    assert calls == [
        {"RoleArn": ROLE_A, "RoleSessionName": "driftwatch-prod", "ExternalId": "acme-drift"},
        {"RoleArn": ROLE_B, "RoleSessionName": "driftwatch-dev"},
    ]


def test_credentials_are_refreshed_before_they_expire(
    embedded_aws: None, monkeypatch: pytest.MonkeyPatch, recorder: ApiCallRecorder
) -> None:
    """A long daemon life outlasts any STS session: credentials that expire within botocore's
    refresh window are renewed before the next call, never used expired."""
    lifetime = {"value": timedelta(hours=1)}

    def expiring(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Credentials"]["Expiration"] = datetime.now(UTC) + lifetime["value"]

    add_botocore_handler(monkeypatch, "after-call.sts.AssumeRole", expiring)
    clients = AwsClients(recorder=recorder)
    client = clients.dynamodb("us-east-1", ROLE_A)
    for _ in range(3):
        client.list_tables()
    assert recorder.snapshot()[("AssumeRole", "success")] == 1  # an hour left: reused

    lifetime["value"] = timedelta(minutes=5)  # the next session will be inside the refresh window
    client = clients.dynamodb("us-east-1", ROLE_B)
    for _ in range(3):
        client.list_tables()
    # Renewed before every call (botocore reads credentials more than once per call).
    assert recorder.snapshot()[("AssumeRole", "success")] - 1 >= 3


# --------------------------------------------------------------------------- one scan, many accounts


def test_two_accounts_in_one_scan_each_sees_its_own_tables(
    embedded_aws: None, tmp_path: Path, recorder: ApiCallRecorder
) -> None:
    repo = two_account_repo(tmp_path)
    a = target(repo, "a", "envs/a", role_arn=ROLE_A)
    b = target(repo, "b", "envs/b", role_arn=ROLE_B, external_id="acme-drift")
    provision([a, b], {"a": account_clients(ACCOUNT_A), "b": account_clients(ACCOUNT_B)})
    assert boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"] == []

    clients = AwsClients(recorder=recorder)
    report = run_scan([a, b], clients)
    assert [(r.target, r.status) for r in report.tables] == [
        ("a", TableStatus.IN_SYNC),
        ("b", TableStatus.IN_SYNC),
    ]

    ddb_b, _ = account_clients(ACCOUNT_B)
    ddb_b.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    report = run_scan([a, b], clients)
    assert [(r.target, r.status) for r in report.tables] == [
        ("a", TableStatus.IN_SYNC),
        ("b", TableStatus.DRIFTED),
    ]
    assert [d.attribute for d in report.tables[1].drift] == ["point_in_time_recovery"]
    # Per scan: each role assumed at most once (then reused), autoscaling once per (region, role).
    calls = recorder.snapshot()
    assert calls[("AssumeRole", "success")] == 2
    assert calls[("DescribeScalableTargets", "success")] == 2 * 2


def test_a_role_that_cannot_be_assumed_is_an_error_for_its_tables_and_the_rest_goes_on(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorder: ApiCallRecorder
) -> None:
    repo = two_account_repo(tmp_path)
    a = target(repo, "a", "envs/a", role_arn=ROLE_A)
    b = target(repo, "b", "envs/b", role_arn=ROLE_B)
    provision([a, b], {"a": account_clients(ACCOUNT_A), "b": account_clients(ACCOUNT_B)})
    b = target(repo, "b", "envs/b", role_arn=ROLE_B, unmanaged_prefixes=("acme-",))

    def deny(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if params["body"].get("RoleArn") != ROLE_B:  # STS speaks the query protocol: a dict here
            return None
        message = (
            "User: arn:aws:sts::123456789012:assumed-role/driftwatch/pod is not authorized to perform: "
            f"sts:AssumeRole on resource: {ROLE_B}"
        )
        parsed = {
            "Error": {"Code": "AccessDenied", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        return AWSResponse(params["url"], 403, HTTPHeaders(), None), parsed

    add_botocore_handler(monkeypatch, "before-call.sts.AssumeRole", deny)

    report = run_scan([a, b], AwsClients(recorder=recorder))

    by_target = {r.target: r for r in report.tables}
    assert by_target["a"].status is TableStatus.IN_SYNC
    denied = by_target["b"]
    assert denied.status is TableStatus.ERROR
    assert denied.error is not None
    assert denied.error.startswith(
        f"cannot assume role {ROLE_B}: AssumeRole failed in us-east-1: AccessDenied: "
    )
    assert "not authorized to perform: sts:AssumeRole" in denied.error
    assert report.exit_code == 1
    # The denied role cost one AssumeRole; none of its tables or autoscaling was read.
    calls = recorder.snapshot()
    assert calls[("AssumeRole", "AccessDenied")] == 1
    assert calls[("DescribeTable", "success")] == 1
    assert calls[("DescribeScalableTargets", "success")] == 1
    assert "ListTables" not in recorder.operations()
    assert [(e.target, e.message) for e in report.errors] == [
        ("b", f"unmanaged tables could not be listed: {denied.error}")
    ]


def test_an_assume_role_answer_without_credentials_is_an_invalid_response_of_that_role(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorder: ApiCallRecorder
) -> None:
    """STS answers role B with HTTP 200 and no ``Credentials`` (a proxy's page, a truncated
    body): that role's tables were ``unexpected error: KeyError('Credentials')`` and the call a
    success in the metric. It is an InvalidResponse of AssumeRole, named and counted so; the
    other account is read."""
    repo = two_account_repo(tmp_path)
    a = target(repo, "a", "envs/a", role_arn=ROLE_A)
    b = target(repo, "b", "envs/b", role_arn=ROLE_B)
    provision([a, b], {"a": account_clients(ACCOUNT_A), "b": account_clients(ACCOUNT_B)})

    def empty(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if params["body"].get("RoleArn") != ROLE_B:
            return None
        return AWSResponse(params["url"], 200, HTTPHeaders(), None), {"ResponseMetadata": {}}

    add_botocore_handler(monkeypatch, "before-call.sts.AssumeRole", empty)

    report = run_scan([a, b], AwsClients(recorder=recorder))

    by_target = {r.target: r for r in report.tables}
    assert by_target["a"].status is TableStatus.IN_SYNC
    assert by_target["b"].status is TableStatus.ERROR
    assert str(by_target["b"].error).startswith(
        f"cannot assume role {ROLE_B}: AssumeRole failed in us-east-1: InvalidResponse: "
        "the response has no valid Credentials"
    )
    assert report.exit_code == 1
    calls = recorder.snapshot()
    assert calls[("AssumeRole", "InvalidResponse")] == 1
    assert calls[("AssumeRole", "success")] == 1  # role A's


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def _assume_role_expiring(
    monkeypatch: pytest.MonkeyPatch, recorder: ApiCallRecorder, at: str
) -> LiveReadError:
    """The error of assuming a role whose AssumeRole answer (HTTP 200) expires ``at``."""
    body = (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
        "<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>"
        f"<SessionToken>token</SessionToken><Expiration>{at}</Expiration></Credentials>"
        "</AssumeRoleResult></AssumeRoleResponse>"
    )

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, HTTPHeaders(), _Raw(body.encode()))

    add_botocore_handler(monkeypatch, "before-send.sts", answer)
    with pytest.raises(LiveReadError) as caught:
        AwsClients(recorder=recorder, max_attempts=1).assume(Role(ROLE_B), "us-east-1")
    assert recorder.snapshot() == {("AssumeRole", INVALID_RESPONSE): 1}
    return caught.value


def test_assume_role_credentials_already_expired_are_an_invalid_response_of_that_role(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, recorder: ApiCallRecorder
) -> None:
    """STS answers with credentials whose Expiration has passed by this host's clock (a proxy's
    replayed answer; a host clock far ahead). botocore refreshed them, found them still
    expired and raised ``RuntimeError``: the role's tables were ``unexpected error:
    RuntimeError('Credentials were refreshed, but the refreshed credentials are still
    expired.')``, the AssumeRole counted a success. It is an InvalidResponse naming the time
    (a role's failure stays its tables' error: the tests above)."""
    assert str(_assume_role_expiring(monkeypatch, recorder, "2026-01-01T12:00:00Z")) == (
        "AssumeRole failed in us-east-1: InvalidResponse: the response has no valid "
        "Credentials.Expiration (2026-01-01T12:00:00+00:00, already past by this host's clock: is the "
        "clock ahead?) (a truncated, empty or non-JSON answer?); nothing was compared"
    )


def test_assume_role_credentials_that_never_expire_are_an_invalid_response_of_that_role(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, recorder: ApiCallRecorder
) -> None:
    """Credentials said to last until 9999 (a replayed or forged answer) were kept: botocore
    refreshes them only shortly before their Expiration, so once AWS ended the session (an hour
    later: AssumeRole's default, 12 hours at most) every table of the role was ExpiredToken on
    every scan until the daemon restarted. An Expiration past AssumeRole's longest session is
    not its answer."""
    error = _assume_role_expiring(monkeypatch, recorder, "9999-12-31T23:59:59Z")
    assert "Credentials.Expiration (9999-12-31T23:59:59+00:00, more than 12 hours ahead" in str(error)


def test_assume_role_credentials_of_the_longest_session_are_read() -> None:
    """The control: 12 hours (AssumeRole's longest session), and a few minutes of clock skew."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    credentials = {"AccessKeyId": "ASIA", "SecretAccessKey": "s", "SessionToken": "t"}
    for ahead in (timedelta(hours=1), timedelta(hours=12, minutes=5)):
        answer = {"Credentials": {**credentials, "Expiration": now + ahead}}
        assert responses.assume_role(answer, now)["Expiration"] == now + ahead


# Bodies STS (a query-protocol service: XML) might be answered with by a proxy, with HTTP 200.
STS_GARBAGE = {
    "empty": "",
    "html": "<html><body><h1>502 Bad Gateway</h1></body></html>",
    "truncated": '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Cred',
    "another_document": "<Error><Code>x</Code></Error>",
}


@pytest.mark.parametrize("kind", sorted(STS_GARBAGE))
def test_a_broken_sts_answer_is_an_invalid_response_of_the_role_or_identity(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, recorder: ApiCallRecorder, kind: str
) -> None:
    """botocore's XML parser raised ``ResponseParserError`` (not a ``BotoCoreError``) or
    ``KeyError('AssumeRoleResult')`` on such a body, and neither was taken for a broken answer:
    the role's tables were ``unexpected error: KeyError('AssumeRoleResult')`` (or the parser's
    message, quoting the body), the bound tables' account ``unexpected error`` too, each call
    counted under the exception's name. (The rows above answer before botocore parses.)"""

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, HTTPHeaders(), _Raw(STS_GARBAGE[kind].encode()))

    add_botocore_handler(monkeypatch, "before-send.sts", answer)
    clients = AwsClients(recorder=recorder, max_attempts=1)
    with pytest.raises(LiveReadError) as assumed:
        clients.assume(Role(ROLE_B), "us-east-1")
    with pytest.raises(LiveReadError) as identity:
        clients.caller_account("us-east-1")
    for caught, operation in ((assumed, "AssumeRole"), (identity, "GetCallerIdentity")):
        assert (caught.value.operation, caught.value.code) == (operation, INVALID_RESPONSE)
        assert str(caught.value).startswith(f"{operation} failed in us-east-1: InvalidResponse: ")
    assert recorder.snapshot() == {
        ("AssumeRole", INVALID_RESPONSE): 1,
        ("GetCallerIdentity", INVALID_RESPONSE): 1,
    }


# --------------------------------------------------------------------------- one scan, many regions


def test_tables_in_two_regions_in_one_scan(
    embedded_aws: None, tmp_path: Path, recorder: ApiCallRecorder
) -> None:
    """Region from the provider block of each root; the same name in both regions stays apart."""
    provider = 'provider "aws" {{\n  region = "{}"\n}}\n'
    repo = write_repo(
        tmp_path / "repo",
        {
            "envs/us/main.tf": provider.format("us-east-1") + table_tf(TABLE),
            "envs/eu/main.tf": provider.format("eu-west-1") + table_tf(TABLE),
        },
    )
    targets = [target(repo, "us", "envs/us", region=None), target(repo, "eu", "envs/eu", region=None)]
    provision(targets)
    eu = boto3.client("dynamodb", region_name="eu-west-1")
    eu.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )

    report = run_scan(targets, AwsClients(recorder=recorder))

    assert {(r.target, r.region, r.status) for r in report.tables} == {
        ("us", "us-east-1", TableStatus.IN_SYNC),
        ("eu", "eu-west-1", TableStatus.DRIFTED),
    }
    assert [d.attribute for d in row(report, TABLE, "eu-west-1").drift] == ["point_in_time_recovery"]
    assert recorder.snapshot()[("DescribeScalableTargets", "success")] == 2  # once per region


def test_the_providers_region_wins_over_the_targets_as_in_terraform(
    embedded_aws: None, tmp_path: Path
) -> None:
    """Terraform puts the table in the provider's ``region``; the target's region stands in only
    where the provider has none (as ``AWS_REGION`` does for Terraform). A global table has the
    same name in every replica region: reading the target's region compared the us-east-1
    replica in place of the eu-west-1 table, and its PITR drift went unseen."""
    repo = write_repo(
        tmp_path / "repo",
        {
            "envs/eu/main.tf": 'provider "aws" {\n  region = "eu-west-1"\n}\n' + table_tf(TABLE),
            "envs/none/main.tf": table_tf("acme-elsewhere"),
            "envs/unknown/main.tf": (
                'variable "region" {\n  type = string\n}\n'
                'provider "aws" {\n  region = var.region\n}\n' + table_tf("acme-unknown")
            ),
        },
    )
    eu = target(repo, "eu", "envs/eu", region="us-east-1")
    provision([eu])  # in eu-west-1, as Terraform would
    # The same name in the target's region, as a replica would be, exactly as declared.
    (job,) = declare([eu], ParseCache()).jobs
    us_east = ("dynamodb", "application-autoscaling")
    create_table(*(boto3.client(service, region_name="us-east-1") for service in us_east), job.table.spec)
    boto3.client("dynamodb", region_name="eu-west-1").update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    none = target(repo, "none", "envs/none", region="us-east-1")
    unknown = target(repo, "unknown", "envs/unknown", region="us-east-1")
    provision([none, unknown])

    report = run_scan([eu, none, unknown])

    assert {(r.target, r.table_name, r.region, r.status) for r in report.tables} == {
        ("eu", TABLE, "eu-west-1", TableStatus.DRIFTED),
        ("none", "acme-elsewhere", "us-east-1", TableStatus.IN_SYNC),  # no provider region
        ("unknown", "acme-unknown", "us-east-1", TableStatus.IN_SYNC),  # provider region Unknown
    }
    assert [d.attribute for d in row(report, TABLE).drift] == ["point_in_time_recovery"]


def test_a_plain_table_on_an_aliased_provider_is_read_in_that_providers_region(
    embedded_aws: None, tmp_path: Path
) -> None:
    """``provider = aws.west`` puts a table in the alias' region, whatever the default provider's
    (or the target's) region; an alias the root does not configure is an error with the cause,
    never a table reported missing from the wrong region."""
    providers = (
        'provider "aws" {\n  region = "us-east-1"\n}\n'
        'provider "aws" {\n  alias  = "west"\n  region = "us-west-2"\n}\n'
    )
    west = table_tf("acme-west").replace('"acme_west" {\n', '"acme_west" {\n  provider = aws.west\n', 1)
    assert "provider = aws.west" in west
    repo = write_repo(tmp_path / "repo", {"main.tf": providers + table_tf("acme-east") + west})
    prod = target(repo, "prod", ".", region="us-east-1")
    provision([prod])

    report = run_scan([prod])

    assert {(r.table_name, r.region, r.status) for r in report.tables} == {
        ("acme-east", "us-east-1", TableStatus.IN_SYNC),
        ("acme-west", "us-west-2", TableStatus.IN_SYNC),
    }
    nowhere = west.replace("aws.west", "aws.nowhere")
    broken = write_repo(tmp_path / "broken", {"main.tf": providers + nowhere})
    report = run_scan([target(broken, "prod", ".", region="us-east-1")])
    (only,) = report.tables
    assert only.status is TableStatus.ERROR
    assert only.error == (
        "region unknown: provider aws.nowhere is not configured in the root module; "
        "set `region` on the target"
    )
