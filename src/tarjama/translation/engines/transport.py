"""One HTTP transport for every web engine: timeouts, retries, Retry-After, redaction.

deep-translator calls ``requests`` with no timeout, no retry and no throttle;
every web engine here sends its requests through :class:`Transport` instead:

- **timeouts** on every request: connect and per-read timeouts from httpx,
  plus a deadline on the whole answer, so a server that dribbles bytes
  cannot hold a run either;
- **retries** with exponential backoff and equal jitter (the n-th retry
  waits between ``backoff * 2**(n-1) / 2`` and ``backoff * 2**(n-1)``
  seconds, capped) on 429, 408, 5xx, timeouts, refused or dropped
  connections, truncated bodies and unreadable 2xx answers; a
  ``Retry-After`` header is honoured (as the minimum wait);
- **no retry** on answers that would not change: a bad key, an unsupported
  language, a malformed request (:class:`EngineRejected`); a request too
  large for the service (413/414) raises :class:`PayloadTooLarge` so the
  batcher can split it;
- after the last attempt, :class:`EngineUnavailable` says which engine, what
  happened, how often and for how long;
- an optional ``throttle`` is called before every attempt (the flow layer
  passes one backed by Prefect's global concurrency limits);
- once the process stops translating on a signal, no attempt starts and a
  retry's wait is cut short (:mod:`tarjama.translation.stopping`);
- **secrets never leak**: URLs in messages are reduced to scheme, host and
  path (never the query), every registered secret value is replaced by
  ``***`` in every message, and a logging filter does the same for httpx's
  own request log lines. Exceptions are raised ``from None`` so no chained
  httpx exception (whose text may contain a full URL) is attached.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, TypeVar

import httpx

from tarjama.errors import TarjamaError
from tarjama.translation.stopping import check_translating, pause, request

log = logging.getLogger("tarjama.translation.engines")
T = TypeVar("T")
USER_AGENT = f"tarjama/{version('tarjama')} (httpx)"


# --------------------------------------------------------------------------- errors


class EngineError(TarjamaError):
    """A web engine failed; the message starts with the engine's name and never holds a secret."""

    def __init__(self, engine: str, message: str) -> None:
        self.engine = engine
        super().__init__(redact(f"engine {engine}: {message}"))


class EngineRejected(EngineError):
    """The service refused the request for a reason retrying cannot fix (key, language, request)."""


class EngineUnavailable(EngineError):
    """Transient failures (429, 5xx, timeouts, dropped connections) persisted through every retry."""


class ServiceAsksToWait(EngineUnavailable):
    """The service asked to wait longer than the engine's limit (``Retry-After``): no retry may ask sooner,
    the orchestrator's neither."""


class PayloadTooLarge(EngineError):
    """The service refused the request's size (HTTP 413/414); the batcher splits and tries again."""


class RetryableResponse(Exception):
    """Raised by a parser when a 2xx answer is unreadable or reports a transient service error."""


# --------------------------------------------------------------------------- redaction

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_QUERY_SECRET = re.compile(
    r"(?i)\b(key|api_key|apikey|api-key|auth_key|authkey|appid|appkey|sign|token|access_token|"
    r"subscription-key|client_secret|password|de)=([^&\s\"'<>]+)"
)
_HEADER_SECRET = re.compile(
    r"(?i)\b(authorization|ocp-apim-subscription-key|x-api-key)(['\"]?\s*[:=]\s*['\"]?)"
    r"((?:bearer|deepl-auth-key)\s+)?([^\s'\",}]+)"
)


def register_secret(value: str | None) -> None:
    """Remember a credential so that :func:`redact` removes it from any text."""
    if value and len(value) >= 4:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    """``text`` without any registered secret, secret-looking query parameter or auth header value."""
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    text = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}=***", text)
    return _HEADER_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}***", text)


