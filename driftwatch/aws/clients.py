"""boto3 clients for the live side, built once and shared by the scan's worker threads.

Creating clients concurrently from one session is not thread-safe (botocore#2991), while a
built client is; so clients are created under a lock, cached per (service, region, role) and
handed to every worker. Everything else -- credentials, profile, ``AWS_ENDPOINT_URL``, web
identity (IRSA) -- is left to boto3's standard chain so that driftwatch behaves like any other
AWS tool in the same environment.
"""

from __future__ import annotations

import os
import platform
import random
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.configloader import raw_config_parse
from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials
from botocore.exceptions import BotoCoreError, ConfigParseError, CredentialRetrievalError, ProfileNotFound

from driftwatch.aws import checksum, responses, strict_parse
from driftwatch.aws.calls import TIMEOUT, ApiCallRecorder, is_throttled_attempt
from driftwatch.aws.deadline import DEFAULT_CALL_TIMEOUT_SECONDS, CallDeadlineExceeded, CallDeadlines
from driftwatch.aws.dynamodb import FETCHING_CREDENTIALS, LiveReadError, read_aws, scrub
from driftwatch.aws.ratelimit import RateLimiter
from driftwatch.log import get_logger

log = get_logger(__name__)

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sts import STSClient

ROLE_SESSION_NAME = "driftwatch"


def user_agent() -> str:
    """``driftwatch/<version> botocore/<version> Python/<version>``: the User-Agent of every call.

    Set as ``Config.user_agent``, which botocore sends as it is. Without it botocore rebuilds
    its own User-Agent 2.0 string (a dozen sanitised components, twice per request): about a
    tenth of a call's CPU. It also tells the account owner in CloudTrail that driftwatch made
    the call.
    """
    from botocore import __version__ as botocore_version

    from driftwatch import __version__

    return f"driftwatch/{__version__} botocore/{botocore_version} Python/{platform.python_version()}"


_CREDENTIALS = FETCHING_CREDENTIALS  # what failed, when making a client fails for want of them

_SESSION_NAME_INVALID = re.compile(r"[^\w+=,.@-]")

_Service = Literal["dynamodb", "application-autoscaling", "sts"]

RetryMode = Literal["limiter", "standard", "adaptive"]
RETRY_MODES: tuple[RetryMode, ...] = ("limiter", "standard", "adaptive")
DEFAULT_RETRY_MODE: RetryMode = "limiter"
# ``limiter`` mode: botocore's standard retries, with throttled attempts retried after
# rand x 0.1 s x 2^i (botocore: rand x 1 s x 2^i, at most 20 s); the request rate is driftwatch's
# own limiter's (aws.max_requests_per_second). benchmarks/throttling.py: under 30% random
# throttling botocore's 1 s scale made a 20-table scan 20x slower and adaptive mode 50x
# (its client-side rate collapses), while the scale alone decides nothing about the rate.
THROTTLE_BACKOFF_SECONDS = 0.1
# ... and a throttle is retried until this attempt (other failures: aws.max_attempts). At 30%
# random throttling 5 attempts leave 0.3^5 = 0.24% of calls failed (one table in five scans of
# 20); 10 leave 6 in a million. The call's deadline (aws.call_timeout) still bounds the time.
THROTTLE_MAX_ATTEMPTS = 10


def role_session_name(target: str) -> str:
    """``driftwatch-<target>``, made a valid RoleSessionName (``[\\w+=,.@-]``, 2 to 64 characters).

    The session name appears in the assumed-role ARN and so in the account's CloudTrail: the
    owner of the role sees which driftwatch target made each call.
    """
    return _SESSION_NAME_INVALID.sub("-", f"{ROLE_SESSION_NAME}-{target}")[:64]


