"""``baidu``: the Baidu Fanyi general translation API.

The same request as deep-translator's ``BaiduTranslator`` (``POST
https://fanyi-api.baidu.com/api/trans/vip/translate`` with ``appid``,
``q``, ``from=ara``, ``to=en``, ``salt`` and ``sign = md5(appid + q + salt +
appkey)``), with the fields in the body rather than the URL. Baidu
translates a newline-separated ``q`` line by line (one ``trans_result``
entry per line), so a batch is one request. Baidu reports errors inside an
HTTP 200: frequency limits and server errors (54003, 54005, 52001, 52002)
are retried, the others (bad signature, no balance, ...) are not.
Credentials: ``BAIDU_APPID`` and ``BAIDU_APPKEY`` or Secret blocks
``tarjama-baidu-appid`` / ``tarjama-baidu-appkey``; base URL:
``TARJAMA_BAIDU_URL``.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from deep_translator.constants import BAIDU_APPID_ENV_VAR, BAIDU_APPKEY_ENV_VAR, BAIDU_LANGUAGE_TO_CODE, BASE_URLS

from tarjama.translation.engines.base import Credential
from tarjama.translation.engines.transport import EngineRejected, Reply, RetryableResponse
from tarjama.translation.engines.web import WebEngine, web_spec

TRANSIENT = {"52001", "52002", "54003", "54005"}


def read_answer(reply: Reply) -> list[str]:
    data: Any = reply.json()
    if not isinstance(data, dict):
        raise RetryableResponse("unexpected JSON (no object)")
    if "error_code" in data and str(data["error_code"]) not in ("0", "52000"):
        code = str(data["error_code"])
        if code in TRANSIENT:
            raise RetryableResponse(f"Baidu error {code}: {data.get('error_msg', '')}")
        raise EngineRejected("baidu", f"Baidu refused the request (error {code}): {data.get('error_msg', '')}")
    results = data.get("trans_result")
    if not isinstance(results, list):
        raise RetryableResponse("no trans_result in the answer")
    return [str(r.get("dst", "")) for r in results if isinstance(r, dict)]


class BaiduEngine(WebEngine):
    name = "baidu"
    model = "baidu-fanyi-general"
    default_url = BASE_URLS["BAIDU"]
    default_max_chars = 2000  # Baidu's limit is 6,000 bytes of UTF-8
    separator = 1
    credentials = (
        Credential("appid", BAIDU_APPID_ENV_VAR, "tarjama-baidu-appid", what="an app id"),
        Credential("appkey", BAIDU_APPKEY_ENV_VAR, "tarjama-baidu-appkey", what="an app key"),
    )

    def send(self, texts: list[str]) -> list[str]:
        query = "\n".join(texts)
        appid, appkey = self.secret("appid") or "", self.secret("appkey") or ""
        salt = str(random.randint(32768, 65536))
        sign = hashlib.md5((appid + query + salt + appkey).encode("utf-8")).hexdigest()
        form = {
            "appid": appid,
            "q": query,
            "from": BAIDU_LANGUAGE_TO_CODE["arabic"],
            "to": BAIDU_LANGUAGE_TO_CODE["english"],
            "salt": salt,
            "sign": sign,
        }
        return self.transport.call("POST", self.url, read_answer, data=form, size=len(query))


SPEC = web_spec(
    BaiduEngine,
    summary="Baidu Fanyi API (batched: one line per sentence, up to 2,000 characters per request)",
    needs=f"{BAIDU_APPID_ENV_VAR} and {BAIDU_APPKEY_ENV_VAR} or Secret blocks tarjama-baidu-appid/-appkey",
    rate_limit=1.0,
)
