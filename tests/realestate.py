"""Helpers shared by the real-estate tests (ignore rules, accounts and regions, replicas,
unmanaged tables, pending applies, SARIF, provider tags): a small Terraform repository written
into ``tmp_path``, its tables created in the embedded AWS (moto) as ``terraform apply`` would,
and a scan of it. Not a test module itself.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from driftwatch.aws.clients import AwsClients
from driftwatch.demo.provision import create_table
from driftwatch.scan import ScanSettings, declare, scan
from driftwatch.spec import ScanReport, TableResult
from driftwatch.terraform.modules import TargetInput
from driftwatch.terraform.parse import ParseCache

REGION = "us-east-1"


def table_tf(
    name: str,
    *,
    resource: str | None = None,
    pitr: bool = True,
    tags: Mapping[str, str] | None = None,
    replicas: Sequence[str] = (),
) -> str:
    """A plain ``aws_dynamodb_table`` (on-demand, hash key ``id``)."""
    tag_lines = "".join(f'    "{k}" = "{v}"\n' for k, v in (tags or {"Team": "obs"}).items())
    replica_blocks = "".join(f'  replica {{\n    region_name = "{r}"\n  }}\n' for r in replicas)
    stream = '  stream_enabled   = true\n  stream_view_type = "NEW_AND_OLD_IMAGES"\n' if replicas else ""
    return (
        f'resource "aws_dynamodb_table" "{resource or name.replace("-", "_")}" {{\n'
        f'  name         = "{name}"\n'
        '  billing_mode = "PAY_PER_REQUEST"\n'
        '  hash_key     = "id"\n'
        "  attribute {\n"
        '    name = "id"\n'
        '    type = "S"\n'
        "  }\n"
        f"  point_in_time_recovery {{\n    enabled = {'true' if pitr else 'false'}\n  }}\n"
        f"{stream}{replica_blocks}"
        f"  tags = {{\n{tag_lines}  }}\n"
        "}\n"
    )


def write_repo(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def target(repo: Path, name: str = "prod", root: str = ".", **fields: Any) -> TargetInput:
    fields.setdefault("region", REGION)
    return TargetInput(name=name, repo=repo, root=repo / root, env={}, **fields)


def provision(targets: Sequence[TargetInput], clients: Mapping[str, tuple[Any, Any]] | None = None) -> None:
    """Create every declared table in moto exactly as declared.

    ``clients`` maps a target name to its (dynamodb, application-autoscaling) clients factory
    arguments when the tables belong in another account; default: the default credentials.
    """
    declared = declare(targets, ParseCache())
    assert not declared.errors and not declared.early, (declared.errors, declared.early)
    for job in declared.jobs:
        if clients and job.target in clients:
            dynamodb, autoscaling = clients[job.target]
        else:
            dynamodb = boto3.client("dynamodb", region_name=job.region)
            autoscaling = boto3.client("application-autoscaling", region_name=job.region)
        create_table(dynamodb, autoscaling, job.table.spec)


def run_scan(
    targets: Sequence[TargetInput], clients: AwsClients | None = None, **settings: Any
) -> ScanReport:
    return scan(targets, clients or AwsClients(), settings=ScanSettings(**settings))


def row(report: ScanReport, table: str, region: str | None = None) -> TableResult:
    rows = [r for r in report.tables if r.table_name == table and (region is None or r.region == region)]
    assert len(rows) == 1, rows
    return rows[0]


def credentials_in(account: str, region: str = REGION) -> dict[str, str]:
    """moto routes requests by the access key: keys from AssumeRole into ``account`` act there."""
    sts = boto3.client("sts", region_name=region)
    role = f"arn:aws:iam::{account}:role/provisioner"
    found = sts.assume_role(RoleArn=role, RoleSessionName="provisioner")["Credentials"]
    return {
        "aws_access_key_id": found["AccessKeyId"],
        "aws_secret_access_key": found["SecretAccessKey"],
        "aws_session_token": found["SessionToken"],
    }


def account_clients(account: str, region: str = REGION) -> tuple[Any, Any]:
    keys = credentials_in(account, region)
    return (
        boto3.client("dynamodb", region_name=region, **keys),
        boto3.client("application-autoscaling", region_name=region, **keys),
    )


def report_replicas(monkeypatch: Any, replicas: Mapping[str, list[dict[str, Any]]]) -> None:
    """Make moto's DescribeTable report ``Replicas`` (table name -> list), as AWS does; moto
    accepts replica updates but never reports any. Undone with the monkeypatch."""
    from moto.dynamodb.models.table import Table

    original = Table.describe

    def describe(self: Any, base_key: str = "TableDescription") -> dict[str, Any]:
        result: dict[str, Any] = original(self, base_key)
        if self.name in replicas:
            result[base_key]["Replicas"] = replicas[self.name]
        return result

    monkeypatch.setattr(Table, "describe", describe)


# --- git ---------------------------------------------------------------------------------------


def git(repo: Path, *args: str, at: datetime | None = None) -> str:
    """Run git in ``repo``; ``at`` sets the author and committer date of a commit."""
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(repo),
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    if at is not None:
        stamp = f"@{int(at.astimezone(UTC).timestamp())} +0000"
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout.strip()


def commit_all(repo: Path, message: str, at: datetime) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, at=at)
    return git(repo, "rev-parse", "HEAD")
