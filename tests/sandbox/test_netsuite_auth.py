"""TBA verification against requests signed by an independent client (requests-oauthlib)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from pipelines.sandbox.netsuite_auth import (
    INVALID_LOGIN_DETAIL,
    TbaCredentials,
    TbaVerifier,
    base_string,
    invalid_login_response,
    parse_authorization,
)

ACCOUNT = "1234567_SB1"
HOST = "https://1234567-sb1.suitetalk.api.netsuite.com"
SUITEQL = f"{HOST}/services/rest/query/v1/suiteql"
CREDS = TbaCredentials("ck-integration-1", "cs-secret/1+=", "tok-abc", "ts-secret~2")
OTHER = TbaCredentials("ck-integration-2", "cs-two", "tok-def", "ts-two")


def verifier(**kwargs: Any) -> TbaVerifier:
    return TbaVerifier(ACCOUNT, [CREDS, OTHER], **kwargs)


def signed(method: str, url: str, *, creds: TbaCredentials = CREDS, realm: str = ACCOUNT,
           signature_method: str = "HMAC-SHA256", token_secret: str | None = None,
           **request_kwargs: Any) -> requests.PreparedRequest:
    auth = OAuth1(creds.consumer_key, creds.consumer_secret, creds.token_id,
                  token_secret if token_secret is not None else creds.token_secret,
                  signature_method=signature_method, realm=realm,
                  **{k: request_kwargs.pop(k) for k in ("nonce", "timestamp")
                     if k in request_kwargs})
    return requests.Request(method, url, auth=auth, **request_kwargs).prepare()


def text_headers(req: requests.PreparedRequest) -> dict[str, str]:
    """Headers as a server sees them: requests-oauthlib leaves the Authorization value as bytes
    on the prepared request; on the wire it is ASCII text."""
    return {k: v.decode("ascii") if isinstance(v, bytes) else v for k, v in req.headers.items()}


def auth_header(req: requests.PreparedRequest) -> str:
    return text_headers(req)["Authorization"]


def check(v: TbaVerifier, req: requests.PreparedRequest) -> str | None:
    body = req.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = text_headers(req)
    return v.verify(req.method or "", req.url or "", headers, body, headers.get("Content-Type"))


def suiteql_post(**kwargs: Any) -> requests.PreparedRequest:
    return signed("POST", SUITEQL, params={"limit": 1000, "offset": 0},
                  headers={"Prefer": "transient"},
                  json={"q": "SELECT id FROM transaction WHERE type = 'VendBill'"}, **kwargs)


# -- valid requests ------------------------------------------------------------------------------
def test_suiteql_post_with_json_body_and_query_verifies() -> None:
    req = suiteql_post()
    assert auth_header(req).startswith(f'OAuth realm="{ACCOUNT}"')
    assert 'oauth_signature_method="HMAC-SHA256"' in auth_header(req)
    assert check(verifier(), req) is None


def test_get_with_query_verifies() -> None:
    req = signed("GET", f"{HOST}/services/rest/record/v1/vendor",
                 params={"limit": 5, "q": 'lastModifiedDate AFTER "06/01/2024"'})
    assert check(verifier(), req) is None


def test_second_credential_pair_verifies() -> None:
    assert check(verifier(), suiteql_post(creds=OTHER)) is None


def test_form_body_parameters_are_signed() -> None:
    req = signed("POST", f"{HOST}/services/rest/auth/x", data={"grant_type": "a b", "z": "1"})
    assert text_headers(req)["Content-Type"] == "application/x-www-form-urlencoded"
    v = verifier()
    assert check(v, req) is None
    # Same request, body changed after signing: the body is part of the signature.
    req2 = signed("POST", f"{HOST}/services/rest/auth/x", data={"grant_type": "a b", "z": "1"})
    req2.body = "grant_type=a+b&z=2"
    assert check(v, req2) == "signature_invalid"


def test_json_body_is_not_signed() -> None:
    # Changing a JSON body after signing still verifies: RFC 5849 signs form bodies only.
    req = suiteql_post()
    req.body = json.dumps({"q": "SELECT 1"}).encode()
    assert check(verifier(), req) is None


def test_default_port_and_host_case_do_not_matter() -> None:
    req = signed("GET", f"{HOST}/services/rest/record/v1/vendor?limit=1")
    v = verifier()
    url = (req.url or "").replace("https://1234567-sb1", "https://1234567-SB1").replace(
        ".com/", ".com:443/")
    assert v.verify("get", url, text_headers(req), b"", None) is None


@pytest.mark.parametrize("value", ["a b", "a+b", "x~y", "héllo wörld", "1/2&3=4", "%41", "",
                                   "日本", "semi;colon,comma"])
def test_percent_encoding_edge_cases_verify(value: str) -> None:
    req = signed("GET", f"{HOST}/services/rest/record/v1/vendor",
                 params={"q": value, "limit": "10"})
    assert check(verifier(), req) is None


def test_repeated_query_parameters_are_sorted_by_value() -> None:
    req = signed("GET", f"{HOST}/services/rest/record/v1/vendor?b=2&a=z&a=y&a=")
    assert check(verifier(), req) is None


# -- refused requests ----------------------------------------------------------------------------
def test_tampered_query_param_is_refused() -> None:
    req = suiteql_post()
    req.url = (req.url or "").replace("offset=0", "offset=1000")
    assert check(verifier(), req) == "signature_invalid"


def test_tampered_method_is_refused() -> None:
    req = suiteql_post()
    assert verifier().verify("PUT", req.url or "", text_headers(req), b"", None) == (
        "signature_invalid")


def test_wrong_token_secret_is_refused() -> None:
    assert check(verifier(), suiteql_post(token_secret="nope")) == "signature_invalid"


def test_wrong_realm_is_refused() -> None:
    assert check(verifier(), suiteql_post(realm="1234567")) == "realm_rejected"
    assert check(verifier(), suiteql_post(realm="1234567-sb1")) == "realm_rejected"


def test_hmac_sha1_is_refused() -> None:
    assert check(verifier(), suiteql_post(signature_method="HMAC-SHA1")) == (
        "unsupported_signature_method")


def test_replayed_nonce_is_refused() -> None:
    v = verifier()
    req = suiteql_post()
    assert check(v, req) is None
    assert check(v, req) == "nonce_used"
    # The same nonce with another token is a different key (nonce is unique per user).
    same_nonce = parse_authorization(auth_header(req))
    assert same_nonce is not None
    other = suiteql_post(creds=OTHER, nonce=same_nonce["oauth_nonce"],
                         timestamp=same_nonce["oauth_timestamp"])
    assert check(v, other) is None


def test_forged_request_does_not_burn_the_nonce() -> None:
    v = verifier()
    req = suiteql_post()
    good_url = req.url or ""
    req.url = good_url.replace("limit=1000", "limit=999")
    assert check(v, req) == "signature_invalid"
    req.url = good_url
    assert check(v, req) is None


def test_stale_and_future_timestamps_are_refused() -> None:
    now = time.time()
    assert check(verifier(clock=lambda: now + 301), suiteql_post()) == "timestamp_refused"
    assert check(verifier(clock=lambda: now - 301), suiteql_post()) == "timestamp_refused"
    assert check(verifier(clock=lambda: now + 200), suiteql_post()) is None
    stale = suiteql_post(timestamp=str(int(now) - 3600))
    assert check(verifier(), stale) == "timestamp_refused"


def test_nonce_log_forgets_entries_outside_the_window() -> None:
    clock = [time.time()]
    v = verifier(clock=lambda: clock[0])
    req = suiteql_post(timestamp=str(int(clock[0])))
    assert check(v, req) is None
    clock[0] += 10_000  # the old key may now be dropped; a replay is refused by timestamp
    assert check(v, req) == "timestamp_refused"


def test_short_nonce_is_refused() -> None:
    assert check(verifier(), suiteql_post(nonce="abc12")) == "nonce_rejected"
    assert check(verifier(), suiteql_post(nonce="abc123")) is None


def test_unknown_consumer_key_is_refused() -> None:
    stranger = TbaCredentials("ck-unknown", "x", "tok-abc", "ts-secret~2")
    assert check(verifier(), suiteql_post(creds=stranger)) == "consumer_key_unknown"


def test_token_of_another_consumer_is_refused() -> None:
    mixed = TbaCredentials(CREDS.consumer_key, CREDS.consumer_secret, OTHER.token_id,
                           OTHER.token_secret)
    assert check(verifier(), suiteql_post(creds=mixed)) == "token_rejected"


def test_missing_or_malformed_header_is_refused() -> None:
    v = verifier()
    assert v.verify("GET", SUITEQL, {}, b"", None) == "parameter_absent"
    assert v.verify("GET", SUITEQL, {"Authorization": "Bearer abc"}, b"", None) == (
        "parameter_rejected")
    assert v.verify("GET", SUITEQL, {"authorization": 'OAuth realm="1234567_SB1"'}, b"",
                    None) == "parameter_absent"
    assert v.verify("GET", SUITEQL, {"authorization": "OAuth realm=1234567_SB1"}, b"",
                    None) == "parameter_rejected"
    dup = 'OAuth realm="1234567_SB1", oauth_nonce="abcdef", oauth_nonce="ghijkl"'
    assert v.verify("GET", SUITEQL, {"authorization": dup}, b"", None) == "parameter_rejected"


def test_wrong_oauth_version_is_refused() -> None:
    req = suiteql_post()
    req.headers["Authorization"] = auth_header(req).replace(
        'oauth_version="1.0"', 'oauth_version="2.0"')
    assert check(verifier(), req) == "version_rejected"


# -- pieces --------------------------------------------------------------------------------------
def test_parse_authorization_decodes_values() -> None:
    params = parse_authorization(
        'OAuth realm="1234567_SB1",oauth_consumer_key="a%20b",oauth_signature="x%2By%3D"')
    assert params == {"realm": "1234567_SB1", "oauth_consumer_key": "a b",
                      "oauth_signature": "x+y="}


def test_base_string_matches_rfc5849_example_shape() -> None:
    # RFC 5849 §3.4.1.1's example request (signature parameters simplified).
    base = base_string(
        "post", "http://EXAMPLE.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        {"realm": "Example", "oauth_consumer_key": "9djdj82h48djs9d2", "oauth_signature": "s"},
        b"c2&a3=2+q", "application/x-www-form-urlencoded")
    assert base == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D"
        "%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2")


def test_invalid_login_response() -> None:
    status, body, headers = invalid_login_response(ACCOUNT)
    assert status == 401
    assert body == {
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
        "title": "Unauthorized", "status": 401,
        "o:errorDetails": [{"detail": INVALID_LOGIN_DETAIL, "o:errorCode": "INVALID_LOGIN"}]}
    assert INVALID_LOGIN_DETAIL.startswith("Invalid login attempt. For more details, see the Login")
    assert headers == {"www-authenticate": 'OAuth realm="1234567_SB1", error="token_rejected", '
                                           'error_description="Invalid login attempt."'}
