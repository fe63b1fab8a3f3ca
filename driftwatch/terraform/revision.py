"""A FileSystemView of a git revision: the evaluator sees the work tree as it was at a commit.

Pending applies compare the current declaration with the declaration at an older commit. That
older declaration is evaluated by the same walk, evaluator, limits and parse cache as the
current one: only the view it reads through is different. The view answers the same questions
(``resolve``, ``is_dir``, ``is_file``, ``entries``, ``read``, and fileset's ``lstat`` and
``listing``) for paths below the work tree's top, from the commit's trees and blobs instead of
the disk, emulating what the disk would answer had the commit been checked out: symlinks stored
in the commit are followed (a loop raises RuntimeError, like ``Path.resolve``), a missing path
resolves lexically, an oversized file gives the same error as on disk, and a submodule is an
empty directory. Paths outside the top are the real filesystem's (the walk refuses them anyway:
they are outside the repository).

The objects come from an :class:`ObjectStore` (``driftwatch.gitinfo.GitObjects``: one
``git cat-file`` process); this module runs no git itself. A revision never changes, so the
view's fingerprint is immutable: a memoised evaluation of it stays valid.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from driftwatch.terraform import observe
from driftwatch.terraform.observe import (
    _TERRAFORM_SUFFIXES,
    DataProblem,
    FileSystemView,
    Fingerprint,
    Listing,
    _lstat,
)
from driftwatch.terraform.parse import HclSyntaxError, decode_text

_TREE = 0o040000
_SYMLINK = 0o120000
_GITLINK = 0o160000
MAX_SYMLINK_HOPS = 40  # what Linux allows a path (ELOOP)
MAX_SYMLINK_BYTES = 4096  # PATH_MAX: a longer link target cannot be checked out


class ObjectStore(Protocol):
    """Read access to a repository's objects (see driftwatch.gitinfo.GitObjects)."""

    def root_tree(self, commit: str) -> str: ...

    def tree(self, sha: str) -> tuple[tuple[str, int, str], ...]: ...  # (name, mode, sha)

    def info(self, name: str) -> tuple[str, str, int] | None: ...  # (sha, type, size)

    def blob(self, sha: str) -> bytes: ...


_Node = tuple[int, str]  # (mode, sha)


