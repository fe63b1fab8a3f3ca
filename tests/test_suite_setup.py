"""The test suite's own setup: what keeps it within its time budget must still be in effect.

The expensive fixtures (one ``terraform apply`` per module, a moto server) are shared by the
tests of an ``xdist_group``, which ``--dist loadgroup`` (addopts) runs on one worker. When that
grouping stops working, nothing fails: each worker builds the fixture again, and the suite
silently takes a minute longer (pytest 9.2 with pytest-xdist 3.8 did, pytest-dev/pytest-xdist#1386).
"""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("suite-setup")
def test_loadgroup_keeps_a_group_on_one_worker(request: pytest.FixtureRequest) -> None:
    if not hasattr(request.config, "workerinput"):
        pytest.skip(
            "checks how pytest-xdist schedules the suite (the default, -n auto); this run has no "
            "xdist workers (-n 0 or -p no:xdist), so there are no groups to check"
        )
    # xdist's loadgroup scheduling keys on this suffix of the node id; without it the group is
    # ignored and its tests go to any worker.
    assert request.node.nodeid.endswith("@suite-setup"), request.node.nodeid
