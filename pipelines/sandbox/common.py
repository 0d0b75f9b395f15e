"""Mechanics shared by the sandbox APIs: JSON, rate limits, faults, tokens, cached views.

Each imitated system (``xero.py``, ``procore.py``) owns its wire format; everything that is the
same for every system lives here once, so the systems differ only where the real APIs differ.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pipelines.sandbox.world import World

# -- credentials ---------------------------------------------------------------------------------
# Static bearer tokens the sandbox always accepts, so a demo config needs no token round trip.
XERO_TOKEN = "sandbox-xero-token"
PROCORE_TOKEN = "sandbox-procore-token"
# The only client the token endpoints accept (client_credentials grant).
CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"

SYSTEMS = ("xero", "procore", "netsuite", "acumatica")
FAULT_KINDS = ("429", "500", "timeout", "truncate")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DATE = date(1970, 1, 1)


@dataclass(frozen=True)
class Limits:
    """Rate limits and fault timings. Defaults are generous so the demo is never throttled."""

    xero_per_minute: int = 10_000  # per tenant (real Xero: 60)
    xero_per_day: int = 1_000_000  # per tenant (real Xero: 5,000)
    xero_app_per_minute: int = 100_000  # across tenants (real Xero: 10,000)
    procore_per_hour: int = 1_000_000  # per token (Procore's docs example: 600)
    procore_spike_per_10s: int = 100_000  # per token (Procore's docs example: 25)
    xero_token_seconds: int = 1800  # lifetime of tokens issued by /xero/identity/connect/token
    procore_token_seconds: int = 5400  # lifetime of tokens issued by /procore/oauth/token
    fault_timeout_seconds: float = 30.0  # a "timeout" fault sleeps this long before answering
    fault_retry_after: int = 1  # Retry-After sent with an injected 429
    netsuite_concurrency: int = 15  # requests in flight per account (developer accounts: 5)
    netsuite_max_results: int = 100_000  # SuiteQL rows per query [C]
    acumatica_sessions: int = 2  # concurrent API sessions per tenant (trial licence) [C]
    acumatica_concurrency: int = 10  # requests in flight per tenant


# -- JSON ----------------------------------------------------------------------------------------
_encode_str = json.encoder.encode_basestring_ascii  # the C implementation when available


def dumps(obj: Any) -> str:
    """JSON text where ``Decimal`` is written as an exact number (``2160.00``, never a float).

    The stdlib encoder cannot emit a raw number for a non-float type, so this small encoder
    walks the value itself; strings still go through the C escaper.
    """
    out: list[str] = []
    _encode(obj, out)
    return "".join(out)


def _encode(o: Any, out: list[str]) -> None:
    if isinstance(o, str):
        out.append(_encode_str(o))
    elif o is None:
        out.append("null")
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif isinstance(o, int):
        out.append(int.__repr__(o))
    elif isinstance(o, Decimal):
        if not o.is_finite():
            raise ValueError(f"cannot encode {o!r} as JSON")
        out.append(format(o, "f"))
    elif isinstance(o, float):
        if not math.isfinite(o):
            raise ValueError(f"cannot encode {o!r} as JSON")
        out.append(float.__repr__(o))
    elif isinstance(o, Mapping):
        _encode_dict(o, out)
    elif isinstance(o, list | tuple):
        _encode_list(o, out)
    else:
        raise TypeError(f"cannot encode {type(o).__name__} as JSON")


def _encode_dict(o: Mapping, out: list[str]) -> None:
    out.append("{")
    first = True
    for k, v in o.items():
        if not first:
            out.append(",")
        first = False
        out.append(_encode_str(k))
        out.append(":")
        _encode(v, out)
    out.append("}")


def _encode_list(o: list | tuple, out: list[str]) -> None:
    out.append("[")
    for i, v in enumerate(o):
        if i:
            out.append(",")
        _encode(v, out)
    out.append("]")


def parse_int(raw: str | None, name: str,
              error: Callable[[str, str], Exception]) -> int | None:
    """An integer parameter, None when absent or empty. A non-integer raises
    ``error(name, raw)``: each vendor words that error its own way."""
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise error(name, raw) from None


def json_response(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None,
                  escape_slashes: bool = False) -> Response:
    """A JSON response; ``escape_slashes`` writes every ``/`` as ``\\/`` like .NET (Xero) does."""
    text = dumps(obj)
    if escape_slashes:
        # "/" only ever occurs inside JSON strings, so escaping all of them is always valid.
        text = text.replace("/", "\\/")
    return Response(text.encode("ascii"), status_code=status, headers=dict(headers or {}),
                    media_type="application/json; charset=utf-8")


def text_response(text: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(text, status_code=status, headers=dict(headers or {}),
                    media_type="text/plain; charset=utf-8")


# -- time ----------------------------------------------------------------------------------------
def epoch_ms(value: date | datetime) -> int:
    """Milliseconds since the Unix epoch; a date counts as midnight UTC."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (aware - EPOCH) // timedelta(milliseconds=1)
    return (value - EPOCH_DATE).days * 86_400_000


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 (``2024-06-01T00:00:00``, optional fraction/offset/``Z``; UTC when no offset) or
    an HTTP date (``Sat, 01 Jun 2024 00:00:00 GMT``). Raises ``ValueError`` otherwise."""
    text = text.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            value = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"not a timestamp: {text!r}") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- rate limits ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """At most ``limit`` calls in any ``seconds``; ``shared`` counts all keys together."""

    name: str
    limit: int
    seconds: float
    shared: bool = False


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    problem: str | None  # name of the first full window when refused
    limits: dict[str, int]  # per window
    remaining: dict[str, int]  # per window, after this call
    reset_at: dict[str, float]  # per window, unix time when its oldest counted call expires

    def retry_after(self, now: float | None = None) -> int:
        """Whole seconds until the window that refused this call frees (at least 1)."""
        if self.problem is None:
            return 0
        now = time.time() if now is None else now
        return max(1, math.ceil(self.reset_at[self.problem] - now))

    def tightest(self) -> str:
        """The window with the fewest calls left (Procore reports the one you are closest to)."""
        return min(self.remaining, key=lambda n: self.remaining[n])


class RateLimiter:
    """Sliding windows per key: the call times inside each window are kept, so a limit holds
    over any span of ``seconds`` (no burst of 2x at a fixed window's edge, and tests never
    straddle a window reset). A refused call is not counted, so a client that waits for
    ``Retry-After`` gets in."""

    def __init__(self, windows: Iterable[Window], clock: Callable[[], float] = time.time):
        self.windows = tuple(windows)
        self.clock = clock
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str], deque[float]] = {}

    def hit(self, key: str) -> RateDecision:
        now = self.clock()
        with self._lock:
            logs = {w.name: self._log(w, key, now) for w in self.windows}
            full = next((w.name for w in self.windows if len(logs[w.name]) >= w.limit), None)
            if full is None:
                for log in logs.values():
                    log.append(now)
            return RateDecision(
                allowed=full is None, problem=full,
                limits={w.name: w.limit for w in self.windows},
                remaining={w.name: max(0, w.limit - len(logs[w.name])) for w in self.windows},
                reset_at={w.name: (logs[w.name][0] if logs[w.name] else now) + w.seconds
                          for w in self.windows},
            )

    def _log(self, w: Window, key: str, now: float) -> deque[float]:
        log = self._calls.setdefault((w.name, "*" if w.shared else key), deque())
        while log and log[0] <= now - w.seconds:
            log.popleft()
        return log


# -- tokens --------------------------------------------------------------------------------------
class TokenStore:
    """Static tokens per system plus tokens issued by the token endpoints (with an expiry)."""

    def __init__(self, static: Mapping[str, str]):
        self._static = dict(static)  # system -> token
        self._issued: dict[str, tuple[str, float]] = {}  # token -> (system, expires_at)
        self._lock = threading.Lock()

    def issue(self, system: str, seconds: int) -> str:
        token = f"{system}-{secrets.token_urlsafe(24)}"
        with self._lock:
            self._issued[token] = (system, time.time() + seconds)
        return token

    def check(self, system: str, token: str | None) -> str:
        """``"ok"``, ``"expired"`` or ``"invalid"``."""
        if token is None:
            return "invalid"
        if token == self._static.get(system):
            return "ok"
        with self._lock:
            hit = self._issued.get(token)
        if hit is None or hit[0] != system:
            return "invalid"
        return "ok" if hit[1] > time.time() else "expired"


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def client_credentials(request: Request) -> tuple[str | None, str | None, str | None]:
    """``(grant_type, client_id, client_secret)`` from a token request: form or JSON body,
    client credentials either in the body or in HTTP Basic auth (both are used in the wild)."""
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            loaded = json.loads(raw or b"{}")
        except ValueError:
            loaded = {}
        form = {k: str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
    else:
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    cid, secret = form.get("client_id"), form.get("client_secret")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            cid, _, secret = base64.b64decode(value).decode().partition(":")
        except ValueError:
            cid = secret = None
    return form.get("grant_type"), cid, secret


def client_ok(cid: str | None, secret: str | None) -> bool:
    return secrets.compare_digest(f"{cid}:{secret}", f"{CLIENT_ID}:{CLIENT_SECRET}")


async def issue_token(request: Request, tokens: TokenStore, system: str, seconds: int,
                      bad_client_status: int, extra: dict) -> Response:
    """An OAuth2 client-credentials token endpoint; vendors differ only in the status of a bad
    client and the extra fields of the answer."""
    grant, cid, secret = await client_credentials(request)
    if grant != "client_credentials":
        return json_response({"error": "unsupported_grant_type"}, 400)
    if not client_ok(cid, secret):
        return json_response({"error": "invalid_client"}, bad_client_status)
    return json_response({"access_token": tokens.issue(system, seconds), "token_type": "Bearer",
                          "expires_in": seconds, **extra})


# -- views of the world --------------------------------------------------------------------------
T = TypeVar("T")


class Views:
    """Served views built from world frames, rebuilt lazily when a source frame is replaced.

    ``World.advance()`` replaces frames in ``world.t`` instead of mutating them, so comparing
    frame identity tells whether a view is stale, even when the world advanced behind our back.
    The lock also guards ``advance()`` itself (see ``server.py``).
    """

    def __init__(self, world: World):
        self.world = world
        self.lock = threading.RLock()
        self._cache: dict[str, tuple[tuple[Any, ...], Any]] = {}

    def get(self, name: str, sources: tuple[str, ...], build: Callable[[World], T]) -> T:
        with self.lock:
            frames = tuple(self.world.t[s] for s in sources)
            hit = self._cache.get(name)
            if hit is not None and all(a is b for a, b in zip(hit[0], frames, strict=True)):
                return hit[1]
            value = build(self.world)
            self._cache[name] = (frames, value)
            return value


# -- concurrency ---------------------------------------------------------------------------------
class Slots:
    """At most ``limit`` requests in flight; a request beyond it is refused, never queued
    (NetSuite answers 429 at once; Acumatica queues some first [U])."""

    def __init__(self, limit: int):
        self.limit, self.in_flight = limit, 0
        self._lock = threading.Lock()

    def acquire(self) -> bool:
        with self._lock:
            if self.in_flight >= self.limit:
                return False
            self.in_flight += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1


async def run_in_slot(slots: Slots, gate: Gate, request: Request,
                      handler: Callable[[Request], Response], full: Callable[[], Response],
                      on_fault: FaultResponder) -> Response:
    """Serve through ``gate`` while holding a slot; ``full()`` answers when none is free."""
    if not slots.acquire():
        return full()
    try:
        return await gate.run(request, handler, on_fault)
    finally:
        slots.release()


# -- faults and request accounting ---------------------------------------------------------------
FaultResponder = Callable[[str], Response]  # kind ("429" | "500") -> the system's error response


@dataclass
class Gate:
    """Per-system front door: counts requests, serves injected faults, runs handlers off-loop."""

    system: str
    limits: Limits
    faults: deque[str] = field(default_factory=deque)
    stats: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, kind: str, count: int) -> int:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}: choose one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self.faults.extend([kind] * count)
            return len(self.faults)

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": sum(self.stats.values()), "paths": dict(sorted(self.stats.items())),
                    "faults_pending": list(self.faults)}

    def _next(self, path: str) -> str | None:
        with self._lock:
            self.stats[path] += 1
            return self.faults.popleft() if self.faults else None

    async def run(self, request: Request, handler: Callable[[Request], Response],
                  on_fault: FaultResponder) -> Response:
        """Serve one request: an injected fault first, else ``handler`` in the thread pool (it
        does polars work and takes the world lock, which must not block the event loop)."""
        fault = self._next(request.url.path)
        if fault in ("429", "500"):
            return on_fault(fault)
        if fault == "timeout":
            # Answer, but only after the client has given up; the request still counts.
            await asyncio.sleep(self.limits.fault_timeout_seconds)
        response = await run_in_threadpool(handler, request)
        return truncated(response) if fault == "truncate" else response

    async def run_async(self, request: Request,
                        handler: Callable[[Request], Awaitable[Response]]) -> Response:
        """Count a request whose handler is async (token endpoints); faults do not apply."""
        with self._lock:
            self.stats[request.url.path] += 1
        return await handler(request)


def truncated(response: Response) -> Response:
    """The same response with its body cut in half: the status stays (200), the body is
    invalid JSON and Content-Length matches what is sent, as when a proxy cuts a body."""
    body = bytes(response.body)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(body[: len(body) // 2], status_code=response.status_code, headers=headers)
