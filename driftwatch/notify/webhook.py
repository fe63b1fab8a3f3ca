"""slack_sdk's ``WebhookClient`` without following redirects, and with a bounded answer.

urllib follows a 301, 302 or 303 answer to a POST with a GET that drops the body: the page
redirected to answers 200, and the message counted as delivered though Slack never saw it (a
lost alert). Slack's webhooks never redirect, so a redirect means the URL is wrong: here it is
an answer like any other 3xx, which the notifier keeps and retries loudly. Nothing is sent to
the other location, not even without the body. Slack answers ``ok``; more than
``MAX_ANSWER_BYTES`` of answer is not read, whatever the status (a misbehaving endpoint cannot
fill memory: slack_sdk read the whole body of a 4xx or 5xx), and a body that stops coming is
judged on what arrived (see :func:`_read_answer`).
"""

from __future__ import annotations

import http.client
import time
import urllib.request
from typing import Any
from urllib.error import HTTPError
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
        try:
            answer: Any = opener.open(req, timeout=self.timeout)
        except HTTPError as error:  # any status but 2xx: an answer too, read within the same bounds
            answer = error
        with answer:
            body = _read_answer(answer, float(self.timeout or 30))
            return WebhookResponse(
                url=url,
                status_code=answer.status,
                body=_text(body, answer.headers.get_content_charset()),
                headers=answer.headers,
            )


def _read_answer(answer: Any, seconds: float) -> bytes:
    """The answer's body: at most ``MAX_ANSWER_BYTES``, and what arrived within ``seconds``.

    Once the status line and headers are in, Slack's answer is known. A body that never ends
    (a ``Content-Length`` larger than what is sent, a proxy that stalls after ``ok``) raised a
    timeout that counted as no answer at all: the message, posted, was posted again as a
    possible repeat at every retry, and every later message of the channel waited behind it
    for good. Now what arrived is the body, judged as any other.
    """
    body = bytearray()
    deadline = time.monotonic() + seconds
    try:
        while len(body) < MAX_ANSWER_BYTES and time.monotonic() < deadline:
            chunk = answer.read1(MAX_ANSWER_BYTES - len(body))
            if not chunk:
                break
            body += chunk
    except (OSError, ValueError, http.client.HTTPException):
        pass  # a timeout, a reset, a broken chunk, no body at all (an HTTPError without one)
    return bytes(body)


def _text(data: bytes, charset: str | None) -> str:
    """The answer's text in its declared charset, else UTF-8. A charset Python does not know
    (``bogus``) or that is no text encoding (``base64``) raised ``LookupError`` after Slack had
    answered: the message counted as "maybe posted" and was posted again at every retry."""
    try:
        return data.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")