def safe_url(url: str | httpx.URL) -> str:
    """Scheme, host, port and path only: the query string may carry a key."""
    try:
        parsed = httpx.URL(str(url))
    except Exception:
        return "<url>"
    if not parsed.host:
        return redact(parsed.path or "<url>")
    port = f":{parsed.port}" if parsed.port else ""
    return redact(f"{parsed.scheme}://{parsed.host}{port}{parsed.path}")


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message without secrets (httpx logs full request URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()


def install_redaction() -> None:
    """Attach the redacting filter to the loggers that may print URLs (once; called by every transport)."""
    for name in ("httpx", "httpcore", "tarjama.translation.engines", "tarjama"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry transient failures.

    ``attempts`` counts every try (the first one included). The n-th retry
    waits a random time between half of and the full ``backoff * 2**(n-1)``
    seconds (at most ``max_backoff``), or longer if the server's
    ``Retry-After`` asks for it; a ``Retry-After`` beyond ``max_retry_after``
    ends the attempts at once (a daily quota, not a hiccup).
    """

    attempts: int = 6
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_retry_after: float = 300.0

    def delay(self, retry: int, rng: random.Random) -> float:
        full = min(self.max_backoff, self.backoff * 2 ** (retry - 1))
        return full / 2 + rng.uniform(0, full / 2)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# --------------------------------------------------------------------------- transport


@dataclass(frozen=True)
class Reply:
    """A complete HTTP answer, read in full within the deadline."""

    status: int
    reason: str
    headers: httpx.Headers
    content: bytes
    charset: str | None

    @property
    def text(self) -> str:
        return self.content.decode(self.charset or "utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; an unreadable body is a transient fault (it was cut or garbled)."""
        try:
            return json.loads(self.text)
        except ValueError:
            raise RetryableResponse(f"unreadable JSON ({len(self.content)} bytes)") from None


class _Deadline(Exception):
    pass


def _detail(reply: Reply) -> str:
    """A short, secret-free description of an error answer's body."""
    text = reply.text.strip()
    message: Any = None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("error", "message", "detail", "error_msg", "responseDetails"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value
            if value:
                message = value
                break
    if message is None:
        message = re.sub(r"<[^>]+>", " ", text)
    return redact(" ".join(str(message).split()))[:200]


class Transport:
    """Sends one engine's requests: throttled, timed out, retried, and redacted.

    ``parse`` turns a 2xx reply into the caller's result; it may raise
    :class:`RetryableResponse` (truncated or garbled body, a service's
    transient error reported inside a 200) or :class:`EngineRejected`.
    ``requests`` counts every request sent and ``retries`` every retry.
    """

    def __init__(
        self,
        engine: str,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        throttle: Callable[[], None] | None = None,
        secrets: Iterable[str | None] = (),
        headers: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = pause,
    ) -> None:
        if timeout <= 0:
            raise TarjamaError(f"engine {engine}: the request timeout must be positive, got {timeout:g}")
        self.engine = engine
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.throttle = throttle
        self.requests = 0
        self.retries = 0
        self._rng = rng or random.Random()
        self._sleep = sleep
        install_redaction()
        for secret in secrets:
            register_secret(secret)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            follow_redirects=False,  # a key in a custom header would follow a redirect to another host
        )

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        url: str,
        parse: Callable[[Reply], T],
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        size: int = 0,
        too_large: Callable[[Reply], bool] | None = None,
    ) -> T:
        """Send until ``parse`` accepts an answer, a permanent error, or the last attempt.

        ``size`` (characters of text sent) is only for messages; ``too_large``
        recognises a service's own way of saying "request too large" (besides
        HTTP 413/414), e.g. LibreTranslate's 400 "exceeds text limit".
        """
        where = f"{method} {safe_url(url)}"
        started = time.monotonic()
        attempts = max(1, self.retry.attempts)
        problem = "no attempt made"
        answered = False  # the last problem is the service's answer ("HTTP 503 from POST ..."), else the network's
        said = f"{problem} ({where})"
        for attempt in range(1, attempts + 1):
            check_translating()  # a process stopping on a signal sends no new request (nor a retry)
            if self.throttle is not None:
                self.throttle()
            wait_hint: float | None = None
            answered = False
            try:
                with request():
                    reply = self._send(method, url, params=params, data=data, json=json, headers=headers)
            except _Deadline:
                problem = f"no complete answer within {self.timeout:g} s"
            except httpx.TimeoutException as error:
                problem = f"timed out after {self.timeout:g} s ({type(error).__name__})"
            except httpx.ConnectError:
                problem = "could not connect"
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError) as error:
                problem = f"connection dropped or answer cut short ({type(error).__name__})"
            except httpx.TransportError as error:
                problem = f"network error ({type(error).__name__})"
            else:
                answered = True
                status = reply.status
                if 200 <= status < 300:
                    try:
                        return parse(reply)
                    except RetryableResponse as error:
                        problem = f"unusable answer: {redact(str(error))}"
                elif status in (413, 414) or (400 <= status < 500 and too_large is not None and too_large(reply)):
                    raise PayloadTooLarge(
                        self.engine,
                        f"HTTP {status} {reply.reason}: a {size}-character request is too large for {where}",
                    ) from None
                elif 300 <= status < 400:
                    raise EngineRejected(
                        self.engine,
                        f"HTTP {status} {reply.reason} from {where}: redirected to "
                        f"{safe_url(reply.headers.get('location', '?'))} (not followed; check the engine's URL)",
                    ) from None
                elif status in (408, 429) or (500 <= status < 600 and status not in (501, 505)):
                    problem = f"HTTP {status} {reply.reason}".rstrip()
                    wait_hint = retry_after_seconds(reply.headers.get("retry-after"))
                else:
                    raise EngineRejected(
                        self.engine,
                        f"HTTP {status} {reply.reason} from {where}: {_detail(reply) or 'no details'} "
                        "(not retried: the same request would fail again)",
                    ) from None
            said = f"{problem} from {where}" if answered else f"{problem} ({where})"  # not "could not connect from"
            if attempt == attempts:
                break
            delay = self.retry.delay(attempt, self._rng)
            if wait_hint is not None:
                if wait_hint > self.retry.max_retry_after:
                    raise ServiceAsksToWait(
                        self.engine,
                        f"{said}; the service asks to wait {wait_hint:.0f} s "
                        f"(more than {self.retry.max_retry_after:g} s), giving up after {attempt} attempt(s)",
                    ) from None
                delay = max(delay, wait_hint)
            self.retries += 1
            log.warning(
                "engine %s: %s (attempt %d of %d); retrying in %.2f s",
                self.engine,
                said,
                attempt,
                attempts,
                delay,
            )
            self._sleep(delay)
        raise EngineUnavailable(
            self.engine,
            f"{said}; gave up after {attempts} attempt(s) over {time.monotonic() - started:.1f} s",
        ) from None

    def _send(self, method: str, url: str, **options: Any) -> Reply:
        deadline = time.monotonic() + self.timeout
        self.requests += 1
        with self._client.stream(method, url, **options) as response:
            chunks = []
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise _Deadline
            return Reply(
                status=response.status_code,
                reason=response.reason_phrase,
                headers=response.headers,
                content=b"".join(chunks),
                charset=response.charset_encoding,
            )
