"""Terraform's file functions (``file``, ``fileexists``, ``filebase64``, the file hashes,
``fileset``), as pure functions of what a :class:`FileReader` gives them.

Terraform evaluates ``file("${path.module}/tables.yaml")`` at plan time, so a configuration
that declares its tables from a YAML, JSON or CSV file (``for_each = yamldecode(file(...))``)
declares them from the file's content. driftwatch does the same, but the functions themselves
do no I/O: the evaluator hands them the reader of the module being evaluated (the ``files`` of
its Scope; driftwatch.terraform.data_files), which resolves the path as Terraform does, refuses
what is outside the repository (Unknown with the reason) and reads through the walk's view of
the filesystem, so that the read is recorded for the memo and comes from the same revision as
the .tf files. Without a reader (a ``-var`` value, a test) the functions stay Unknown, as
registered in driftwatch.terraform.functions.

A reader returns bytes (or a bool for ``exists``), ``Unknown`` with a reason for what driftwatch
will not read, and raises FunctionError for what Terraform itself reports as an error (no such
file, a directory): ``try()`` and ``can()`` observe those.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
import unicodedata
from collections.abc import Callable
from typing import Any, Protocol

from driftwatch.spec import Unknown, first_unknown
from driftwatch.terraform.functions import FunctionError, to_string


class FileReader(Protocol):
    """The files one module instance's expressions may read; see the module docstring."""

    def read(self, path: str) -> bytes | Unknown: ...

    def exists(self, path: str) -> bool | Unknown: ...

    def fileset(self, path: str, pattern: str) -> Any: ...  # a set of strings, or Unknown


def clean(path: str) -> str:
    """Go's ``filepath.Clean`` of a relative path, which Terraform applies before reading:
    lexical, so ``missing/../x.yaml`` is ``x.yaml`` whatever ``missing`` is."""
    return posixpath.normpath(path) if path else "."


def _file(reader: FileReader, path: Any) -> Any:
    text = to_string(path)
    data = reader.read(text)
    if isinstance(data, Unknown):
        return data
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FunctionError(
            f'contents of "{clean(text)}" are not valid UTF-8; use the filebase64 function to obtain '
            "the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to "
            "obtain file hashing results instead"
        ) from None
    return unicodedata.normalize("NFC", decoded)  # a cty string is NFC, as Terraform's file() gives


def _filebase64(reader: FileReader, path: Any) -> Any:
    data = reader.read(to_string(path))
    return data if isinstance(data, Unknown) else base64.b64encode(data).decode()


def _fileexists(reader: FileReader, path: Any) -> Any:
    return reader.exists(to_string(path))


def _fileset(reader: FileReader, path: Any, pattern: Any) -> Any:
    for name, value in (("path", path), ("pattern", pattern)):
        if value is None:
            raise FunctionError(f'Invalid value for "{name}" parameter: argument must not be null')
    return reader.fileset(to_string(path), to_string(pattern))


def _file_hash(name: str, encode: Callable[[bytes], str]) -> Callable[[FileReader, Any], Any]:
    def digest(reader: FileReader, path: Any) -> Any:
        data = reader.read(to_string(path))
        return data if isinstance(data, Unknown) else encode(hashlib.new(name, data).digest())

    return digest


def _hex(digest: bytes) -> str:
    return digest.hex()


def _base64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


FILE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "file": _file,
    "filebase64": _filebase64,
    "fileexists": _fileexists,
    "filemd5": _file_hash("md5", _hex),
    "filesha1": _file_hash("sha1", _hex),
    "filesha256": _file_hash("sha256", _hex),
    "filesha512": _file_hash("sha512", _hex),
    "filebase64sha256": _file_hash("sha256", _base64),
    "filebase64sha512": _file_hash("sha512", _base64),
    "fileset": _fileset,
}
_ARITY = {"fileset": 2}  # the others take one path


def call(name: str, reader: FileReader, arguments: list[Any]) -> Any:
    """Call file function ``name`` with the module's reader. An Unknown argument (a path built
    from an unknown value) makes the result Unknown, as in Terraform; a wrong number of
    arguments is an error."""
    unknown = first_unknown(arguments)
    if unknown is not None:
        return unknown
    if len(arguments) != _ARITY.get(name, 1):
        raise FunctionError(f"wrong number of arguments ({len(arguments)})")
    return FILE_FUNCTIONS[name](reader, *arguments)