class RevisionView(FileSystemView):
    """What the work tree below ``top`` looked like at commit ``revision``."""

    def __init__(
        self, top: Path, revision: str, objects: ObjectStore, max_file_bytes: int, slot: str = "previous"
    ):
        super().__init__(max_file_bytes)
        self.top = top
        self.revision = revision  # the commit: what the view's answers are a function of
        self.slot = slot  # the declaration memo keeps one evaluation per target and slot
        self._root: _Node | None = None  # its tree, looked up on the first question
        self._objects = objects
        self._trees: dict[str, dict[str, _Node]] = {}

    # --- the questions ------------------------------------------------------------------------

    def _answer(self, kind: str, path: Path) -> object:
        try:
            return self._answer_from_objects(kind, path)
        except RuntimeError:  # a symlink loop: an answer, as on disk
            raise
        except Exception:  # the objects could not be read: this evaluation must not be reused
            self.consistent = False
            raise

    def _answer_from_objects(self, kind: str, path: Path) -> object:
        if kind == "resolve":
            return self._resolve(path)
        if kind == "lstat":
            return self._lstat_in_checkout(path)
        node = self._node(self._resolve(path))
        if kind == "is_dir":
            return node is not None and node[0] in (_TREE, _GITLINK)
        if kind == "is_file":
            return node is not None and _is_blob(node[0])
        if kind == "kind":  # a checkout holds files, directories and symlinks (resolved) only
            if node is None:
                return self._absent(path)
            return "file" if _is_blob(node[0]) else "dir"
        if kind == "entries":
            if node is None or node[0] != _TREE:
                return ()
            found = [
                (name, mode == _SYMLINK)
                for name, mode, _ in self._objects.tree(node[1])
                if name.endswith(_TERRAFORM_SUFFIXES)
            ]
            return tuple(sorted(found))
        if kind == "listing":
            return self._listing(node)
        raise ValueError(f"unknown question {kind}")

    def _lstat_in_checkout(self, path: Path) -> str:
        """``lstat`` in a checkout: the last component as stored (a symlink is a symlink)."""
        parent = self._inside(self._resolve(path.parent))
        if parent is None:
            return _lstat(path)
        node = self._node_at([*parent, path.name]) if path.name not in ("", ".", "..") else None
        if node is None:
            return "missing"
        return "symlink" if node[0] == _SYMLINK else "dir" if node[0] in (_TREE, _GITLINK) else "file"

    def _listing(self, node: _Node | None) -> Listing | str:
        """A directory's entries in a checkout: a submodule is an empty directory."""
        if node is None:
            return "error:No such file or directory"
        if node[0] == _GITLINK:
            return ()
        if node[0] != _TREE:
            return "error:Not a directory"
        entries = self._objects.tree(node[1])
        if len(entries) > observe.MAX_LISTING:
            return "too many"
        kinds = {_TREE: "dir", _GITLINK: "dir", _SYMLINK: "symlink"}
        return tuple(sorted((name, kinds.get(mode, "file")) for name, mode, _ in entries))

    def _load(self, path: Path, rel: str) -> tuple[str, bytes]:
        try:
            return self._load_from_objects(path, rel)
        except (HclSyntaxError, RuntimeError):
            raise
        except Exception:
            self.consistent = False
            raise

    def _load_from_objects(self, path: Path, rel: str) -> tuple[str, bytes]:
        node = self._node(self._resolve(path))
        if node is None:
            raise HclSyntaxError(rel, "cannot read: No such file or directory")
        if not _is_blob(node[0]):
            raise HclSyntaxError(rel, "cannot read: Is a directory")
        info = self._objects.info(node[1])
        size = info[2] if info is not None else 0
        if size > self.max_file_bytes:
            raise HclSyntaxError(rel, f"file is {size} bytes, over the {self.max_file_bytes}-byte limit")
        return decode_text(self._objects.blob(node[1]), rel)

    def _load_data(self, path: Path) -> bytes:
        try:
            return self._data_from_objects(path)
        except (DataProblem, RuntimeError):
            raise
        except Exception:
            self.consistent = False
            raise

    def _data_from_objects(self, path: Path) -> bytes:
        node = self._node(self._resolve(path))
        if node is None:
            absent = self._absent(path)
            raise DataProblem(
                absent, "not a directory" if absent == "not a directory" else "no such file or directory"
            )
        if not _is_blob(node[0]):
            raise DataProblem("directory", "is a directory")
        info = self._objects.info(node[1])
        size = info[2] if info is not None else 0
        if size > self.max_file_bytes:
            raise DataProblem("too large", f"file is {size} bytes, over the {self.max_file_bytes}-byte limit")
        return self._objects.blob(node[1])

    def _absent(self, path: Path) -> str:
        """Why a path has no object, as ``stat`` says it on disk: "not a directory" when the way
        to it passes through a file (``tables.yaml/x``), else "missing"."""
        parts = self._inside(self._resolve(path)) or []
        for end in range(1, len(parts)):
            node = self._node_at(parts[:end])
            if node is None:
                return "missing"
            if _is_blob(node[0]):
                return "not a directory"
        return "missing"

    def fingerprint(self) -> Fingerprint:
        found = super().fingerprint()
        return Fingerprint(found.answers, found.max_file_bytes, immutable=True)

    # --- paths --------------------------------------------------------------------------------

    def _inside(self, path: Path) -> list[str] | None:
        """``path``'s components below the top, or None when it is not below the top."""
        try:
            rel = path.relative_to(self.top)
        except ValueError:
            return None
        return [part for part in rel.parts]

    def _resolve(self, path: Path) -> Path:
        """``path.resolve()`` as it would be in a checkout of the revision."""
        if not path.is_absolute():
            path = Path.cwd() / path
        parts = self._inside(path)
        if parts is None:
            return path.resolve()
        done: list[str] = []
        todo = list(reversed(parts))
        hops = 0
        missing = False
        while todo:
            part = todo.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if not done:  # above the top: the rest is the real filesystem's
                    rest = Path(self.top.parent, *reversed(todo))
                    return rest.resolve()
                done.pop()
                continue
            if missing:
                done.append(part)
                continue
            node = self._node_at([*done, part])
            if node is None:
                missing = True  # like Path.resolve(strict=False): the rest is joined as written
                done.append(part)
                continue
            if node[0] != _SYMLINK:
                done.append(part)
                continue
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                raise RuntimeError(f"Symlink loop from '{path}'")
            info = self._objects.info(node[1])
            if info is None or info[2] > MAX_SYMLINK_BYTES:  # no checkout could hold it: dangling
                missing = True
                done.append(part)
                continue
            target = os.fsdecode(self._objects.blob(node[1]))
            if target.startswith("/"):
                inside = self._inside(Path(target))
                if inside is None:
                    return Path(target, *reversed(todo)).resolve()
                done = []
                todo.extend(reversed(inside))
            else:
                todo.extend(reversed(Path(target).parts))
        return Path(self.top, *done)

    def _node(self, resolved: Path) -> _Node | None:
        parts = self._inside(resolved)
        return None if parts is None else self._node_at(parts)

    def _node_at(self, parts: list[str]) -> _Node | None:
        """The object at ``parts`` below the top, without following symlinks on the way (the
        caller resolved them)."""
        if self._root is None:
            self._root = (_TREE, self._objects.root_tree(self.revision))
        node = self._root
        for part in parts:
            if node[0] != _TREE:
                return None
            found = self._index(node[1]).get(part)
            if found is None:
                return None
            node = found
        return node

    def _index(self, tree: str) -> dict[str, _Node]:
        known = self._trees.get(tree)
        if known is None:
            known = self._trees[tree] = {name: (mode, sha) for name, mode, sha in self._objects.tree(tree)}
        return known


def _is_blob(mode: int) -> bool:
    return mode not in (_TREE, _SYMLINK, _GITLINK)
