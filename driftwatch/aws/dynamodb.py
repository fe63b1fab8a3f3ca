"""The live side of one table: read-only DynamoDB calls -> ``TableSpec``.

Exactly four read operations are used per table (DescribeTable, DescribeTimeToLive,
DescribeContinuousBackups, ListTagsOfResource), plus ListTables for targets that ask for
unmanaged tables, matching the IAM policy in ``deploy/``; tests hold the code to that. Live
values are always concrete: every response is first checked for what the call must return
(``responses.py``: a truncated, empty or non-JSON answer is an ``InvalidResponse`` error, never
a table with every feature off); after that, an absent optional field means AWS's documented
default (e.g. no ``BillingModeSummary`` = PROVISIONED), never ``Unknown``. The one exception:
the attributes of a read that failed after DescribeTable are ``Unknown`` with the error
(``read_table``'s ``refused``), so the rest of the table can still be compared.

A table that is not there is a *finding* (``missing``), not an error, so it is reported as
``None``. That includes a table deleted between two of our calls: the scan must not turn a
race into an error row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from driftwatch.aws import checksum, responses
from driftwatch.aws.calls import UNPARSED, outcome_checked, transport_outcome
from driftwatch.aws.responses import INVALID_RESPONSE, InvalidResponse
from driftwatch.aws.strict_parse import WrongJsonType
from driftwatch.errors import DriftwatchError
from driftwatch.secrets import scrub_message
from driftwatch.spec import BillingMode, Gsi, Lsi, Maybe, Sse, Stream, TableSpec, Ttl, Unknown

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeDefinitionTypeDef,
        ContinuousBackupsDescriptionTypeDef,
        GlobalSecondaryIndexDescriptionTypeDef,
        KeySchemaElementTypeDef,
        LocalSecondaryIndexDescriptionTypeDef,
        ProjectionOutputTypeDef,
        TableDescriptionTypeDef,
        TimeToLiveDescriptionTypeDef,
    )

R = TypeVar("R")
C = TypeVar("C")

# Codes meaning "this table does not exist (any more)". DescribeContinuousBackups says
# TableNotFoundException; moto answers DescribeTimeToLive with a bare "ResourceNotFound".
_GONE_CODES = frozenset({"ResourceNotFoundException", "ResourceNotFound", "TableNotFoundException"})

_SSE_ON = frozenset({"ENABLED", "ENABLING", "UPDATING"})
_TTL_ON = frozenset({"ENABLED", "ENABLING"})

# What to do about causes whose AWS message does not say it (appended to the error message).
_EXPIRED = "hint: the AWS credentials have expired; renew them"
_INVALID = "hint: AWS does not recognise these credentials; check the key id or profile"
_HINTS = {
    "ExpiredTokenException": _EXPIRED,  # JSON services: dynamodb, application-autoscaling
    "ExpiredToken": _EXPIRED,  # query services: sts
    "RequestExpired": _EXPIRED,
    "UnrecognizedClientException": _INVALID,
    "InvalidClientTokenId": _INVALID,
    "NoCredentialsError": "hint: no AWS credentials found; set AWS_PROFILE, AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, or IRSA's AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE",
    "ConfigParseError": "hint: fix or remove the AWS config or credentials file it names",
    "ProfileNotFound": "hint: AWS_PROFILE names a profile that is in neither AWS file",
}
# AWS refuses a request signed more than 5 minutes from its own time (InvalidSignatureException
# for JSON services, SignatureDoesNotMatch for STS) in words that read as a credentials problem.
_SKEWED = "hint: this host's clock is more than 5 minutes off AWS's; synchronise it, e.g. NTP"
_SKEW_WORDS = ("Signature expired", "Signature not yet current")


def _hint(code: str, detail: str) -> str:
    """What to do about ``code``, when AWS's message does not say it ("" when nothing)."""
    if code == "RequestTimeTooSkewed" or detail.startswith(_SKEW_WORDS):
        return _SKEWED
    return _HINTS.get(code, "")


