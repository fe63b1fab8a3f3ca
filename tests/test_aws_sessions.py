"""botocore's data (endpoints, service models) is read once per process, not once per session.

Each botocore session parsed ``endpoints.json`` and every service model again: about 40 ms of
CPU per session, once per role assumed (a session each) and once per scan that built its
clients afresh. Counted here through botocore's JSON file loader, not timed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.loaders import JSONFileLoader

from driftwatch.aws.clients import AwsClients, new_session


@pytest.fixture
def files_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The botocore data files parsed, in order."""
    read: list[str] = []
    original = JSONFileLoader.load_file

    def counting(self: Any, file_path: str) -> Any:
        read.append(file_path)
        return original(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", counting)
    yield read


def test_clients_of_a_second_set_of_clients_read_no_botocore_file_again(files_read: list[str]) -> None:
    AwsClients().dynamodb("eu-west-1")  # whatever this process had read before: now it has
    AwsClients().autoscaling("eu-west-1")
    files_read.clear()
    for region in ("us-east-1", "eu-central-1"):
        clients = AwsClients()
        clients.dynamodb(region)
        clients.autoscaling(region)
    assert files_read == []


def test_a_role_session_reads_no_botocore_file_again(files_read: list[str]) -> None:
    clients = AwsClients()
    clients.dynamodb("us-east-1", "arn:aws:iam::123456789012:role/first")  # STS's model read
    clients.autoscaling("us-east-1", "arn:aws:iam::123456789012:role/first")
    files_read.clear()
    for account in ("210987654321", "111122223333"):  # a session per role assumed
        clients.dynamodb("us-east-1", f"arn:aws:iam::{account}:role/reader")
        clients.autoscaling("us-east-1", f"arn:aws:iam::{account}:role/reader")
    assert files_read == []


def test_sessions_share_one_loader_whose_search_paths_do_not_grow() -> None:
    """boto3 appends its data directory to the loader at every session: a daemon making a
    session per role would otherwise grow the list (and every lookup) for ever."""
    first = new_session()
    loader = first._session.get_component("data_loader")
    paths = list(loader.search_paths)
    for _ in range(5):
        assert new_session()._session.get_component("data_loader") is loader
    assert loader.search_paths == paths
    assert len(set(paths)) == len(paths)
