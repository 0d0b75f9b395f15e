"""NetSuite Token-Based Authentication (OAuth 1.0a, RFC 5849) verified the way the server does.

The sandbox recomputes the HMAC-SHA256 signature from the request itself, with the RFC 5849
functions of ``pipelines/oauth1.py`` (the extract's signer uses them too; the tests sign with
requests-oauthlib, an independent client), so a client that
builds a wrong base string (forgets the query, signs a JSON body, encodes ``+`` or ``~``
wrongly, sends the wrong realm) fails here as it would against NetSuite. Wire details follow
``erp_api_wire_formats.md`` §2.1; tags there ([C]/[R]/[S]/[U]) apply here.

Pure logic: no routing. An HTTP layer calls ``TbaVerifier.verify`` and, on a reason string,
answers with ``invalid_login_response``.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from pipelines.oauth1 import (
    SIGNATURE_METHOD,
    base_string,
    hmac_sha256_signature,
    normalized_parameters,
    parse_authorization,
)
from pipelines.oauth1 import OAuth1Credentials as TbaCredentials

__all__ = [
    "INVALID_LOGIN_DETAIL",
    "REASONS",
    "TbaCredentials",
    "TbaVerifier",
    "base_string",
    "invalid_login_response",
    "normalized_parameters",
    "parse_authorization",
]

MIN_NONCE_LENGTH = 6  # "at least 6 characters, ideally 20" [C]
INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)
PROBLEM_TYPE_401 = "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2"

# Reasons ``verify`` can return. Names follow the OAuth problem-reporting vocabulary that
# NetSuite's own TBA errors use (token_rejected, nonce_used, consumer_key_unknown, …) [C];
# "realm_rejected" and "unsupported_signature_method" are this sandbox's words [U]. The client
# only ever sees INVALID_LOGIN; the reason is for sandbox logs and tests (NetSuite shows it in
# the Login Audit Trail, not in the response).
REASONS = (
    "parameter_absent",  # no OAuth header, or a required oauth_* parameter is missing
    "parameter_rejected",  # malformed header, duplicated parameter
    "version_rejected",  # oauth_version present but not "1.0"
    "unsupported_signature_method",
    "realm_rejected",  # realm is not this account id
    "consumer_key_unknown",
    "token_rejected",  # token unknown, or issued to another consumer
    "timestamp_refused",  # not an integer, or outside ± clock skew
    "nonce_rejected",  # shorter than MIN_NONCE_LENGTH
    "signature_invalid",
    "nonce_used",  # replay of (consumer key, token, nonce, timestamp)
)
_REQUIRED = ("oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp",
             "oauth_nonce", "oauth_signature")


# The sandbox's one integration record and token, the same for every account; the extract reads
# them the dlt way (``SOURCES__NETSUITE__CONSUMER_KEY`` …), never from code.
SANDBOX_CREDENTIALS = TbaCredentials(
    "sandbox-netsuite-consumer", "sandbox-netsuite-consumer-secret",
    "sandbox-netsuite-token", "sandbox-netsuite-token-secret")


# -- verifier ------------------------------------------------------------------------------------
class _NonceLog:
    """(consumer key, token, nonce, timestamp) seen within the skew window. Older entries can
    be forgotten: a replay of them would be refused for its timestamp anyway."""

    def __init__(self, window_s: int):
        self.window_s = window_s
        self._seen: set[tuple[str, str, str, int]] = set()
        self._order: deque[tuple[float, tuple[str, str, str, int]]] = deque()
        self._lock = threading.Lock()

    def add(self, key: tuple[str, str, str, int], now: float) -> bool:
        """Record ``key``; ``False`` when it was already there (a replay)."""
        with self._lock:
            while self._order and self._order[0][0] <= now:
                self._seen.discard(self._order.popleft()[1])
            if key in self._seen:
                return False
            self._seen.add(key)
            # Keep it until its timestamp leaves the window (at least the window from now).
            self._order.append((max(key[3], now) + self.window_s, key))
            return True


class TbaVerifier:
    """Verifies TBA-signed requests for one NetSuite account (e.g. ``1234567_SB1``)."""

    def __init__(self, account: str, credentials: list[TbaCredentials], clock_skew_s: int = 300,
                 clock: Callable[[], float] = time.time):
        self.account = account
        self.clock_skew_s = clock_skew_s
        self.clock = clock
        self._consumers = {c.consumer_key: c.consumer_secret for c in credentials}
        self._tokens = {(c.consumer_key, c.token_id): c for c in credentials}
        self._nonces = _NonceLog(clock_skew_s)

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes,
               content_type: str | None) -> str | None:
        """``None`` when the request is correctly signed, else a reason from ``REASONS``."""
        header = _header(headers, "authorization")
        if header is None:
            return "parameter_absent"
        params = parse_authorization(header)
        if params is None:
            return "parameter_rejected"
        reason = self._check_params(params)
        if reason is not None:
            return reason
        creds = self._tokens[(params["oauth_consumer_key"], params["oauth_token"])]
        base = base_string(method, url, params, body, content_type)
        expected = hmac_sha256_signature(base, creds.consumer_secret, creds.token_secret)
        if not hmac.compare_digest(expected.encode(), params["oauth_signature"].encode()):
            return "signature_invalid"
        # Only a correctly signed request consumes its nonce, so forgeries cannot burn nonces.
        key = (creds.consumer_key, creds.token_id, params["oauth_nonce"],
               int(params["oauth_timestamp"]))
        return None if self._nonces.add(key, self.clock()) else "nonce_used"

    def _check_params(self, params: Mapping[str, str]) -> str | None:
        """Everything that can be refused before computing the signature, cheapest first."""
        if any(not params.get(name) for name in _REQUIRED) or "realm" not in params:
            return "parameter_absent"
        if params.get("oauth_version", "1.0") != "1.0":
            return "version_rejected"
        if params["oauth_signature_method"] != SIGNATURE_METHOD:
            return "unsupported_signature_method"
        if params["realm"] != self.account:
            return "realm_rejected"
        consumer = params["oauth_consumer_key"]
        if consumer not in self._consumers:
            return "consumer_key_unknown"
        if (consumer, params["oauth_token"]) not in self._tokens:
            return "token_rejected"
        stamp = params["oauth_timestamp"]
        if not stamp.isascii() or not stamp.isdigit():
            return "timestamp_refused"
        if abs(int(stamp) - self.clock()) > self.clock_skew_s:
            return "timestamp_refused"
        if len(params["oauth_nonce"]) < MIN_NONCE_LENGTH:
            return "nonce_rejected"
        return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that works for plain dicts as well as Starlette headers."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


def invalid_login_response(account: str,
                           error: str = "token_rejected") -> tuple[int, dict[str, Any],
                                                                   dict[str, str]]:
    """``(status, json body, headers)`` of NetSuite's 401 for any TBA failure [C body, R header].

    NetSuite does not tell the client why; the captured header always says ``token_rejected``,
    so that stays the default whatever the verifier's reason was.
    """
    body = {
        "type": PROBLEM_TYPE_401,
        "title": "Unauthorized",
        "status": 401,
        "o:errorDetails": [{"detail": INVALID_LOGIN_DETAIL, "o:errorCode": "INVALID_LOGIN"}],
    }
    headers = {"www-authenticate": (f'OAuth realm="{account}", error="{error}", '
                                    'error_description="Invalid login attempt."')}
    return 401, body, headers