class LiveReadError(DriftwatchError):
    """Reading live state failed for a reason other than the table not existing.

    The message names the operation, the table (None for region-wide autoscaling listings),
    the region and the cause (AWS error code and message, or the transport failure) -- enough
    for an operator to fix IAM or networking -- and is scrubbed so it can go into logs, Slack
    and reports as-is. ``code`` is the AWS error code or the transport outcome name
    (``Timeout``, ``ConnectionError``, ``NoCredentialsError``, ...).
    """

    def __init__(
        self, operation: str, table_name: str | None, region: str | None, code: str, detail: str
    ) -> None:
        self.operation = operation
        self.table_name = table_name
        self.region = region
        self.code = code
        subject = f" for table {table_name!r}" if table_name else ""
        where = f" in {region}" if region else ""
        cause = f"{code}: {detail}" if detail else code
        hint = _hint(code, detail)
        hint = f" ({hint})" if hint else ""
        super().__init__(f"{operation} failed{subject}{where}: {cause}{hint}")


class TableGone(Exception):
    """A call said the table does not exist (any more); ``read_table`` turns it into None
    (after DescribeTable agrees, for the reads after it). ``code`` and ``detail`` are AWS's."""

    def __init__(self, table_name: str, code: str = "ResourceNotFoundException", detail: str = "") -> None:
        super().__init__(table_name)
        self.code, self.detail = code, detail


def scrub(text: str) -> str:
    """``text`` with anything credential-shaped masked and the length capped.

    Defence in depth for messages we did not write: AWS echoes the canonical request (which
    can carry the session token) in signature errors, and transport errors echo URLs. The
    rules are ``driftwatch.secrets.scrub_message``.
    """
    return scrub_message(text)


