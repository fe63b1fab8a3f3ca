"""Shared fixtures: a fake, offline AWS environment for tests that touch boto3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from driftwatch.demo.run import embedded_aws as _embedded_aws

FAKE_REGION = "us-east-1"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and us-east-1; no profile or endpoint can point boto3 at a real account."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", FAKE_REGION)
    monkeypatch.setenv("AWS_REGION", FAKE_REGION)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ROLE_ARN"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def moto_patches_undone() -> Iterator[None]:
    """Undo driftwatch's moto patches after the test.

    ``driftwatch.demo.moto_patches.apply()`` (run by ``embedded_aws()`` and ``driftwatch demo``)
    patches moto's DynamoDB classes for the rest of the process. Tests that run moto as an
    in-process server for Terraform (the plan oracle) must see plain moto, so the classes are
    put back as they were and the patches are re-applied by the next ``embedded_aws()``.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    from driftwatch.demo import moto_patches

    saved = [(cls, dict(vars(cls))) for cls in (Table, DynamoHandler, DynamoDBBackend)]
    applied = moto_patches._APPLIED
    yield
    for cls, attributes in saved:
        for name in set(vars(cls)) - set(attributes):
            delattr(cls, name)
        for name, value in attributes.items():
            if vars(cls).get(name) is not value:
                setattr(cls, name, value)
    moto_patches._APPLIED = applied


@pytest.fixture
def embedded_aws(aws_env: None, moto_patches_undone: None) -> Iterator[None]:
    """moto in-process with driftwatch's moto patches (the same embedded AWS as `driftwatch demo`)."""
    with _embedded_aws():
        yield
