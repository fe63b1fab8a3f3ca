"""DynamoDB's body checksum (``x-amz-crc32``), enforced on the answer botocore hands back.

DynamoDB sends the CRC32 of every body in ``x-amz-crc32``. botocore's standard retry mode (the
one driftwatch uses) retries an answer whose body does not match it, but when the last attempt
still does not match, it parses that body and returns it like any other: a table changed on
its way (by a proxy rewriting bodies, a broken middlebox) would be compared as if AWS had said
it -- deletion protection "off", a tag "removed" -- or drift hidden. (botocore's legacy mode
raised ``ChecksumError`` there.)

So an ``after-call`` handler (after botocore's retries) marks such an answer, and ``read_aws``
refuses a marked answer before it checks anything else: an ``InvalidResponse`` of that table,
counted as such. An answer without the header (every other service, DynamoDB Local) is not
judged.
"""

from __future__ import annotations

from binascii import crc32
from collections.abc import Mapping
from typing import Any

from botocore.client import BaseClient

from driftwatch.aws.responses import InvalidResponse

HEADER = "x-amz-crc32"
_MARK = "DriftwatchChecksumMismatch"  # set in ResponseMetadata of an answer that failed the check


class CorruptResponse(InvalidResponse):
    """An answer whose body does not match its ``x-amz-crc32`` after every attempt."""

    def __init__(self) -> None:
        Exception.__init__(
            self,
            f"the body does not match its {HEADER} checksum on the last attempt (it was changed on "
            "its way: a proxy or a broken network?); nothing was compared",
        )


def mismatches(headers: Mapping[str, str] | None, body: bytes) -> bool:
    """Whether ``body`` fails the checksum its headers announce (no header: not judged; a
    header that is not a number fails, as nothing can match it)."""
    announced = (headers or {}).get(HEADER)
    if announced is None:
        return False
    try:
        return int(announced) != crc32(body) & 0xFFFFFFFF
    except ValueError:
        return True


def attach(client: BaseClient) -> None:
    """Mark the answers of ``client`` that fail their checksum after botocore's retries."""
    client.meta.events.register("after-call", _mark, unique_id="driftwatch-crc32")


def _mark(http_response: Any = None, parsed: Any = None, **_: Any) -> None:
    status = getattr(http_response, "status_code", None)
    if not isinstance(parsed, dict) or not isinstance(status, int) or status >= 300:
        return  # an error answer is raised as the error it is
    if mismatches(getattr(http_response, "headers", None), getattr(http_response, "content", b"") or b""):
        metadata = parsed.setdefault("ResponseMetadata", {})
        if isinstance(metadata, dict):
            metadata[_MARK] = True


def refuse_corrupt(response: Any) -> None:
    """Raise ``CorruptResponse`` for an answer ``attach``'s handler marked."""
    metadata = response.get("ResponseMetadata") if isinstance(response, Mapping) else None
    if isinstance(metadata, Mapping) and metadata.get(_MARK):
        raise CorruptResponse()
