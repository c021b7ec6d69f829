#!/usr/bin/env python3
"""Third-party client check: a running tessera, seen through PyJWT and requests.

Environment:
  TESSERA_BASE_URL   the server's base URL, which must also be its issuer
  TESSERA_USERNAME   an existing, enabled user
  TESSERA_PASSWORD   that user's password
  TESSERA_CLIENT_ID  a public client allowed the password and refresh_token grants
                     and the scopes openid and profile
  TESSERA_ES256_CLIENT_ID  as TESSERA_CLIENT_ID, registered with --access-token-alg ES256
                     --id-token-alg EdDSA
  TESSERA_EDDSA_CLIENT_ID  as TESSERA_CLIENT_ID, registered with --access-token-alg EdDSA
                     --id-token-alg ES256

The access token is verified only with PyJWT's own JWKS client (jwt.PyJWKClient on the
discovered jwks_uri) and jwt.decode with a fixed algorithm list, audience and issuer.

Exits 0 and prints "pyjwt_check: N passed, 0 failed" when every check holds; otherwise
prints what failed and exits 1. Tokens and passwords are never printed.
"""

import os
import sys

import jwt
import requests

TIMEOUT = 10  # seconds per HTTP request

# The status/error of a response, never its body (which may hold tokens).
def describe(resp):
    detail = f"HTTP {resp.status_code}"
    try:
        body = resp.json()
    except ValueError:
        return detail
    if isinstance(body, dict) and "error" in body:
        detail += f" error={body.get('error')!r}"
        if "error_description" in body:
            detail += f" error_description={body.get('error_description')!r}"
    return detail


class Checks:
    def __init__(self):
        self.passed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}")
            return
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))
        self.finish(failed=1)

    def finish(self, failed=0):
        print(f"pyjwt_check: {self.passed} passed, {failed} failed")
        sys.exit(1 if failed else 0)


def env(name):
    value = os.environ.get(name)
    if not value:
        print(f"pyjwt_check: environment variable {name} is not set")
        sys.exit(2)
    return value