def call_aws(
    operation: str,
    table_name: str | None,
    region: str | None,
    fn: Callable[..., R],
    /,
    **kwargs: Any,
) -> R:
    """``fn(**kwargs)`` with every failure turned into ``LiveReadError`` (or ``TableGone``).

    ``TableGone`` is raised only for calls about one table (``table_name`` given).
    """
    try:
        return fn(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        # botocore names the call that failed. Another than this one is a credential provider's
        # own, made inside this call (IRSA's AssumeRoleWithWebIdentity refreshing the base
        # credentials): the credentials failed, not this operation, and the error says so.
        failed = getattr(exc, "operation_name", None)
        nested = isinstance(failed, str) and bool(failed) and failed != operation
        if nested:
            operation = str(failed)
        # `from None`: the original exception's text is unscrubbed and would otherwise be
        # printed with any logged traceback.
        detail = scrub(str(error.get("Message", "")))
        if code.isascii() and code.isdigit():  # botocore names a code-less answer after its HTTP status
            detail = _without_code(int(code), detail)
        if table_name is not None and code in _GONE_CODES and not nested:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (None, 400):
                raise TableGone(table_name, code, detail) from None
            # AWS says "no such table" with a 400. The same code with a 5xx (a proxy's or a
            # gateway's error page, a replayed answer) is a failure, not that answer: read as
            # it, a table nobody touched was "missing", an alert.
            detail = f"{detail} (HTTP {status}, not the 400 with which AWS says a table does not exist)"
        raise LiveReadError(operation, table_name, region, code, detail) from None
    except BotoCoreError as exc:
        # A timeout or a reset inside botocore's own credential fetch (IRSA's STS call, made in
        # this call's signing) is the credentials failing, as for a nested ClientError above.
        # ("AssumeRole" is driftwatch asking for a role's credentials: that fetch is the call.)
        nested = operation != "AssumeRole" and _raised_fetching_credentials(exc)
        failed = FETCHING_CREDENTIALS if nested else operation
        raise LiveReadError(failed, table_name, region, transport_outcome(exc), scrub(str(exc))) from None
    except UNPARSED as exc:
        # botocore's parser trips over a 200 body of the wrong shape (``null``, ``[]``, a string
        # where an object belongs, bytes that are not UTF-8, a timestamp that is not one, JSON
        # nested deeper than Python's recursion limit; for STS's XML, a body that does not
        # parse or is another document) with these instead of a BotoCoreError: the answer is
        # unusable, which is what InvalidResponse says. (UnicodeDecodeError is a ValueError.)
        why = str(exc) if isinstance(exc, WrongJsonType) else type(exc).__name__
        detail = f"botocore could not parse the answer ({why}); nothing was compared"
        raise LiveReadError(operation, table_name, region, INVALID_RESPONSE, detail) from None


FETCHING_CREDENTIALS = "Fetching AWS credentials"  # what failed, when it is the credentials


def _raised_fetching_credentials(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while botocore fetched or refreshed credentials (its
    ``credentials`` module is on the traceback): then the operation was never sent. Told by
    botocore's own frames, not by the endpoint, which may be one (``AWS_ENDPOINT_URL``)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__") == "botocore.credentials":
            return True
        tb = tb.tb_next
    return False


def _without_code(status: int, detail: str) -> str:
    """What an answer without an AWS error code is: a redirect (a captive proxy, an endpoint
    URL of the wrong scheme), which botocore does not follow, or a proxy's own page."""
    said = f"HTTP {status} without an AWS error code"
    if 300 <= status < 400:
        said += ": a redirect, which driftwatch does not follow (check AWS_ENDPOINT_URL and proxies)"
    return f"{said} ({detail})" if detail else said


def read_aws(
    operation: str,
    table_name: str | None,
    region: str | None,
    check: Callable[[Any], C],
    fn: Callable[..., Any],
    /,
    **kwargs: Any,
) -> C:
    """``call_aws``, then ``check`` (from ``responses``) on the answer: an answer that lacks
    what the call must return, or whose body failed DynamoDB's checksum (``checksum.py``), is a
    ``LiveReadError`` (code ``InvalidResponse``), never a default."""
    with outcome_checked() as outcome:  # driftwatch_aws_api_calls_total counts the check's verdict
        response = call_aws(operation, table_name, region, fn, **kwargs)
        try:
            checksum.refuse_corrupt(response)  # a body changed on its way, whatever it says
            return check(response)
        except InvalidResponse as exc:
            outcome(INVALID_RESPONSE)
            raise LiveReadError(operation, table_name, region, INVALID_RESPONSE, str(exc)) from None


# The attributes (vocabulary names) each of the three secondary reads supplies.
PART_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "DescribeTimeToLive": ("ttl.enabled", "ttl.attribute"),
    "DescribeContinuousBackups": ("point_in_time_recovery",),
    "ListTagsOfResource": ("tags",),
}


def read_table(
    client: DynamoDBClient, table_name: str, region: str, refused: list[LiveReadError] | None = None
) -> TableSpec | None:
    """The live ``TableSpec`` of ``table_name``, or None when the table does not exist.

    Autoscaling is left empty here: it comes from a per-region index fetched once per scan
    (see ``autoscaling.apply_autoscaling``), so reading N tables does not cost N autoscaling
    calls. Raises ``LiveReadError`` for anything else that goes wrong.

    With ``refused``, a read after DescribeTable that fails -- IAM denies it (a policy without
    ``dynamodb:ListTagsOfResource`` is a common gap), a compatible server does not implement
    it, its answer is broken, throttled or timed out -- costs only what that read supplies
    (``PART_ATTRIBUTES``): those attributes are ``Unknown`` with the error, the error is
    appended to ``refused`` for the caller to report, and the rest of the table is compared.
    Without it, the whole table is the error; so it is when DescribeTable fails, or when the
    failure is not the read's own (credentials refreshed inside it).
    """
    if not isinstance(table_name, str) or not table_name:
        # The one thing botocore's parameter validation (off: ``clients.AwsClients``) would
        # have refused in a name that evaluation has vetted (``terraform/vet.py``).
        detail = "the table name is empty"
        raise LiveReadError("DescribeTable", table_name, region, "ParamValidationError", detail)
    try:
        return _read_table(client, table_name, region, refused)
    except TableGone:
        return None


_AWS_HOSTS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def aws_hosted(client: Any) -> bool:
    """Whether ``client`` talks to one of AWS's own endpoints (regional, FIPS, dual-stack, VPC),
    whose answers name the client's region, rather than to an ``AWS_ENDPOINT_URL`` such as
    DynamoDB Local, which names its own."""
    url = getattr(getattr(client, "meta", None), "endpoint_url", None)
    host = urlsplit(url).hostname if isinstance(url, str) else None
    return bool(host) and str(host).endswith(_AWS_HOSTS)


def _read_table(
    client: DynamoDBClient, table_name: str, region: str, refused: list[LiveReadError] | None
) -> TableSpec:
    where = (table_name, region)
    arn_region = region if aws_hosted(client) else None
    table = read_aws(
        "DescribeTable",
        *where,
        lambda r: responses.describe_table(r, table_name, arn_region),
        client.describe_table,
        TableName=table_name,
    )

    again: list[Any] = []  # DescribeTable's second answer, once a later read says "no such table"

    def gone(operation: str, error: TableGone) -> Unknown:
        """A read after DescribeTable says the table does not exist. Deleted in between (a
        race: ``missing``) only if DescribeTable, asked again, agrees. DynamoDB also says so of
        a table that is not ACTIVE (ResourceNotFoundException: "its status might not be
        ACTIVE"; the Terraform provider: "When a Table is ARCHIVED, ListTags returns
        ResourceNotFoundException"): then only what this read supplies is unknown, and the
        status decides the rest (``scan._compare_one``). Of an ACTIVE table the answers
        disagree, and neither is taken."""
        if not again:  # raises TableGone (missing) when DescribeTable no longer finds it either
            again.append(
                read_aws(
                    "DescribeTable",
                    *where,
                    lambda r: responses.describe_table(r, table_name, arn_region),
                    client.describe_table,
                    TableName=table_name,
                )
            )
        status = again[0]["TableStatus"]
        if status == "ACTIVE":
            detail = (
                f"{error.detail}; but DescribeTable, asked again, finds the table ACTIVE: "
                "the answers disagree, so nothing was compared"
            )
            raise LiveReadError(operation, table_name, region, error.code, detail.lstrip("; "))
        return Unknown(f"{operation} does not find the table while DescribeTable says it is {status}")

    def part(operation: str, read: Callable[[], R]) -> R | Unknown:
        try:
            return read()
        except TableGone as error:
            return gone(operation, error)
        except LiveReadError as error:
            # Only this operation failed (denied, broken, not implemented, throttled, timed
            # out): what it supplies is unknown, the rest of the table was read. A role's
            # credentials refreshed (AssumeRole) inside the call and failing fail the whole
            # table, as they would any other call.
            if refused is None or error.operation != operation:
                raise
            refused.append(error)
            return Unknown(str(error))

    ttl = part(
        "DescribeTimeToLive",
        lambda: read_aws(
            "DescribeTimeToLive",
            *where,
            responses.describe_time_to_live,
            client.describe_time_to_live,
            TableName=table_name,
        ),
    )
    backups = part(
        "DescribeContinuousBackups",
        lambda: read_aws(
            "DescribeContinuousBackups",
            *where,
            responses.describe_continuous_backups,
            client.describe_continuous_backups,
            TableName=table_name,
        ),
    )
    tags = part("ListTagsOfResource", lambda: _read_tags(client, table["TableArn"], table_name, region))
    latest = again[0] if again else table  # the fresher status, when DescribeTable was asked again
    return table_spec(latest, region, ttl=ttl, backups=backups, tags=tags)  # type: ignore[arg-type]


MAX_PAGES = 1_000
"""Pages one listing may take (ListTables, ListTagsOfResource; the autoscaling listings have
their own, ``autoscaling.MAX_ENTRIES``): 100,000 table names at ListTables' 100 a page; a table
has at most 50 tags. A service that hands out a new continuation token on every page would otherwise be
followed, page after page, until the scan deadline, holding every page read so far."""


MAX_TAGS = 1_000
"""Distinct tags one table's listing may hold: AWS allows 50 a table (its own ``aws:`` tags come
on top, a handful). More is not AWS's answer, and would be held page after page."""


class Pages:
    """The continuation tokens of one listing: refuses a token seen before (a cycle, the same
    token forever) and more than ``limit`` pages (default ``MAX_PAGES``), so a broken service
    cannot hold a read worker until the scan deadline."""

    def __init__(
        self, operation: str, table_name: str | None, region: str | None, limit: int | None = None
    ) -> None:
        self._where = (operation, table_name, region)
        self._limit = MAX_PAGES if limit is None else limit
        # Digests, not the tokens: a token may be megabytes long (one growing page after page
        # held a gigabyte by MAX_PAGES), and only whether it was seen before matters.
        self._seen: set[bytes] = set()

    def follow(self, token: str) -> str:
        """``token``, to ask for the next page with; raises ``LiveReadError`` instead of looping."""
        digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        if digest in self._seen:
            raise LiveReadError(*self._where, "PaginationLoop", "")
        if len(self._seen) + 1 >= self._limit:
            detail = f"more than {self._limit} pages, each with a new token; not read to the end"
            raise LiveReadError(*self._where, "TooManyPages", detail)
        self._seen.add(digest)
        return token


def list_table_names(client: DynamoDBClient, region: str) -> list[str]:
    """Every table name of the account in ``region`` (ListTables, all pages)."""
    names: list[str] = []
    start: str | None = None
    pages = Pages("ListTables", None, region)
    while True:
        paging = {} if start is None else {"ExclusiveStartTableName": start}
        page = read_aws("ListTables", None, region, _with_table_names, client.list_tables, **paging)
        names.extend(page["TableNames"])
        start = page.get("LastEvaluatedTableName")
        if not start:
            return names
        pages.follow(start)


def _with_table_names(page: Any) -> Any:
    """A ListTables page must carry its ``TableNames`` list (empty when there are none): at
    most 100 names (ListTables' limit), each of 3 to 255 characters (TableName's). A listing
    holds every page's names, so these bound it (MAX_PAGES pages: 25 MB at most); pages of
    any size held whatever they were sent, 16 MiB a page."""
    names = page.get("TableNames")
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise InvalidResponse("TableNames")
    if len(names) > 100:
        raise InvalidResponse(f"TableNames (more than 100 on one page: {len(names):,})")
    if any(not 3 <= len(name) <= 255 for name in names):
        raise InvalidResponse("TableNames[] (not 3 to 255 characters long)")
    last = page.get("LastEvaluatedTableName")
    if last is not None and not isinstance(last, str):  # it goes back into the next request
        raise InvalidResponse("LastEvaluatedTableName")
    # "The name of the last table in the current page of results" (ListTables): the next page
    # starts after it, so another name skips the tables between (never seen, never reported
    # unmanaged) or lists some twice.
    if last and (not names or last != names[-1]):
        raise InvalidResponse(f"LastEvaluatedTableName ({last[:100]!r}, not the last name of its page)")
    return page


def _tags_page(page: Any) -> tuple[list[tuple[str, str]], str | None]:
    return responses.list_tags_of_resource(page), responses.next_token(page)


def _read_tags(client: DynamoDBClient, arn: str, table_name: str, region: str) -> dict[str, str]:
    """All tags, following NextToken; a key seen twice keeps its last value.

    AWS overwrites a tag on TagResource; moto appends a duplicate instead. Last-wins gives the
    AWS answer in both cases.
    """
    tags: dict[str, str] = {}
    token: str | None = None
    pages = Pages("ListTagsOfResource", table_name, region)
    while True:
        paging = {} if token is None else {"NextToken": token}
        pairs, token = read_aws(
            "ListTagsOfResource",
            table_name,
            region,
            _tags_page,
            client.list_tags_of_resource,
            ResourceArn=arn,
            **paging,
        )
        tags.update(pairs)
        if len(tags) > MAX_TAGS:
            detail = f"more than {MAX_TAGS:,} tags (AWS allows 50 a table); not read further"
            raise LiveReadError("ListTagsOfResource", table_name, region, INVALID_RESPONSE, detail)
        if not token:
            return tags
        pages.follow(token)


def table_spec(
    table: TableDescriptionTypeDef,
    region: str,
    *,
    ttl: TimeToLiveDescriptionTypeDef | Unknown | None = None,
    backups: ContinuousBackupsDescriptionTypeDef | Unknown | None = None,
    tags: dict[str, str] | Unknown | None = None,
) -> TableSpec:
    """Map raw API responses to a ``TableSpec`` (pure, so it can be tested without AWS).

    The read path has already checked the required fields (``responses.py``). What may still
    be absent is optional in the API reference, and its absence reads as AWS documents it:

    - ``BillingModeSummary``: "You may need to switch to on-demand mode at least once in order
      to return a BillingModeSummary response" -- absent = PROVISIONED.
    - ``TableClassSummary``: STANDARD is "the default table class" (CreateTable, TableClass);
      a table never switched has no summary -- absent = STANDARD.
    - ``SSEDescription``: "If disabled (false) or not specified, server-side encryption is set
      to AWS owned key" (SSESpecification.Enabled) -- absent = SSE with the AWS owned key, which
      is ``sse.enabled = false`` in Terraform's vocabulary.
    - ``StreamSpecification``: "The current DynamoDB Streams configuration for the table" --
      absent = no stream configured.
    - ``GlobalSecondaryIndexes``: "The global secondary indexes, if any, on the table";
      ``LocalSecondaryIndexes`` and ``Replicas`` likewise -- absent = none.
    - ``DeletionProtectionEnabled``: absent on tables created before the feature = disabled.
    - ``PointInTimeRecoveryDescription``: "If point in time recovery is enabled,
      PointInTimeRecoveryStatus will be set to ENABLED" (DescribeContinuousBackups) -- absent
      = not enabled.
    """
    types = _attribute_types(table.get("AttributeDefinitions") or [])
    hash_key, range_key = _keys(table.get("KeySchema") or [])
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode") or BillingMode.PROVISIONED.value
    provisioned = billing == BillingMode.PROVISIONED.value
    throughput = table.get("ProvisionedThroughput") or {}
    # An Unknown part is a read that failed (read_table): its attributes stay Unknown.
    live_ttl = (
        Ttl(enabled=ttl, attribute=ttl)
        if isinstance(ttl, Unknown)
        else Ttl(
            enabled=(ttl or {}).get("TimeToLiveStatus") in _TTL_ON,
            attribute=(ttl or {}).get("AttributeName") or None,
        )
    )
    sse = table.get("SSEDescription")
    stream = table.get("StreamSpecification")
    pitr: Maybe[bool] = (
        backups
        if isinstance(backups, Unknown)
        else (
            (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
            == "ENABLED"
            if backups
            else False
        )
    )
    # Region -> ReplicaStatus of every replica but the table itself; a status AWS leaves out
    # (older global tables) is taken as ACTIVE rather than guessed to be a problem.
    replicas = {
        r["RegionName"]: r.get("ReplicaStatus") or "ACTIVE"
        for r in table.get("Replicas") or []
        if r.get("RegionName") not in (None, region)
    }
    return TableSpec(
        name=table.get("TableName", ""),
        region=region,
        hash_key=hash_key or "",
        hash_key_type=types.get(hash_key or "", "S"),
        range_key=range_key,
        range_key_type=types.get(range_key) if range_key else None,
        billing_mode=billing,
        # moto (and AWS for a while after a switch) still reports throughput under on-demand.
        read_capacity=throughput.get("ReadCapacityUnits") if provisioned else None,
        write_capacity=throughput.get("WriteCapacityUnits") if provisioned else None,
        table_class=(table.get("TableClassSummary") or {}).get("TableClass") or "STANDARD",
        ttl=live_ttl,
        point_in_time_recovery=pitr,
        sse=(
            Sse(enabled=True, kms_key_arn=sse.get("KMSMasterKeyArn"))
            if sse is not None and sse.get("Status") in _SSE_ON
            else Sse(enabled=False)
        ),
        stream=(
            Stream(enabled=True, view_type=stream.get("StreamViewType"))
            if stream is not None and stream.get("StreamEnabled")
            else Stream(enabled=False, view_type=None)
        ),
        deletion_protection=bool(table.get("DeletionProtectionEnabled", False)),
        gsis=tuple(
            sorted(
                (_gsi(g, provisioned) for g in table.get("GlobalSecondaryIndexes") or []),
                key=lambda g: g.name,
            )
        ),
        lsis=tuple(sorted((_lsi(i) for i in table.get("LocalSecondaryIndexes") or []), key=lambda i: i.name)),
        replicas=frozenset(replicas),
        replica_status=replicas,
        index_status={
            g["IndexName"]: g["IndexStatus"]
            for g in table.get("GlobalSecondaryIndexes") or []
            if g.get("IndexStatus")
        },
        tags=tags if isinstance(tags, Unknown) else dict(tags or {}),
        status=table.get("TableStatus"),
        created_at=table.get("CreationDateTime"),
    )


def _attribute_types(definitions: Iterable[AttributeDefinitionTypeDef]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in definitions}


def _keys(schema: Iterable[KeySchemaElementTypeDef]) -> tuple[str | None, str | None]:
    hash_key = next((k["AttributeName"] for k in schema if k["KeyType"] == "HASH"), None)
    range_key = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
    return hash_key, range_key


def _projection(projection: ProjectionOutputTypeDef) -> tuple[str, frozenset[str]]:
    return projection.get("ProjectionType") or "ALL", frozenset(projection.get("NonKeyAttributes") or [])


def _gsi(index: GlobalSecondaryIndexDescriptionTypeDef, provisioned: bool) -> Gsi:
    hash_key, range_key = _keys(index.get("KeySchema") or [])
    projection_type, non_key = _projection(index.get("Projection") or {})
    throughput = index.get("ProvisionedThroughput") or {}
    return Gsi(
        name=index.get("IndexName", ""),
        hash_key=hash_key or "",
        range_key=range_key,
        projection_type=projection_type,
        non_key_attributes=non_key,
        read_capacity=throughput.get("ReadCapacityUnits") if provisioned else None,
        write_capacity=throughput.get("WriteCapacityUnits") if provisioned else None,
    )


def _lsi(index: LocalSecondaryIndexDescriptionTypeDef) -> Lsi:
    _, range_key = _keys(index.get("KeySchema") or [])
    projection_type, non_key = _projection(index.get("Projection") or {})
    return Lsi(
        name=index.get("IndexName", ""),
        range_key=range_key or "",
        projection_type=projection_type,
        non_key_attributes=non_key,
    )
