"""A loopback HTTP server that speaks translation services' wire protocols, and misbehaves on request.

It answers the requests tarjama's web engines (and deep-translator) send,
on 127.0.0.1 only, at these base URLs (``services.url(name)``):

==============  ======================================  ====================================
service         endpoint                                 answer
==============  ======================================  ====================================
google          ``GET /google/m?tl&sl&q``                Google's mobile result page
libre           ``POST /libre/translate``                ``{"translatedText": str | [str]}``
mymemory        ``GET /mymemory/get?langpair&q``         ``{"responseData": {...}}``
deepl           ``POST /deepl/v2/translate``             ``{"translations": [{"text"}]}``
microsoft       ``POST /microsoft/translate?...``        ``[{"translations": [{"text"}]}]``
qcri            ``GET /qcri/translate?key&text``         ``{"translatedText"}``
yandex          ``POST /yandex/translate``               ``{"code": 200, "text": [...]}``
baidu           ``POST /baidu/translate``                ``{"trans_result": [{"dst"}]}``
openai          ``POST /openai/v1/chat/completions``     chat completion (JSON array for batches)
==============  ======================================  ====================================

The "translation" is a deterministic transliteration of each segment
(:func:`fake_english`), so a segment's answer never depends on how it was
batched. Newline-separated services translate line by line, list services
item by item, as the real ones do.

Faults are queued with :meth:`LoopbackServices.inject` (one per request,
in order, optionally for one service) or set for every request with
``persistent``: ``"429"``, ``"429:S"`` (with ``Retry-After: S``),
``"429-date:S"`` (Retry-After as an HTTP date), any other status code
(``"500"``, ``"503"``, ``"400"``, ``"403"``, ``"413"``, ...), ``"hang"``
(no answer for ``hang_seconds``, then the connection is closed),
``"drop"`` (connection closed without an answer), ``"truncate"`` (a 200
whose body stops half-way, shorter than its Content-Length), ``"garbage"``
(a complete 200 whose body is cut in half) and ``"wrong-count"`` (one
segment fewer than sent). ``answers`` maps a segment to what is answered
for it instead of its transliteration, as a failing service answers: ``""``
(nothing) or the segment itself (sent back untranslated). :meth:`hold_after` makes requests wait once a
number have been answered, to kill a client at a known point.

With ``keys``, the services that take a key refuse requests without one of
them (403/401 as the real services do). With ``accent``, every answer starts
with that word, so two servers answer the same segment differently. Every request is recorded
(:class:`Record`). The server stops itself after ``lifetime`` seconds, and
on leaving its ``with`` block.
"""

from __future__ import annotations

import email.utils
import html
import json
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_LETTERS = {
    "ا": "a",
    "أ": "a",
    "إ": "i",
    "آ": "aa",
    "ٱ": "a",
    "ب": "b",
    "ت": "t",
    "ث": "th",
    "ج": "j",
    "ح": "h",
    "خ": "kh",
    "د": "d",
    "ذ": "dh",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "sh",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "z",
    "ع": "'",
    "غ": "gh",
    "ف": "f",
    "ق": "q",
    "ك": "k",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "و": "w",
    "ي": "y",
    "ى": "a",
    "ة": "a",
    "ء": "'",
    "ئ": "'",
    "ؤ": "'",
    "ـ": "",
    "،": ",",
    "؛": ";",
    "؟": "?",
    "٪": "%",
    "«": '"',
    "»": '"',
}
_LETTERS |= {chr(0x0660 + d): str(d) for d in range(10)}
_LETTERS |= {chr(c): "" for c in range(0x064B, 0x0653)}  # harakat


def fake_english(text: str) -> str:
    """A deterministic stand-in translation: the segment transliterated, whitespace normalised."""
    return " ".join("".join(_LETTERS.get(ch, ch) for ch in text).split())


@dataclass
class Record:
    """One request as the server saw it."""

    started: float
    service: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    segments: list[str] = field(default_factory=list)
    fault: str | None = None
    status: int | None = None  # None: no answer (hang, drop)

    @property
    def chars(self) -> int:
        return sum(map(len, self.segments))


KEYED = {"libre", "deepl", "microsoft", "qcri", "yandex", "baidu", "openai"}
SERVICES = ("google", "libre", "mymemory", "deepl", "microsoft", "qcri", "yandex", "baidu", "openai")


