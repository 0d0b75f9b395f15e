"""The HTTP client every source shares: retries, rate limits, call counting.

Retries 429 (honouring ``Retry-After``, or ``X-Rate-Limit-Reset`` as Procore sends it), 5xx,
timeouts, connection errors and truncated JSON bodies, with capped exponential backoff: a 429
without either header (NetSuite's ``CONCURRENCY_LIMIT_EXCEEDED``) waits 0.5, 1, 2, 4 … s up to
``max_delay``. JSON numbers are parsed as ``Decimal`` so money stays exact from the wire on.
An ``auth`` (a requests ``AuthBase``) signs every request, each retry afresh. A 204 answers
``None``. Per call, ``attempts`` lowers the retry budget and ``give_up`` names responses no
retry can mend (Acumatica answers bad credentials with a 500).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests
from requests.auth import AuthBase

log = logging.getLogger("costbridge.http")
RETRY_STATUSES = {429, 500, 502, 503, 504}


class ApiError(RuntimeError):
    """A request failed for good; the message names the system, resource and status."""

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body  # the start of the last response's body, for callers to classify


class CallStats:
    """Calls and rows per (system, resource), shared by a run for its summary."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()
        self.retries: Counter[tuple[str, str]] = Counter()
        self.rows: Counter[tuple[str, str]] = Counter()
        self.skipped: list[str] = []  # scopes left out of a run, with why

    def add(self, counter: str, system: str, resource: str, n: int = 1) -> None:
        with self._lock:
            getattr(self, counter)[(system, resource)] += n

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.retries.clear()
            self.rows.clear()
            self.skipped.clear()


STATS = CallStats()


class ApiClient:
    def __init__(self, system: str, base_url: str, headers: dict[str, str],
                 timeout: float = 30.0, max_attempts: int = 6, max_delay: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep, stats: CallStats | None = None,
                 parse_int: Callable[[str], Any] | None = None, auth: AuthBase | None = None):
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", **headers})
        self.session.auth = auth  # called on every request, so each attempt is signed anew
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_delay = max_delay
        self.sleep = sleep
        self.stats = stats or STATS
        self.parse_int = parse_int

    def get(self, path: str, resource: str, params: dict | None = None,
            headers: dict[str, str] | None = None) -> tuple[Any, requests.Response]:
        """GET and decode JSON; returns (body, response)."""
        return self._request("GET", path, resource, params, headers)

    def post(self, path: str, resource: str, json_body: Any, params: dict | None = None,
             headers: dict[str, str] | None = None, attempts: int | None = None,
             give_up: Callable[[requests.Response], bool] | None = None,
             ) -> tuple[Any, requests.Response]:
        """POST a JSON body and decode the JSON answer. Retried like a GET, so only for
        requests that read (a SuiteQL query) or may be repeated (a login), never for ones
        that create something."""
        return self._request("POST", path, resource, params, headers, json_body,
                             attempts, give_up)

    def write(self, method: str, path: str, resource: str, body: Any = None,
              params: dict | None = None, headers: dict[str, str] | None = None,
              attempts: int | None = None) -> tuple[Any, requests.Response]:
        """PUT/POST/PATCH a body whose Decimals go on the wire as exact JSON numbers. Retried
        like a GET: only for calls made safe to repeat by the API's idempotency mechanism
        (Xero ``Idempotency-Key``, NetSuite ``eid:`` upsert, Acumatica ``If-None-Match``)."""
        return self._request(method, path, resource, params,
                             {"Content-Type": "application/json", **(headers or {})},
                             attempts=attempts, data=dumps_exact(body))

    def _request(self, method: str, path: str, resource: str, params: dict | None,
                 headers: dict[str, str] | None, json_body: Any = None,
                 attempts: int | None = None,
                 give_up: Callable[[requests.Response], bool] | None = None,
                 data: str | None = None,
                 ) -> tuple[Any, requests.Response]:
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        max_attempts = min(attempts or self.max_attempts, self.max_attempts)
        for attempt in range(1, max_attempts + 1):
            self.stats.add("calls", self.system, resource)
            try:
                resp = self.session.request(method, url, params=params, headers=headers,
                                            json=json_body, data=data,
                                            timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                self._backoff(resource, attempt, None, f"{type(exc).__name__}", max_attempts)
                continue
            if resp.status_code in RETRY_STATUSES and not (give_up and give_up(resp)):
                self._backoff(resource, attempt, resp, f"HTTP {resp.status_code}", max_attempts)
                continue
            if resp.status_code >= 400:
                raise ApiError(f"{self.system} {resource}: HTTP {resp.status_code} "
                               f"{resp.text[:300]}", status=resp.status_code,
                               body=resp.text[:2000])
            if resp.status_code == 204:
                return None, resp
            try:
                return json.loads(resp.content, parse_float=Decimal,
                                  parse_int=self.parse_int), resp
            except ValueError:
                self._backoff(resource, attempt, None, "truncated or invalid JSON body",
                              max_attempts)
        raise ApiError(f"{self.system} {resource}: gave up after {max_attempts} attempts")

    def _backoff(self, resource: str, attempt: int, resp: requests.Response | None,
                 why: str, max_attempts: int) -> None:
        if attempt >= max_attempts:
            # The last status and body go with the error, so a caller can tell a licence
            # limit from a server fault after the retries are spent.
            raise ApiError(f"{self.system} {resource}: {why}, gave up after {attempt} attempts",
                           status=resp.status_code if resp is not None else None,
                           body=resp.text[:2000] if resp is not None else "")
        delay = min(self.max_delay, 0.5 * 2 ** (attempt - 1))
        if resp is not None:
            delay = _server_delay(resp, delay, self.max_delay)
        self.stats.add("retries", self.system, resource)
        log.warning("%s %s: %s, retry %d in %.1fs", self.system, resource, why, attempt, delay)
        self.sleep(delay)


def _server_delay(resp: requests.Response, default: float, cap: float) -> float:
    """Seconds the server asked us to wait: Retry-After, else a rate-limit reset time."""
    retry_after = resp.headers.get("Retry-After")
    if retry_after and retry_after.strip().isdigit():
        return min(cap, float(retry_after))
    reset = resp.headers.get("X-Rate-Limit-Reset")
    if resp.status_code == 429 and reset and reset.strip().isdigit():
        return min(cap, max(0.0, float(reset) - time.time()))
    return default


_DECIMAL_MARK = re.compile(r'"\\u0000dec:(-?[0-9.Ee+-]+)\\u0000"')


def dumps_exact(body: Any) -> str:
    """JSON text with every Decimal written as the exact number it holds (``1234.50``), never
    through a float."""
    def mark(value: Any) -> str:
        if isinstance(value, Decimal):
            return f"\x00dec:{value}\x00"
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")
    return _DECIMAL_MARK.sub(r"\1", json.dumps(body, default=mark))
