"""OAuth 1.0a (RFC 5849) with HMAC-SHA256: one implementation for both sides.

NetSuite Token-Based Authentication is OAuth 1.0a with a ``realm`` (the account id) and
HMAC-SHA256 (HMAC-SHA1 ended in 2023.1). The extract signs with ``OAuth1Signer``; the sandbox
verifies with the same base string and signature functions (``sandbox/netsuite_auth.py``), and
its tests sign with requests-oauthlib, so a mistake here cannot hide on both sides at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import requests
from requests.auth import AuthBase

__all__ = [
    "SIGNATURE_METHOD",
    "OAuth1Credentials",
    "OAuth1Signer",
    "authorization_header",
    "base_string",
    "base_string_uri",
    "enc",
    "hmac_sha256_signature",
    "normalized_parameters",
    "parse_authorization",
    "request_parameters",
]

SIGNATURE_METHOD = "HMAC-SHA256"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# One ``name="value"`` pair of the header, with the separating comma (§3.5.1).
_PAIR = re.compile(r'\s*([A-Za-z0-9_\-.~%]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


@dataclass(frozen=True)
class OAuth1Credentials:
    """One consumer (NetSuite: integration record) plus one access token issued to it."""

    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str

    def __repr__(self) -> str:  # never print secrets, even in a traceback's locals
        return f"OAuth1Credentials(consumer_key={self.consumer_key!r}, token_id=…)"


def enc(value: str) -> str:
    """RFC 3986 percent-encoding of UTF-8 (§3.6): only A-Z a-z 0-9 - . _ ~ stay as they are."""
    return quote(value.encode("utf-8"), safe="-._~")


def base_string_uri(url: str) -> str:
    """§3.4.1.2: scheme and host lower-cased, default port dropped, path kept, no query."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def request_parameters(url: str, body: bytes, content_type: str | None) -> list[tuple[str, str]]:
    """§3.4.1.3.1 sources besides the header: the query, and the body only when it is
    form-encoded (a JSON body, as SuiteQL sends, is never signed)."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/x-www-form-urlencoded" and body:
        pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return pairs


def normalized_parameters(pairs: Iterable[tuple[str, str]]) -> str:
    """§3.4.1.3.2: encode names and values, sort by name then value, join with ``=`` and ``&``."""
    encoded = sorted((enc(k), enc(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def base_string(method: str, url: str, oauth_params: Mapping[str, str], body: bytes,
                content_type: str | None) -> str:
    """§3.4.1.1: ``METHOD&enc(uri)&enc(normalized parameters)``; realm and the signature itself
    are not signed."""
    pairs = [(k, v) for k, v in oauth_params.items() if k not in ("realm", "oauth_signature")]
    pairs += request_parameters(url, body, content_type)
    return "&".join((method.upper(), enc(base_string_uri(url)), enc(normalized_parameters(pairs))))


def hmac_sha256_signature(base: str, consumer_secret: str, token_secret: str) -> str:
    """§3.4.2 with SHA-256: key ``enc(consumer secret)&enc(token secret)``, base64 digest."""
    key = f"{enc(consumer_secret)}&{enc(token_secret)}"
    digest = hmac.new(key.encode("utf-8"), base.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def authorization_header(realm: str, oauth_params: Mapping[str, str]) -> str:
    """§3.5.1: ``OAuth realm="…", oauth_…="<percent-encoded>", …``; the realm is an RFC 2617
    quoted-string and goes as it is (NetSuite: ``1234567_SB1``, not lower-cased)."""
    if '"' in realm or "\\" in realm:
        raise ValueError(f"realm {realm!r} cannot be a quoted-string")
    pairs = [f'realm="{realm}"'] + [f'{enc(k)}="{enc(v)}"' for k, v in oauth_params.items()]
    return "OAuth " + ", ".join(pairs)


def parse_authorization(header: str) -> dict[str, str] | None:
    """Parameters of an ``Authorization: OAuth …`` header, percent-decoded; ``None`` when the
    header is not an OAuth header or is malformed (unquoted value, duplicate name, junk)."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        return None
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _PAIR.match(rest, pos)
        if m is None:
            return None
        try:
            name = unquote(m.group(1), errors="strict")
            # realm is an RFC 2617 quoted-string, not percent-encoded; every oauth_* value is.
            value = m.group(2) if name == "realm" else unquote(m.group(2), errors="strict")
        except UnicodeDecodeError:
            return None
        if name in params:
            return None  # a parameter may appear once (§3.1); a duplicate is an attack or bug
        params[name] = value
        pos = m.end()
    return params


def _nonce() -> str:
    return secrets.token_hex(16)  # 32 characters; NetSuite wants at least 6, ideally 20


class OAuth1Signer(AuthBase):
    """Signs every request it is attached to (a fresh nonce and timestamp each time, so a
    retried request is a new signature, never a replay)."""

    def __init__(self, realm: str, credentials: OAuth1Credentials,
                 clock: Callable[[], float] = time.time, nonce: Callable[[], str] = _nonce):
        self.realm = realm
        self.credentials = credentials
        self.clock = clock
        self.nonce = nonce

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        c = self.credentials
        params = {"oauth_consumer_key": c.consumer_key, "oauth_token": c.token_id,
                  "oauth_signature_method": SIGNATURE_METHOD,
                  "oauth_timestamp": str(int(self.clock())), "oauth_nonce": self.nonce(),
                  "oauth_version": "1.0"}
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        base = base_string(r.method or "GET", r.url or "", params, body,
                           r.headers.get("Content-Type"))
        params["oauth_signature"] = hmac_sha256_signature(base, c.consumer_secret,
                                                          c.token_secret)
        r.headers["Authorization"] = authorization_header(self.realm, params)
        return r