class LoopbackServices:
    """See the module docstring. Use as a context manager."""

    def __init__(
        self,
        *,
        keys: tuple[str, ...] = (),
        latency: float = 0.0,
        hang_seconds: float = 5.0,
        lifetime: float = 600.0,
        accent: str = "",
    ) -> None:
        self.keys = set(keys)
        self.accent = accent
        self.latency = latency
        self.hang_seconds = hang_seconds
        self.persistent: str | None = None
        self.answers: dict[str, str] = {}  # segment -> the answer given instead of its transliteration
        self.records: list[Record] = []
        self.held = 0
        self._faults: deque[tuple[str | None, str]] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._release = threading.Event()
        self._hold_after: int | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.root = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    # -- life cycle

    def start(self) -> LoopbackServices:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._release.set()
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServices:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- configuration

    def english(self, text: str) -> str:
        """This server's answer to the segment ``text``: :attr:`answers`' if it names one, else
        :func:`fake_english`, after the accent if any."""
        if text in self.answers:
            return self.answers[text]
        return f"{self.accent} {fake_english(text)}" if self.accent else fake_english(text)

    def url(self, service: str) -> str:
        """The base URL to give the engine of ``service`` (as its ``TARJAMA_<ENGINE>_URL``)."""
        return {
            "google": f"{self.root}/google/m",
            "libre": f"{self.root}/libre/",
            "mymemory": f"{self.root}/mymemory/get",
            "deepl": f"{self.root}/deepl/v2/",
            "microsoft": f"{self.root}/microsoft/translate?api-version=3.0",
            "qcri": f"{self.root}/qcri/",
            "yandex": f"{self.root}/yandex/",
            "baidu": f"{self.root}/baidu/translate",
            "openai": f"{self.root}/openai/v1",
        }[service]

    def env(self) -> dict[str, str]:
        """``TARJAMA_<ENGINE>_URL`` for every engine, pointing here."""
        engines = {"openai": ["CHATGPT", "OPENAI_COMPAT"]}
        return {
            f"TARJAMA_{name}_URL": self.url(service)
            for service in SERVICES
            for name in engines.get(service, [service.upper()])
        }

    def inject(self, *faults: str, service: str | None = None) -> None:
        """Queue faults: each of the next requests (of ``service``, if given) gets one, in order."""
        with self._lock:
            self._faults.extend((service, fault) for fault in faults)

    def hold_after(self, answered: int) -> None:
        """Once ``answered`` requests got a 200, further requests wait (until :meth:`release`, the
        server stops, or ``hang_seconds * 20``), then get no answer: for killing a client mid-request."""
        self._release.clear()
        self._hold_after = answered

    def release(self) -> None:
        self._hold_after = None
        self._release.set()

    # -- inspection

    def requests(self, service: str | None = None) -> list[Record]:
        with self._lock:
            return [r for r in self.records if service is None or r.service == service]

    def answered(self, service: str | None = None) -> int:
        return sum(1 for r in self.requests(service) if r.status == 200 and r.fault is None)

    def clear(self) -> None:
        with self._lock:
            self.records.clear()
            self._faults.clear()
        self.persistent = None
        self.answers = {}

    # -- internals

    def _next_fault(self, service: str) -> str | None:
        with self._lock:
            for index, (wanted, fault) in enumerate(self._faults):
                if wanted is None or wanted == service:
                    del self._faults[index]
                    return fault
        return self.persistent

    def _record(self, record: Record) -> None:
        with self._lock:
            self.records.append(record)


# ----------------------------------------------------------------------------- protocols


def _form(body: bytes) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)


def _first(values: dict[str, list[str]], key: str, default: str = "") -> str:
    return (values.get(key) or [default])[0]


def _drop_one(items: list[str]) -> list[str]:
    return items[:-1] if len(items) > 1 else items + [items[0] if items else "extra"]