def main():
    base_url = env("TESSERA_BASE_URL")
    username = env("TESSERA_USERNAME")
    password = env("TESSERA_PASSWORD")
    client_id = env("TESSERA_CLIENT_ID")
    c = Checks()
    http = requests.Session()

    def post_token(data):
        try:
            return http.post(token_endpoint, data=data, timeout=TIMEOUT)
        except requests.RequestException as e:
            c.check("POST token endpoint", False, type(e).__name__)

    # (a) discovery ---------------------------------------------------------------
    discovery_url = base_url.rstrip("/") + "/.well-known/openid-configuration"
    try:
        resp = http.get(discovery_url, timeout=TIMEOUT)
    except requests.RequestException as e:
        c.check("GET /.well-known/openid-configuration", False, f"{type(e).__name__}: {e}")
    c.check("discovery: 200", resp.status_code == 200, describe(resp))
    try:
        meta = resp.json()
    except ValueError:
        meta = None
    c.check("discovery: JSON object", isinstance(meta, dict))
    issuer = meta.get("issuer")
    c.check(
        "discovery: issuer == base URL",
        issuer == base_url,
        f"issuer {issuer!r} != {base_url!r}",
    )
    token_endpoint = meta.get("token_endpoint")
    jwks_uri = meta.get("jwks_uri")
    c.check("discovery: token_endpoint present", isinstance(token_endpoint, str) and token_endpoint != "")
    c.check("discovery: jwks_uri present", isinstance(jwks_uri, str) and jwks_uri != "")
    c.check(
        "discovery: RS256 in id_token_signing_alg_values_supported",
        "RS256" in (meta.get("id_token_signing_alg_values_supported") or []),
    )

    # (b) password grant ------------------------------------------------------------
    resp = post_token(
        {
            "grant_type": "password",
            "username": username,
            "password": password,
            "client_id": client_id,
            "scope": "openid profile",
        }
    )
    c.check("password grant: 200", resp.status_code == 200, describe(resp))
    c.check(
        "password grant: Cache-Control no-store",
        "no-store" in resp.headers.get("Cache-Control", ""),
        f"Cache-Control {resp.headers.get('Cache-Control')!r}",
    )
    tok = resp.json()
    c.check(
        "password grant: token_type Bearer",
        str(tok.get("token_type", "")).lower() == "bearer",
        f"token_type {tok.get('token_type')!r}",
    )
    c.check(
        "password grant: expires_in is a positive integer",
        isinstance(tok.get("expires_in"), int) and tok["expires_in"] > 0,
        f"expires_in {tok.get('expires_in')!r}",
    )
    access_token = tok.get("access_token")
    refresh_token = tok.get("refresh_token")
    c.check("password grant: access_token present", isinstance(access_token, str) and access_token != "")
    c.check("password grant: refresh_token present", isinstance(refresh_token, str) and refresh_token != "")
    c.check("password grant: id_token present (scope openid)", isinstance(tok.get("id_token"), str))

    # (c) access token verified with PyJWKClient only --------------------------------
    jwks_client = jwt.PyJWKClient(jwks_uri, cache_keys=False, timeout=TIMEOUT)

    def verify_access_token(label, token):
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            c.check(f"{label}: JOSE header readable", False, f"{type(e).__name__}: {e}")
        c.check(f"{label}: header typ == at+jwt", header.get("typ") == "at+jwt", f"typ {header.get('typ')!r}")
        c.check(f"{label}: header kid present", isinstance(header.get("kid"), str) and header["kid"] != "")
        c.check(f"{label}: header alg == RS256", header.get("alg") == "RS256", f"alg {header.get('alg')!r}")
        try:
            signing_key = jwks_client.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=["RS256"],
                audience=issuer,  # the default audience is the issuer
                issuer=issuer,
                options={"require": ["exp", "iat", "sub", "jti"]},
            )
        except jwt.PyJWTError as e:
            c.check(f"{label}: signature and claims verify via JWKS", False, f"{type(e).__name__}: {e}")
        c.check(f"{label}: signature and claims verify via JWKS", True)
        c.check(
            f"{label}: client_id claim",
            claims.get("client_id") == client_id,
            f"client_id {claims.get('client_id')!r}",
        )
        scopes = str(claims.get("scope", "")).split()
        c.check(
            f"{label}: scope claim holds openid and profile",
            "openid" in scopes and "profile" in scopes,
            f"scope {claims.get('scope')!r}",
        )
        return claims

    claims = verify_access_token("access token", access_token)

    # the ID token, through the same JWKS: aud is the client (OIDC Core §2)
    try:
        id_key = jwks_client.get_signing_key_from_jwt(tok["id_token"])
        id_claims = jwt.decode(
            tok["id_token"],
            id_key.key,
            algorithms=["RS256"],
            audience=client_id,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError as e:
        c.check("id token: verifies via JWKS (aud = client_id)", False, f"{type(e).__name__}: {e}")
    c.check("id token: verifies via JWKS (aud = client_id)", True)
    c.check("id token: sub == access token sub", id_claims.get("sub") == claims.get("sub"))

    # (d) refresh_token grant: rotation and reuse ------------------------------------
    resp = post_token({"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id})
    c.check("refresh grant: 200", resp.status_code == 200, describe(resp))
    tok2 = resp.json()
    new_refresh = tok2.get("refresh_token")
    c.check("refresh grant: new refresh_token present", isinstance(new_refresh, str) and new_refresh != "")
    c.check("refresh grant: refresh token rotated (differs)", new_refresh != refresh_token)
    new_claims = verify_access_token("refreshed access token", tok2.get("access_token"))
    c.check("refreshed access token: same sub", new_claims.get("sub") == claims.get("sub"))

    resp = post_token({"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id})
    err = resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else {}
    c.check(
        "reused old refresh token: 400 invalid_grant",
        resp.status_code == 400 and err.get("error") == "invalid_grant",
        describe(resp),
    )
    # reuse of a rotated token revokes the whole family, including the newest token
    resp = post_token({"grant_type": "refresh_token", "refresh_token": new_refresh, "client_id": client_id})
    err = resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else {}
    c.check(
        "after reuse, the family is revoked: new refresh token gives 400 invalid_grant",
        resp.status_code == 400 and err.get("error") == "invalid_grant",
        describe(resp),
    )

    # (e) ES256 (RFC 7518 §3.4) and EdDSA (RFC 8037), per client ------------------------
    # The algorithm accepted for a token is the one its JWK publishes, never the header's.
    jwks = requests.get(jwks_uri, timeout=TIMEOUT).json()
    ktys = sorted(str(k.get("kty")) for k in jwks.get("keys", []))
    c.check("jwks: RSA, EC and OKP keys published", {"RSA", "EC", "OKP"} <= set(ktys), f"kty {ktys}")
    for var, access_alg, id_alg in (
        ("TESSERA_ES256_CLIENT_ID", "ES256", "EdDSA"),
        ("TESSERA_EDDSA_CLIENT_ID", "EdDSA", "ES256"),
    ):
        alg_client = env(var)
        resp = post_token(
            {
                "grant_type": "password",
                "username": username,
                "password": password,
                "client_id": alg_client,
                "scope": "openid profile",
            }
        )
        c.check(f"{access_alg} client: password grant 200", resp.status_code == 200, describe(resp))
        tok = resp.json()
        for label, token, alg, aud in (
            (f"{access_alg} access token", tok.get("access_token"), access_alg, issuer),
            (f"{id_alg} id token", tok.get("id_token"), id_alg, alg_client),
        ):
            try:
                header = jwt.get_unverified_header(token)
                signing_key = jwks_client.get_signing_key_from_jwt(token)
            except jwt.PyJWTError as e:
                c.check(f"{label}: header and JWK readable", False, f"{type(e).__name__}: {e}")
            c.check(f"{label}: header alg == {alg}", header.get("alg") == alg, f"alg {header.get('alg')!r}")
            c.check(
                f"{label}: the JWK publishes alg {alg}",
                signing_key.algorithm_name == alg,
                f"alg {signing_key.algorithm_name!r}",
            )
            try:
                got = jwt.decode(
                    token,
                    signing_key.key,
                    algorithms=[signing_key.algorithm_name],
                    audience=aud,
                    issuer=issuer,
                    options={"require": ["exp", "iat", "sub"]},
                )
            except jwt.PyJWTError as e:
                c.check(f"{label}: verifies via JWKS", False, f"{type(e).__name__}: {e}")
            c.check(f"{label}: verifies via JWKS", True)
            c.check(f"{label}: same sub", got.get("sub") == claims.get("sub"))

    c.finish()


if __name__ == "__main__":
    main()