class AwsConfigError(LiveReadError):
    """The local AWS configuration is unusable: ``AWS_PROFILE`` names a profile that does not
    exist, or the config or credentials file does not parse.

    One line, naming the profile or the file (never its content). It is a ``LiveReadError``,
    so in a scan it is each table's error like any other AWS failure: the daemon keeps running
    and reports it every scan (no crash loop), and picks up the fixed file on the next scan;
    ``driftwatch scan`` checks it first and exits 1 with this line.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__("AWS configuration", None, None, code, detail)
        hint = {
            "ProfileNotFound": "set AWS_PROFILE to a profile of ~/.aws/config or ~/.aws/credentials, "
            "or unset it",
            "ConfigParseError": "fix or remove that file (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE "
            "point elsewhere)",
            "InvalidEndpoint": "fix AWS_ENDPOINT_URL (or the service's AWS_ENDPOINT_URL_*), or unset it",
        }.get(code, "check AWS_PROFILE and the AWS config and credentials files")
        self.args = (f"AWS configuration is unusable: {detail} ({hint})",)


def config_error(error: BotoCoreError) -> AwsConfigError:
    """``error`` (raised by botocore while reading the local AWS configuration) as one line."""
    if isinstance(error, ProfileNotFound):
        profile = str(error.kwargs.get("profile", ""))[:100]
        return AwsConfigError("ProfileNotFound", f"the profile {profile!r} (AWS_PROFILE) does not exist")
    if isinstance(error, ConfigParseError):
        path = str(error.kwargs.get("path", ""))[:300]
        return AwsConfigError("ConfigParseError", f"cannot parse {path}")
    return AwsConfigError(type(error).__name__, scrub(str(error)))


def invalid_endpoint(error: ValueError) -> AwsConfigError:
    """A malformed ``AWS_ENDPOINT_URL``. botocore's message quotes the URL, which may hold a
    password even where it does not parse as a URL (``user:pw@host``): it is not repeated."""
    reason = "not a valid URL" if str(error).startswith("Invalid endpoint") else "cannot be parsed"
    return AwsConfigError("InvalidEndpoint", f"the AWS endpoint URL (AWS_ENDPOINT_URL) is {reason}")


@dataclass(frozen=True)
class Role:
    """An IAM role to assume for a target's AWS calls."""

    arn: str
    external_id: str | None = None
    session_name: str = ROLE_SESSION_NAME


class _AssumedRoleProvider(CredentialProvider):
    """Feeds auto-refreshing assumed-role credentials into a botocore session.

    Going through the credential resolver (instead of copying keys into a client) means
    botocore refreshes the credentials before they expire, under its own lock, for every
    client of that session -- a long-running daemon never hits ExpiredToken.
    """

    METHOD = "driftwatch-assume-role"
    CANONICAL_NAME = "driftwatch-assume-role"

    def __init__(self, sts: STSClient, role: Role) -> None:
        super().__init__()
        self._sts = sts
        self._role = role

    def load(self) -> DeferredRefreshableCredentials:
        return DeferredRefreshableCredentials(refresh_using=self._refresh, method=self.METHOD)

    def _refresh(self) -> dict[str, str]:
        role = self._role
        extra = {"ExternalId": role.external_id} if role.external_id else {}
        # Checked like every answer: an empty one is InvalidResponse, not a KeyError.
        region = self._sts.meta.region_name
        credentials = read_aws(
            "AssumeRole",
            None,
            region,
            responses.assume_role,
            self._sts.assume_role,
            RoleArn=role.arn,
            RoleSessionName=role.session_name,
            **extra,
        )
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }


_LOADER_LOCK = threading.Lock()
_SHARED_LOADER: list[Any] = []  # the process's one botocore data loader, once made


def new_session(core: botocore.session.Session | None = None) -> boto3.Session:
    """A boto3 session (of ``core``, else of a fresh botocore session) whose botocore data
    (endpoints, service models, endpoint rule sets) is read through the process's one loader.

    Each botocore session otherwise parses ``endpoints.json`` and every service model again:
    about 40 ms of CPU per session, paid once per role assumed (one session each) and once per
    scan that builds its clients afresh (a third of the CPU of a small scan against a local
    endpoint). The loader only memoises what it read from botocore's own files, which do not
    change while the process runs."""
    core = core or botocore.session.get_session()
    strict_parse.install(core)  # a JSON type botocore did not expect is a broken answer
    with _LOADER_LOCK:
        if _SHARED_LOADER:
            core.register_component("data_loader", _SHARED_LOADER[0])
        else:
            _SHARED_LOADER.append(core.get_component("data_loader"))
        session = boto3.Session(botocore_session=core)
        # boto3 appends its own data directory to the loader at every session: kept once.
        paths = _SHARED_LOADER[0].search_paths
        paths[:] = list(dict.fromkeys(paths))
    return session