class _Answer:
    def __init__(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.content_type, self.headers = status, body, content_type, headers or {}


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> _Answer:
    return _Answer(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json", headers)


def _google_page(text: str) -> bytes:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Google Translate</title></head>'
        '<body><div class="frame"><div class="result-container">' + html.escape(text) + "</div></div></body></html>"
    ).encode("utf-8")


def _error_answer(service: str, status: int, retry_after: str | None = None) -> _Answer:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    if 300 <= status < 400:
        headers["Location"] = "http://127.0.0.1:9/elsewhere?key=leaked-if-followed"
    if service == "google":
        body = f"<html><body><h1>Error {status}</h1><p>Our systems have detected unusual traffic.</p></body></html>"
        return _Answer(status, body.encode(), "text/html; charset=utf-8", headers)
    messages = {
        400: "ar is not supported",
        401: "Invalid API key",
        403: "Invalid API key",
        413: "Request Entity Too Large",
        429: "Too many requests",
        456: "Quota exceeded",
    }
    return _json(status, {"error": messages.get(status, "Internal Server Error")}, headers)


def _translate(
    services: LoopbackServices, record: Record, values: dict[str, list[str]], body_json: Any, fault: str | None
) -> _Answer:
    """The service's answer to a well-formed request (faults that alter content applied here)."""
    wrong = fault == "wrong-count"
    service = record.service
    keys = services.keys

    def key_ok(value: str | None) -> bool:
        return not keys or (value is not None and value in keys)

    if service == "google":
        segments = _first(values, "q").split("\n")
        record.segments = segments
        out = [services.english(s) for s in segments]
        return _Answer(200, _google_page("\n".join(_drop_one(out) if wrong else out)), "text/html; charset=utf-8")
    if service == "libre":
        data = body_json if isinstance(body_json, dict) else {k: v[0] if len(v) == 1 else v for k, v in values.items()}
        if not key_ok(data.get("api_key")):
            return _json(403, {"error": "Invalid API key"})
        q = data.get("q")
        if data.get("source") != "ar" or data.get("target") != "en":
            return _json(400, {"error": f"{data.get('source')} is not supported"})
        segments = q if isinstance(q, list) else [q or ""]
        record.segments = list(segments)
        out = [services.english(s) for s in segments]
        if wrong:
            out = _drop_one(out)
        return _json(200, {"translatedText": out if isinstance(q, list) else out[0]})
    if service == "mymemory":
        segments = _first(values, "q").split("\n")
        record.segments = segments
        out = [services.english(s) for s in segments]
        text = "\n".join(_drop_one(out) if wrong else out)
        return _json(200, {"responseData": {"translatedText": text, "match": 1}, "responseStatus": 200, "matches": []})
    if service == "deepl":
        auth = record.headers.get("authorization", "")
        key = (
            auth.removeprefix("DeepL-Auth-Key ")
            if auth.startswith("DeepL-Auth-Key ")
            else _first(values, "auth_key") or None
        )
        if not key_ok(key):
            return _json(403, {"message": "Wrong endpoint or authentication key"})
        segments = values.get("text", [])
        record.segments = segments
        out = [services.english(s) for s in segments]
        return _json(
            200,
            {
                "translations": [
                    {"detected_source_language": "AR", "text": t} for t in (_drop_one(out) if wrong else out)
                ]
            },
        )
    if service == "microsoft":
        if not key_ok(record.headers.get("ocp-apim-subscription-key")):
            return _json(
                401,
                {
                    "error": {
                        "code": 401000,
                        "message": "The request is not authorized because credentials are missing or invalid.",
                    }
                },
            )
        segments = [item.get("text", "") for item in body_json or []]
        record.segments = segments
        out = [services.english(s) for s in segments]
        return _json(200, [{"translations": [{"text": t, "to": "en"}]} for t in (_drop_one(out) if wrong else out)])
    if service == "qcri":
        if not key_ok(_first(values, "key") or None):
            return _json(403, {"error": "Invalid key"})
        segments = _first(values, "text").split("\n")
        record.segments = segments
        out = [services.english(s) for s in segments]
        return _json(200, {"translatedText": "\n".join(_drop_one(out) if wrong else out)})
    if service == "yandex":
        if not key_ok(_first(values, "key") or None):
            return _json(401, {"code": 401, "message": "API key is invalid"})
        segments = values.get("text", [])
        record.segments = segments
        out = [services.english(s) for s in segments]
        return _json(200, {"code": 200, "lang": "ar-en", "text": _drop_one(out) if wrong else out})
    if service == "baidu":
        if not key_ok(_first(values, "appid") or None):
            return _json(200, {"error_code": "52003", "error_msg": "UNAUTHORIZED USER"})
        segments = _first(values, "q").split("\n")
        record.segments = segments
        out = [{"src": s, "dst": services.english(s)} for s in segments]
        return _json(200, {"from": "ara", "to": "en", "trans_result": out[:-1] if wrong and len(out) > 1 else out})
    if service == "openai":
        auth = record.headers.get("authorization", "")
        given = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        if keys and not key_ok(given):  # like OpenAI, the answer quotes the key it refused
            return _json(
                401, {"error": {"message": f"Incorrect API key provided: {given}", "type": "invalid_request_error"}}
            )
        messages = (body_json or {}).get("messages", [])
        user = next((m["content"] for m in messages if m.get("role") == "user"), "")
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        if "JSON array" in system:
            segments = json.loads(user)
            out = [services.english(s) for s in segments]
            content = json.dumps(_drop_one(out) if wrong else out, ensure_ascii=False)
        else:
            segments = [user]
            content = services.english(user)
        record.segments = segments
        return _json(
            200,
            {
                "id": "chatcmpl-loopback",
                "object": "chat.completion",
                "model": (body_json or {}).get("model"),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
            },
        )
    return _json(404, {"error": f"no service {service!r}"})


def _handler_for(services: LoopbackServices) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "loopback-services/1"

        def log_message(self, *_: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            started = time.monotonic()
            parsed = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            service = parsed.path.strip("/").split("/")[0]
            record = Record(started, service, self.command, parsed.path, query, headers, body)
            values = dict(query)
            body_json: Any = None
            if body:
                if headers.get("content-type", "").startswith("application/json"):
                    body_json = json.loads(body.decode("utf-8"))
                else:
                    for key, items in _form(body).items():
                        values.setdefault(key, []).extend(items)
            services._record(record)
            if self._hold(services):
                record.segments = _segments_of(service, values, body_json)
                return self._close()  # released by the test (its client is gone): no answer
            fault = services._next_fault(service)
            record.fault = fault
            if services.latency and services._stop.wait(services.latency):
                return self._close()
            if fault == "hang":
                record.segments = _segments_of(service, values, body_json)
                services._stop.wait(services.hang_seconds)
                return self._close()
            if fault == "drop":
                record.segments = _segments_of(service, values, body_json)
                return self._close()
            if fault and fault.split(":")[0].split("-")[0].isdigit():
                code, _, seconds = fault.partition(":")
                retry_after = None
                if code == "429-date":
                    code, retry_after = "429", email.utils.formatdate(time.time() + float(seconds), usegmt=True)
                elif seconds:
                    retry_after = seconds
                record.segments = _segments_of(service, values, body_json)
                answer = _error_answer(service, int(code), retry_after)
            else:
                answer = _translate(services, record, values, body_json, fault)
            record.status = answer.status
            payload = answer.body
            if fault in ("truncate", "garbage"):
                cut = payload[: len(payload) // 2]
                self._send(answer, cut, declared=len(payload) if fault == "truncate" else len(cut))
                return self._close() if fault == "truncate" else None
            self._send(answer, payload, declared=len(payload))

        def _send(self, answer: _Answer, payload: bytes, declared: int) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(declared))
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()

        def _close(self) -> None:
            self.close_connection = True

        def _hold(self, services: LoopbackServices) -> bool:
            """Wait while requests are held; True if this request was held (it then gets no answer)."""
            limit = services._hold_after
            if limit is None or services.answered() < limit:
                return False
            with services._lock:
                services.held += 1
            services._release.wait(services.hang_seconds * 20)
            return True

    return Handler


def _segments_of(service: str, values: dict[str, list[str]], body_json: Any) -> list[str]:
    """The segments a request carries (for records of faulted requests)."""
    if service in ("google", "mymemory"):
        return _first(values, "q").split("\n")
    if service == "libre":
        q = body_json.get("q") if isinstance(body_json, dict) else _first(values, "q")
        return q if isinstance(q, list) else [q or ""]
    if service in ("deepl", "yandex"):
        return values.get("text", [])
    if service == "microsoft":
        return [item.get("text", "") for item in body_json or []]
    if service == "qcri":
        return _first(values, "text").split("\n")
    if service == "baidu":
        return _first(values, "q").split("\n")
    return []
