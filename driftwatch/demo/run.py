"""``driftwatch demo``: the whole product, offline, in a few seconds.

moto runs in-process as the embedded AWS. The tables that ``examples/`` declares are created
exactly as declared (as ``terraform apply`` would), then a few are changed the way a person in
the console would -- PITR off, a TTL attribute renamed, a tag edited, a GSI's capacity pushed
beyond its autoscaling range -- and a normal scan reports exactly those changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from driftwatch.spec import ScanReport

DEMO_REGION = "us-east-1"
_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": DEMO_REGION,
    "AWS_REGION": DEMO_REGION,
}
_CLEARED_ENV = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


def examples_dir() -> Path:
    """The bundled example repository: beside the package in a source checkout."""
    candidates = [Path(__file__).resolve().parents[2] / "examples", Path.cwd() / "examples"]
    for candidate in candidates:
        if (candidate / "envs" / "prod").is_dir():
            return candidate
    raise FileNotFoundError("examples/ not found: run the demo from a clone of the driftwatch repository")


@contextmanager
def embedded_aws() -> Iterator[None]:
    """moto in-process with fake credentials: nothing can reach a real AWS account."""
    from moto import mock_aws

    from driftwatch.demo import moto_patches

    saved = {k: os.environ.get(k) for k in (*_FAKE_ENV, *_CLEARED_ENV)}
    os.environ.update(_FAKE_ENV)
    for key in _CLEARED_ENV:
        os.environ.pop(key, None)
    moto_patches.apply()
    try:
        with mock_aws():
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def demo_targets(repo: Path) -> list[Any]:
    from driftwatch.terraform.target import TargetInput

    return [
        # pending_grace 0: the demo's drift is made on purpose, never a merge waiting for an apply.
        TargetInput(
            name=env,
            repo=repo,
            root=repo / "envs" / env,
            var_files=(f"{env}.tfvars",),
            env={},
            pending_grace=timedelta(0),
        )
        for env in ("prod", "staging")
    ]


def apply_declared(targets: list[Any]) -> list[Any]:
    """Create every declared table in the embedded AWS, as terraform apply would."""
    import boto3

    from driftwatch.demo.provision import create_table
    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    declared = declare(targets, ParseCache())
    if declared.errors or declared.early:
        problems = [e.message for e in declared.errors] + [str(r.error) for r in declared.early]
        raise RuntimeError("the examples do not evaluate cleanly: " + "; ".join(problems))
    for job in declared.jobs:
        create_table(
            boto3.client("dynamodb", region_name=job.region),
            boto3.client("application-autoscaling", region_name=job.region),
            job.table.spec,
        )
    return declared.jobs


def console_changes() -> list[str]:
    """What "someone in the console" changes in the demo; returns a description of each."""
    import boto3

    dynamodb = boto3.client("dynamodb", region_name=DEMO_REGION)
    mimir = "acme-prod-mimir-index"
    dynamodb.update_continuous_backups(
        TableName=mimir, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    dynamodb.update_table(
        TableName=mimir,
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "tenant-index",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 80, "WriteCapacityUnits": 60},
                }
            }
        ],
    )
    orders = "acme-prod-orders"
    dynamodb.update_time_to_live(
        TableName=orders, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"}
    )
    dynamodb.update_time_to_live(
        TableName=orders, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    arn = dynamodb.describe_table(TableName="acme-prod-sessions")["Table"]["TableArn"]
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Team", "Value": "payments"}])
    return [
        f"{mimir}: point-in-time recovery turned off",
        f"{mimir}: GSI tenant-index capacity set to 80/60 (autoscaling allows 5-40)",
        f"{orders}: TTL attribute renamed expires_at -> ttl",
        "acme-prod-sessions: tag Team changed to payments",
    ]


def run_demo(progress: Console | None = None, repo: Path | None = None) -> ScanReport:
    from driftwatch.aws.clients import AwsClients
    from driftwatch.scan import scan

    repo = repo or examples_dir()
    targets = demo_targets(repo)
    with embedded_aws():
        jobs = apply_declared(targets)
        if progress is not None:
            progress.print(f"[bold]embedded AWS (moto):[/bold] created {len(jobs)} tables from {repo}")
        for change in console_changes():
            if progress is not None:
                progress.print(f"  console change: {change}")
        if progress is not None:
            progress.print()
        return scan(targets, AwsClients(), commit=None)