class AwsClients:
    """boto3 clients created once and shared by worker threads; one per (service, region, role).

    Retries follow ``retry_mode`` (``limiter`` by default: botocore's standard retries, a
    throttle retried soon and up to ``THROTTLE_MAX_ATTEMPTS``, the rate held by driftwatch's
    own limiter rather than by a client-side rate that throttles cut); ``max_attempts`` counts
    the first attempt too. ``max_pool_connections`` must be at least the scan's concurrency, or
    workers queue for HTTP connections. Every call also has a total deadline of
    ``call_timeout`` seconds (``deadline.py``): the socket timeouts alone let an endpoint that
    drip-feeds its answer hold a call for ever.
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        max_attempts: int = 5,
        connect_timeout: float = 5,
        read_timeout: float = 15,
        max_pool_connections: int = 16,
        recorder: ApiCallRecorder | None = None,
        max_requests_per_second: float | None = None,
        request_burst: int = 8,
        call_timeout: float = DEFAULT_CALL_TIMEOUT_SECONDS,
        retry_mode: RetryMode = DEFAULT_RETRY_MODE,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (it counts the first attempt)")
        if retry_mode not in RETRY_MODES:
            raise ValueError(f"retry_mode must be one of {', '.join(RETRY_MODES)}")
        self.retry_mode = retry_mode
        self.max_attempts = max_attempts
        # Built on first use, not here: a broken AWS configuration is then an error of each
        # scan (reported, retried next scan) instead of a crash at start.
        self._session: boto3.Session | None = session
        self.recorder = recorder
        # One token bucket per client (service x region x role): a big scan stays under the
        # configured request rate; retries take tokens too, so throttling is not amplified.
        self.max_requests_per_second = max_requests_per_second
        self.request_burst = request_burst
        self.limiters: list[RateLimiter] = []
        self.deadlines = CallDeadlines(call_timeout)
        self.config = Config(
            retries={
                "mode": "standard" if retry_mode == "limiter" else retry_mode,
                "total_max_attempts": max_attempts,
            },
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
            # Every request is built by driftwatch itself: constants, table names vetted by
            # evaluation (terraform/vet.py; read_table refuses an empty one), and tokens and
            # ARNs taken from answers only once checked to be strings (responses.py). So
            # botocore's walk of each request against the model (type and length) finds
            # nothing; its docs name this switch for performance. AWS still validates.
            parameter_validation=False,
            user_agent=user_agent(),
        )
        self._lock = threading.Lock()
        self._clients: dict[tuple[_Service, str, Role | None], BaseClient] = {}
        self._role_sessions: dict[Role, boto3.Session] = {}

    def dynamodb(self, region: str, role_arn: str | Role | None = None) -> DynamoDBClient:
        client: DynamoDBClient = self._client("dynamodb", region, _role(role_arn))
        return client

    def autoscaling(self, region: str, role_arn: str | Role | None = None) -> ApplicationAutoScalingClient:
        role = _role(role_arn)
        client: ApplicationAutoScalingClient = self._client("application-autoscaling", region, role)
        return client

    def assume(self, role: Role, region: str) -> None:
        """Get (or refresh) the role's credentials now; raises what AssumeRole raised.

        A scan calls this once per role before reading the role's tables, so a role that cannot
        be assumed costs one STS call and one clear error per table, not a failed call each.
        The credentials are botocore's refreshable ones: after a failure the next scan tries
        again, and a successful result is reused until shortly before it expires.
        """
        with self._lock:
            session = self._role_session(role, region)
        credentials = session.get_credentials()
        if credentials is None:  # pragma: no cover - the provider is first in the chain
            raise RuntimeError(f"no credentials for role {role.arn}")
        credentials.get_frozen_credentials()

    def caller_account(self, region: str) -> str:
        """The account the base credentials act in (``sts:GetCallerIdentity``, which needs no
        IAM permission); raises ``LiveReadError``. Asked once per scan, and only by a scan with
        tables bound to an account (driftwatch.accounts): the credentials may change between
        scans (a new IRSA token, a rotated profile), so the answer is not kept longer."""
        sts: STSClient = self._client("sts", region, None)
        return read_aws("GetCallerIdentity", None, region, responses.caller_identity, sts.get_caller_identity)

    def check_configuration(self) -> None:
        """Read the local AWS configuration now; ``AwsConfigError`` when it is unusable.

        Parses the config and shared credentials files (no network call): a missing
        ``AWS_PROFILE`` or a file that does not parse is one clear line here, instead of a
        failed call per table later.
        """
        with self._lock:
            session = self._base_session()
        _read_configuration(session)

    @staticmethod
    def configuration_problem() -> str | None:
        """What is wrong with the local AWS configuration, in one line, or None (for a CLI
        check before anything is read)."""
        try:
            session = boto3.Session()
            _read_configuration(session)
            session.client("dynamodb", region_name="us-east-1")  # local: checks the endpoint URL
        except BotoCoreError as error:
            return str(config_error(error))
        except AwsConfigError as error:
            return str(error)
        except ValueError as error:
            return str(invalid_endpoint(error))
        return None

    def _base_session(self) -> boto3.Session:
        """The session of the standard credential chain (called with the lock held)."""
        if self._session is None:
            try:
                session = new_session()
                self.deadlines.cover(session._session)  # its credential providers' clients too
                self._session = session
            except BotoCoreError as error:
                raise config_error(error) from None
        return self._session

    def _client(self, service: _Service, region: str, role: Role | None) -> Any:
        key = (service, region, role)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                session = self._base_session() if role is None else self._role_session(role, region)
                client = self._new_client(session, service, region)
                self._clients[key] = client
            return client

    def _new_client(self, session: boto3.Session, service: _Service, region: str) -> BaseClient:
        try:
            # botocore fetches the session's first credentials here (EKS Pod Identity's agent,
            # ECS, instance metadata): within a call's deadline, for a worker holding the lock
            with self.deadlines.guarding():
                client: BaseClient = session.client(service, region_name=region, config=self.config)
        except (ProfileNotFound, ConfigParseError) as error:
            raise config_error(error) from None
        except ValueError as error:  # botocore quotes the endpoint URL, credentials and all
            raise invalid_endpoint(error) from None
        except CallDeadlineExceeded as error:
            detail = f"the AWS credentials were not fetched within {error.kwargs['limit']}"
            raise LiveReadError(_CREDENTIALS, None, region, TIMEOUT, detail) from None
        except CredentialRetrievalError as error:
            raise LiveReadError(_CREDENTIALS, None, region, type(error).__name__, scrub(str(error))) from None
        attempts = max(THROTTLE_MAX_ATTEMPTS, self.max_attempts)
        shortened = self.retry_mode != "limiter" or shorten_throttle_backoff(client, attempts=attempts)
        if not shortened:  # pragma: no cover - a botocore that changed its retry internals
            log.warning("aws_throttle_backoff_unchanged", reason="botocore's retry handler was not found")
        self.deadlines.attach(client)
        checksum.attach(client)  # a body botocore's retries left failing its x-amz-crc32
        if self.recorder is not None:
            self.recorder.attach(client)
        if self.max_requests_per_second is not None:
            limiter = RateLimiter(self.max_requests_per_second, self.request_burst)
            limiter.attach(client)
            self.limiters.append(limiter)
        return client

    def _role_session(self, role: Role, region: str) -> boto3.Session:
        """A session whose credentials come from assuming ``role`` with the base credentials.

        Called with the lock held. The STS client is built here, not on refresh, so no client
        is ever created from a worker thread; STS is regional, so the first region asked for
        is used for its endpoint.
        """
        session = self._role_sessions.get(role)
        if session is None:
            base = self._base_session()
            sts: STSClient = self._new_client(base, "sts", region)  # type: ignore[assignment]
            core = botocore.session.get_session()
            profile = base.profile_name
            if profile and profile != "default":
                core.set_config_variable("profile", profile)
            resolver = core.get_component("credential_provider")
            # First in the chain: the role's credentials win over anything in env or files.
            resolver.providers.insert(0, _AssumedRoleProvider(sts, role))
            self.deadlines.cover(core)
            session = new_session(core)
            self._role_sessions[role] = session
        return session


class _ThrottleChecker:
    """botocore's standard retry decision, except that a throttle is retried until attempt
    ``attempts`` (it costs AWS nothing to answer, and the short backoff makes it cheap here)."""

    def __init__(self, botocore_checker: Any, attempts: int) -> None:
        self.botocore_checker = botocore_checker
        self.attempts = attempts

    def is_retryable(self, context: Any) -> bool:
        if is_throttled_attempt(context):
            return bool(context.attempt_number < self.attempts)
        return bool(self.botocore_checker.is_retryable(context))


class _ThrottleBackoff:
    """botocore's standard backoff, except after a throttle: rand x ``seconds`` x 2^(attempt-1)."""

    def __init__(self, botocore_backoff: Any, seconds: float) -> None:
        self.botocore_backoff = botocore_backoff
        self.seconds = seconds

    def delay_amount(self, context: Any) -> float:
        if is_throttled_attempt(context):
            return float(random.random() * min(self.seconds * 2 ** (context.attempt_number - 1), 20.0))
        return float(self.botocore_backoff.delay_amount(context))


