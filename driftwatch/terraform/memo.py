"""A memo of each target's declarations, so that a daemon rescanning an unchanged checkout does
not walk its modules and evaluate its expressions again.

The parse cache already spares a rescan every parse, but the walk and the evaluation cost about
a tenth of a cold scan on a large repository, on every scan. An entry is reused only when its
key (everything the TargetInput says, and the parse cache's limits) is equal and its
:class:`~driftwatch.terraform.observe.Fingerprint` still holds: every filesystem question the
evaluation asked gets the same answer. Proving that costs a re-read and a re-hash of the files
and a re-listing of the directories, a few percent of evaluating them.

There is one slot per target name: a new evaluation of a target replaces its previous one. A
daemon following git-sync gets a new checkout path, hence a new key, with every commit; keeping
one entry per target name keeps memory bounded by the configuration, not by history.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from driftwatch.terraform.observe import Fingerprint
    from driftwatch.terraform.target import TargetDeclarations

DEFAULT_MAX_TARGETS = 256


def frozen_key(value: object) -> Hashable:
    """A hashable, order-independent equivalent of ``value``: dataclasses field by field, mappings
    as sorted items. Covers every field of a TargetInput, including ones added later; raises
    TypeError for a value it cannot make hashable (then nothing is memoised)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__qualname__,
            tuple(frozen_key(getattr(value, f.name)) for f in dataclasses.fields(value)),
        )
    if isinstance(value, Mapping):
        return ("mapping", tuple(sorted((key, frozen_key(item)) for key, item in value.items())))
    if isinstance(value, (list, tuple)):
        return tuple(frozen_key(item) for item in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(frozen_key(item) for item in value)
    hash(value)
    return value


@dataclass(frozen=True)
class _Entry:
    key: Hashable
    fingerprint: Fingerprint
    declarations: TargetDeclarations


class DeclarationMemo:
    """Bounded (LRU by target name) and safe to share across threads. Proving an entry still
    holds reads files, so it is done outside the lock; two threads may both prove or both
    evaluate the same target, which is only wasted work."""

    def __init__(self, max_targets: int = DEFAULT_MAX_TARGETS):
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.max_targets = max_targets
        self.hits = 0
        self.misses = 0

    def recall(self, name: str, key: Hashable) -> tuple[TargetDeclarations, Fingerprint] | None:
        """The declarations remembered for ``name`` under ``key``, if the filesystem still gives
        every answer their evaluation got; else None (and the stale entry is dropped)."""
        with self._lock:
            entry = self._entries.get(name)
        if entry is not None and entry.key == key and entry.fingerprint.unchanged():
            with self._lock:
                if self._entries.get(name) is entry:
                    self._entries.move_to_end(name)
                self.hits += 1
            return entry.declarations, entry.fingerprint
        with self._lock:
            if entry is not None and self._entries.get(name) is entry:
                del self._entries[name]
            self.misses += 1
        return None

    def remember(
        self, name: str, key: Hashable, fingerprint: Fingerprint, declarations: TargetDeclarations
    ) -> None:
        """Keep a finished evaluation (errors included: the same inputs give the same errors)."""
        if self.max_targets <= 0:
            return
        with self._lock:
            self._entries[name] = _Entry(key, fingerprint, declarations)
            self._entries.move_to_end(name)
            while len(self._entries) > self.max_targets:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
