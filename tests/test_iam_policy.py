"""deploy/iam-policy.json is exactly the AWS access driftwatch needs: read-only, nothing unused.

Every botocore client created while the flows below run gets a ``before-call`` handler (botocore's
event system, so no code path can call AWS unseen: not driftwatch's own ``ApiCallRecorder``,
not a client built somewhere new). The flows are the real ones, against the embedded AWS:

- ``driftwatch demo`` (the CLI);
- ``driftwatch scan --config`` of examples/ after console changes;
- the daemon's ``scan_once`` with its history and metrics;
- a scan whose target assumes a role (with an external id) and looks for unmanaged tables,
  which adds ListTables and STS AssumeRole;
- a scan of a root whose provider names the accounts it allows, which adds STS
  GetCallerIdentity (once): the account the base credentials read.

Calls that provision the embedded AWS (creating the declared tables, the console changes) are
not driftwatch's and are not recorded. Then: every recorded operation is allowed by the policy
(AssumeRole aside: that is permission on the target role, documented in docs/deploy.md; and
GetCallerIdentity, which no IAM policy can deny), the
policy allows nothing that was not recorded, and it grants no write action at all.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml
from moto_state import moto_classes_restored

from driftwatch import cli
from driftwatch.config import parse_config
from driftwatch.demo import run as demo

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "deploy" / "iam-policy.json"
EXAMPLES = ROOT / "examples"
# One worker runs this module: its flows run once (a module fixture), and its daemon listens on
# the default port, which two workers running the fixture at once would both want.
pytestmark = pytest.mark.xdist_group("iam-policy")
ACCOUNT = "123456789012"  # moto's default account: the assumed role reads the same tables
# botocore service name -> IAM action prefix
IAM_PREFIX = {"dynamodb": "dynamodb", "application-autoscaling": "application-autoscaling", "sts": "sts"}
ASSUME_ROLE = "sts:AssumeRole"
# Needs no permission: AWS answers it whatever the policies say (and an explicit deny does not
# stop it), so it has no place in the policy.
CALLER_IDENTITY = "sts:GetCallerIdentity"
WRITE_VERBS = re.compile(
    r"^(Put|Update|Delete|Create|Tag|Untag|Register|Deregister|Restore|Import|Export|Batch|Write|Enable|"
    r"Disable|Start|Stop|Execute|Transact|Associate|Disassociate|Modify|Set)"
)


class CallLog:
    """(IAM action, flow) of every API call made by any botocore client while recording."""

    def __init__(self) -> None:
        self.flow: str | None = None
        self.calls: set[tuple[str, str]] = set()
        # What driftwatch's own ApiCallRecorder (the metric's source) saw in the daemon flow.
        self.daemon_recorder_operations: set[str] = set()

    def handler(self, service: str) -> Callable[..., None]:
        def before_call(model: Any, **_: Any) -> None:
            if self.flow is not None:
                prefix = IAM_PREFIX.get(service, f"<unknown service {service}>")
                self.calls.add((f"{prefix}:{model.name}", self.flow))

        return before_call

    @contextmanager
    def recording(self, flow: str) -> Iterator[None]:
        self.flow = flow
        try:
            yield
        finally:
            self.flow = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        flow, self.flow = self.flow, None
        try:
            yield
        finally:
            self.flow = flow

    def actions(self, flow: str | None = None) -> set[str]:
        return {action for action, where in self.calls if flow is None or where == flow}


@pytest.fixture(scope="module")
def call_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallLog]:
    log = CallLog()
    original = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-call", log.handler(client.meta.service_model.service_name))
        return client

    def not_recorded(function: Callable[..., Any]) -> Callable[..., Any]:
        def provisioning(*args: Any, **kwargs: Any) -> Any:
            with log.paused():
                return function(*args, **kwargs)

        return provisioning

    tmp = tmp_path_factory.mktemp("iam")
    with moto_classes_restored(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session.Session, "create_client", create_client)
        # Provisioning the embedded AWS is the demo's doing, not driftwatch's scan.
        patch.setattr(demo, "apply_declared", not_recorded(demo.apply_declared))
        patch.setattr(demo, "console_changes", not_recorded(demo.console_changes))
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "DRIFTWATCH_SLACK_WEBHOOK_URL"):
            patch.delenv(key, raising=False)
        run_flows(log, tmp)
    yield log


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(path: Path, **overrides: Any) -> Path:
    config: dict[str, Any] = {
        "repo": str(EXAMPLES),
        "targets": [
            {"name": env, "root": f"envs/{env}", "var_files": [f"{env}.tfvars"], "region": demo.DEMO_REGION}
            for env in ("prod", "staging")
        ],
        "state": {"path": str(path.parent / "driftwatch.db")},
        "slack": {"webhook_url_env": None},
    }
    config.update(overrides)
    parse_config(config, str(path))  # the flows run with a config driftwatch accepts
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def run_flows(log: CallLog, tmp: Path) -> None:
    from driftwatch.config import load_config
    from driftwatch.daemon import Daemon

    with log.recording("demo"):
        assert cli.main(["demo", "--format", "json", "--output", str(tmp / "demo.json")]) == 0

    with demo.embedded_aws():
        with log.paused():
            demo.apply_declared(demo.demo_targets(EXAMPLES))
            demo.console_changes()

        config = write_config(tmp / "scan.yaml")
        with log.recording("cli-scan"):
            code = cli.main(
                ["scan", "--config", str(config), "--format", "json", "--output", str(tmp / "r.json")]
            )
        assert code == 2, (tmp / "r.json").read_text() if (tmp / "r.json").exists() else code  # drift found

        (tmp / "daemon").mkdir()
        # a port of its own: the default 9876 is shared with every other daemon test on this host
        loaded, base = load_config(
            write_config(
                tmp / "daemon" / "driftwatch.yaml", http={"host": "127.0.0.1", "port": unused_port()}
            )
        )
        with log.recording("daemon"):
            daemon = Daemon(loaded, base)
            try:
                report = daemon.scan_once()
            finally:
                daemon.history.close()
        assert report is not None and report.tables
        log.daemon_recorder_operations = daemon.recorder.operations()

        (tmp / "role").mkdir()
        role_config = write_config(
            tmp / "role" / "driftwatch.yaml",
            targets=[
                {
                    "name": "prod",
                    "root": "envs/prod",
                    "var_files": ["prod.tfvars"],
                    "region": demo.DEMO_REGION,
                    "role_arn": f"arn:aws:iam::{ACCOUNT}:role/driftwatch-read-only",
                    "external_id": "driftwatch-test",
                    "unmanaged": {"prefixes": ["acme-"], "alert": True},
                }
            ],
        )
        with log.recording("role-and-unmanaged"):
            code = cli.main(
                [
                    "scan",
                    "--config",
                    str(role_config),
                    "--format",
                    "json",
                    "--output",
                    str(tmp / "u.json"),
                ]
            )
        report_json = json.loads((tmp / "u.json").read_text())
        assert code in (0, 2), report_json
        assert not any(row["status"] == "error" for row in report_json["tables"]), report_json

        bound = tmp / "bound"
        shutil.copytree(EXAMPLES, bound)
        main = bound / "envs" / "prod" / "main.tf"
        text = main.read_text(encoding="utf-8")
        assert 'provider "aws" {\n' in text
        main.write_text(
            text.replace(
                'provider "aws" {\n', f'provider "aws" {{\n  allowed_account_ids = ["{ACCOUNT}"]\n', 1
            ),
            encoding="utf-8",
        )
        bound_config = write_config(
            bound / "driftwatch.yaml",
            repo=str(bound),
            targets=[
                {
                    "name": "prod",
                    "root": "envs/prod",
                    "var_files": ["prod.tfvars"],
                    "region": demo.DEMO_REGION,
                }
            ],
        )
        with log.recording("account-bound"):
            code = cli.main(
                ["scan", "--config", str(bound_config), "--format", "json", "--output", str(tmp / "b.json")]
            )
        report_json = json.loads((tmp / "b.json").read_text())
        assert code in (0, 2), report_json
        assert report_json["tables"], report_json
        assert not any(row["status"] == "error" for row in report_json["tables"]), report_json


def policy() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(POLICY.read_text(encoding="utf-8"))
    return loaded


def policy_actions() -> set[str]:
    actions: set[str] = set()
    for statement in policy()["Statement"]:
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def test_every_flow_made_aws_calls(call_log: CallLog) -> None:
    for flow in ("demo", "cli-scan", "daemon"):
        assert {
            "dynamodb:DescribeTable",
            "application-autoscaling:DescribeScalableTargets",
        } <= call_log.actions(flow)


def test_every_recorded_operation_is_allowed(call_log: CallLog) -> None:
    recorded = call_log.actions()
    assert not [a for a in recorded if "<unknown service" in a], recorded
    outside = recorded - policy_actions() - {ASSUME_ROLE, CALLER_IDENTITY}
    assert not outside, (
        f"driftwatch calls AWS operations that deploy/iam-policy.json does not allow: {outside}"
    )


def test_policy_allows_nothing_driftwatch_does_not_call(call_log: CallLog) -> None:
    unused = policy_actions() - call_log.actions()
    assert not unused, f"deploy/iam-policy.json allows actions no flow used (least privilege): {unused}"


def test_assume_role_only_for_targets_with_a_role(call_log: CallLog) -> None:
    assert ASSUME_ROLE in call_log.actions("role-and-unmanaged")
    assert all(ASSUME_ROLE not in call_log.actions(flow) for flow in ("demo", "cli-scan", "daemon"))
    # Granted on the target's role, not by the read policy: the deploy guide says how.
    assert ASSUME_ROLE in (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


def test_caller_identity_only_for_tables_bound_to_an_account(call_log: CallLog) -> None:
    assert CALLER_IDENTITY in call_log.actions("account-bound")
    others = ("demo", "cli-scan", "daemon", "role-and-unmanaged")
    assert all(CALLER_IDENTITY not in call_log.actions(flow) for flow in others)
    # Needs no permission, and the deploy guide says so.
    assert CALLER_IDENTITY in (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


def test_driftwatch_recorder_sees_the_same_operations(call_log: CallLog) -> None:
    """The metric driftwatch_aws_api_calls_total counts the calls the event hook saw, no fewer."""
    hooked = {action.split(":", 1)[1] for action in call_log.actions("daemon")}
    assert call_log.daemon_recorder_operations == hooked


def test_policy_is_read_only_and_scoped() -> None:
    document = policy()
    assert document["Version"] == "2012-10-17"
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert set(statement) == {"Sid", "Effect", "Action", "Resource"}, (
            "no NotAction, NotResource or Principal"
        )
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            service, _, name = action.partition(":")
            assert service in {"dynamodb", "application-autoscaling"}, action
            assert "*" not in action and "?" not in action, f"wildcard action {action}"
            assert re.match(r"^(Describe|List|Get)[A-Z]", name) and not WRITE_VERBS.match(name), action
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        table_actions = {a for a in actions if a != "dynamodb:ListTables" and a.startswith("dynamodb:")}
        if table_actions:
            # Table-level actions are limited to table ARNs (ListTables has no resource type).
            assert all(re.fullmatch(r"arn:aws:dynamodb:[^:]+:[^:]+:table/.+", r) for r in resources), (
                resources
            )
