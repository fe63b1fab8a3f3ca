"""Putting moto's DynamoDB classes back as they were after driftwatch's moto patches.

``driftwatch.demo.moto_patches.apply()`` patches moto's classes for the rest of the process.
Tests of moto's own answers must see plain moto, whichever test ran before them on the same
xdist worker, so whoever applies the patches in a test puts the classes back afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def moto_classes_restored(before_restore: Callable[[], None] = lambda: None) -> Iterator[None]:
    """On exit, moto's DynamoDB classes (and the patches' "applied" flag) are as on entry.

    ``before_restore`` runs first: a test's monkeypatches must be undone before the classes are
    restored, or ``monkeypatch`` (torn down last) would put a patched method back.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    from driftwatch.demo import moto_patches

    saved = [(cls, dict(vars(cls))) for cls in (Table, DynamoHandler, DynamoDBBackend)]
    applied = moto_patches._APPLIED
    try:
        yield
    finally:
        before_restore()
        for cls, attributes in saved:
            for name in set(vars(cls)) - set(attributes):
                delattr(cls, name)
            for name, value in attributes.items():
                if vars(cls).get(name) is not value:
                    setattr(cls, name, value)
        moto_patches._APPLIED = applied
