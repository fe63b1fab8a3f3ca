"""slack_sdk's ``WebhookClient`` without following redirects, and with a bounded answer.

urllib follows a 301, 302 or 303 answer to a POST with a GET that drops the body: the page
redirected to answers 200, and the message counted as delivered though Slack never saw it (a
lost alert). Slack's webhooks never redirect, so a redirect means the URL is wrong: here it is
an answer like any other 3xx, which the notifier keeps and retries loudly. Nothing is sent to
the other location, not even without the body. Slack answers ``ok``; more than
``MAX_ANSWER_BYTES`` of answer is not read (a misbehaving endpoint cannot fill memory).
"""

from __future__ import annotations

import urllib.request
from typing import Any
from urllib.request import HTTPRedirectHandler, HTTPSHandler, ProxyHandler, Request

from slack_sdk.errors import SlackRequestError
from slack_sdk.webhook import WebhookClient, WebhookResponse

MAX_ANSWER_BYTES = 64 * 1024


class _NoRedirect(HTTPRedirectHandler):
    """Refuse every redirect: urllib then raises the 3xx as an ``HTTPError`` (an answer)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class StrictWebhookClient(WebhookClient):
    """A ``WebhookClient`` whose requests follow no redirect and read a bounded answer."""

    def _perform_http_request_internal(self, url: str, req: Request) -> WebhookResponse:
        if not url.lower().startswith("http"):
            raise SlackRequestError("Invalid URL detected: not http(s)")
        handlers: list[urllib.request.BaseHandler] = [_NoRedirect(), HTTPSHandler(context=self.ssl)]
        if self.proxy is not None:
            if not isinstance(self.proxy, str):
                raise SlackRequestError("Invalid proxy detected: it must be a str value")
            handlers.append(ProxyHandler({"http": self.proxy, "https": self.proxy}))
        opener = urllib.request.build_opener(*handlers)
        with opener.open(req, timeout=self.timeout) as answer:
            body = _text(answer.read(MAX_ANSWER_BYTES), answer.headers.get_content_charset())
            return WebhookResponse(url=url, status_code=answer.status, body=body, headers=answer.headers)


def _text(data: bytes, charset: str | None) -> str:
    """The answer's text in its declared charset, else UTF-8. A charset Python does not know
    (``bogus``) or that is no text encoding (``base64``) raised ``LookupError`` after Slack had
    answered: the message counted as "maybe posted" and was posted again at every retry."""
    try:
        return data.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")
