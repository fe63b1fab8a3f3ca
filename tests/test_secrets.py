"""One secrets module for logs, messages and URLs (issue 14, "Shape"): the three scrubbers it
replaced (log redaction, the AWS message scrubber, the Slack webhook scrubber) now share one
registry of secret values and one set of patterns."""

from __future__ import annotations

import pytest

from driftwatch import secrets
from driftwatch.aws.dynamodb import scrub as aws_scrub
from driftwatch.log import redact_text as log_redact
from driftwatch.notify.slack import SlackNotifier

HOOK = "https://hooks.slack.com/services/T0SECRETS/B0SECRETS/secrets-test-token-0123"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://user:pa55@dynamodb.local:4566/", "https://***@dynamodb.local:4566/"),
        ("http://AKIAIOSFODNN7EXAMPLE@proxy:8080", "http://***@proxy:8080"),
        ("https://dynamodb.us-east-1.amazonaws.com", "https://dynamodb.us-east-1.amazonaws.com"),
        (
            'Could not connect to the endpoint URL: "https://u:p@host:1/"',
            'Could not connect to the endpoint URL: "https://***@host:1/"',
        ),
    ],
)
def test_mask_url_hides_credentials_in_urls(url: str, masked: str) -> None:
    assert secrets.mask_url(url) == masked


def test_the_three_entry_points_share_the_registry() -> None:
    secrets.register_secret(HOOK)
    path = "/services/T0SECRETS/B0SECRETS/secrets-test-token-0123"
    text = f"POST {HOOK} failed; path {path}; host hooks.slack.com"
    for scrubbed in (
        log_redact(text),
        aws_scrub(text),
        SlackNotifier.scrub(text),
        secrets.scrub_message(text),
    ):
        assert "secrets-test-token-0123" not in scrubbed and "T0SECRETS" not in scrubbed


def test_log_redaction_masks_credentials_in_urls_and_key_ids() -> None:
    text = "endpoint https://admin:hunter2@localhost:8000 key AKIAIOSFODNN7EXAMPLE"
    redacted = log_redact(text)
    assert "hunter2" not in redacted and "AKIAIOSFODNN7EXAMPLE" not in redacted


def test_messages_are_capped_and_lose_the_canonical_request() -> None:
    message = "SignatureDoesNotMatch The Canonical String for this request should have been X-Amz-Token=a"
    assert secrets.scrub_message(message) == "SignatureDoesNotMatch"
    assert len(secrets.scrub_message("x " * 1000)) == secrets.MAX_MESSAGE


def test_a_malformed_url_is_still_registered_whole() -> None:
    secrets.register_secret("https://[not-a-host/secret-value-xyz")
    assert "secret-value-xyz" not in secrets.redact_text("got https://[not-a-host/secret-value-xyz back")


def test_every_public_error_class_shares_the_driftwatch_error_base() -> None:
    """The CLI prints a ``DriftwatchError`` as one line; an error class outside it would print
    a traceback. Found by walking every module, so a new one cannot be forgotten."""
    import importlib
    import inspect
    import pkgutil

    import driftwatch
    from driftwatch.errors import DriftwatchError

    found = {}
    for info in pkgutil.walk_packages(driftwatch.__path__, "driftwatch."):
        if info.name.startswith("driftwatch.demo") or info.name.endswith("__main__"):
            continue  # the demo needs moto (an optional extra); __main__ runs the CLI
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            public = name.endswith("Error") and not name.startswith("_")
            if (
                public
                and inspect.isclass(value)
                and issubclass(value, Exception)
                and value.__module__ == info.name
            ):
                found[f"{info.name}.{name}"] = issubclass(value, DriftwatchError)
    assert len(found) >= 10, found
    assert all(found.values()), [name for name, ok in found.items() if not ok]


def test_plain_words_of_a_registered_url_are_not_secrets() -> None:
    secrets.register_secret("https://hooks.slack.com/services/T0WORDS/B0WORDS/words-token-0123456")
    assert secrets.redact_text("AWS services and workflows") == "AWS services and workflows"
    assert "words-token-0123456" not in secrets.redact_text("token words-token-0123456 leaked")