class _ThrottleQuota:
    """botocore's retry quota, except that retrying a throttle costs none of it.

    The quota (500 units, 5 per throttle retry, refilled by successes) is botocore's guard
    against retry storms. Under sustained throttling it runs dry within a hundred retries and
    then every throttled call fails at once: in benchmarks/throttling.py's 100 requests/s
    bucket, 11 of 100 tables became errors. Here the storm is bounded otherwise: every attempt,
    retries included, takes a token of driftwatch's own limiter (aws.max_requests_per_second),
    and a throttle is retried ``THROTTLE_MAX_ATTEMPTS`` times at most within the call's deadline.
    Other errors still draw on the quota as botocore decides."""

    def __init__(self, botocore_quota: Any) -> None:
        self.botocore_quota = botocore_quota

    def acquire_retry_quota(self, context: Any) -> bool:
        if is_throttled_attempt(context):
            return True
        return bool(self.botocore_quota.acquire_retry_quota(context))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.botocore_quota, name)


def shorten_throttle_backoff(
    client: BaseClient, seconds: float = THROTTLE_BACKOFF_SECONDS, attempts: int = THROTTLE_MAX_ATTEMPTS
) -> bool:
    """Make the standard retry handler of ``client`` wait rand x ``seconds`` x 2^i after a
    throttle instead of botocore's rand x 1 s x 2^i, retry a throttle until attempt
    ``attempts`` (at least max_attempts) without drawing on the retry quota; False if the
    handler is not there.

    botocore has no setting for either: the policy of the handler it registers (under a unique
    id) gets a checker and a backoff that answer throttles themselves and hand everything else
    to botocore's. What else is retried, and the retry quota, stay botocore's.
    """
    service = client.meta.service_model.service_id.hyphenize()
    emitter = getattr(client.meta.events, "_emitter", None)
    registered = getattr(emitter, "_unique_id_handlers", {}).get(f"retry-config-{service}")
    handler = getattr(registered.get("handler") if isinstance(registered, dict) else None, "__self__", None)
    policy = getattr(handler, "_retry_policy", None)
    backoff = getattr(policy, "_retry_backoff", None)
    checker = getattr(policy, "_retry_checker", None)
    quota = getattr(handler, "_retry_quota", None)
    if not (
        hasattr(backoff, "delay_amount")
        and hasattr(checker, "is_retryable")
        and hasattr(quota, "acquire_retry_quota")
    ):
        return False
    if not isinstance(backoff, _ThrottleBackoff):
        setattr(policy, "_retry_backoff", _ThrottleBackoff(backoff, seconds))  # noqa: B010
    if not isinstance(checker, _ThrottleChecker):
        setattr(policy, "_retry_checker", _ThrottleChecker(checker, attempts))  # noqa: B010
    if not isinstance(quota, _ThrottleQuota):
        setattr(handler, "_retry_quota", _ThrottleQuota(quota))  # noqa: B010
    return True


def _read_configuration(session: boto3.Session) -> None:
    """Parse the session's AWS config and shared credentials files (no network call)."""
    core = session._session
    try:
        core.get_scoped_config()
        credentials_file = core.get_config_variable("credentials_file")
        if credentials_file and os.path.isfile(os.path.expanduser(credentials_file)):
            raw_config_parse(credentials_file)  # a missing file is fine: other sources
    except BotoCoreError as error:
        raise config_error(error) from None


def _role(role: str | Role | None) -> Role | None:
    return Role(role) if isinstance(role, str) else role
