"""How a resource server checks a DPoP-bound tessera access token (RFC 9449 §7), with PyJWT.

check(authorization, dpop, method, url) returns the token's claims or raises. Run as a script
against a tessera base URL it makes a key, a DPoP-bound token (password grant) and checks it.
"""
import base64, hashlib, json, sys, time, uuid

import jwt
import requests
from jwt.algorithms import ECAlgorithm

ISSUER = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
JWKS = jwt.PyJWKClient(f"{ISSUER}/.well-known/jwks.json")
SEEN = {}  # jti -> expiry; use a shared store (Redis SET NX PX) with several instances


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: dict) -> str:  # RFC 7638, EC P-256 keys
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return b64(hashlib.sha256(canonical.encode()).digest())


def check(authorization: str, dpop: str, method: str, url: str) -> dict:
    scheme, _, token = authorization.partition(" ")
    assert scheme.lower() == "dpop", "a DPoP-bound token must use the DPoP scheme (§7.1)"
    signing = JWKS.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing.key, algorithms=[signing.algorithm_name],
                        issuer=ISSUER, options={"verify_aud": False})
    header = jwt.get_unverified_header(dpop)
    assert header.get("typ") == "dpop+jwt" and header.get("alg") == "ES256"
    jwk = header["jwk"]
    assert "d" not in jwk, "a private key in the proof"
    proof = jwt.decode(dpop, ECAlgorithm.from_jwk(json.dumps(jwk)), algorithms=["ES256"])
    assert proof["htm"] == method and proof["htu"].split("?")[0].split("#")[0] == url
    assert abs(time.time() - proof["iat"]) <= 60, "iat outside the window"
    assert proof["ath"] == b64(hashlib.sha256(token.encode()).digest()), "ath"
    assert claims["cnf"]["jkt"] == thumbprint(jwk), "the proof's key is not the token's"
    assert proof["jti"] not in SEEN, "replayed proof"
    SEEN[proof["jti"]] = proof["iat"] + 120
    return claims


def proof_for(key, jwk, method, url, token=None):
    claims = {"jti": str(uuid.uuid4()), "htm": method, "htu": url, "iat": int(time.time())}
    if token:
        claims["ath"] = b64(hashlib.sha256(token.encode()).digest())
    return jwt.encode(claims, key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": jwk})


if __name__ == "__main__":
    from cryptography.hazmat.primitives.asymmetric import ec
    client_id, username, password = sys.argv[2:5]
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    token_url = f"{ISSUER}/oauth2/token"
    res = requests.post(token_url, headers={"DPoP": proof_for(key, jwk, "POST", token_url)},
                        data={"grant_type": "password", "client_id": client_id,
                              "username": username, "password": password})
    body = res.json()
    assert body["token_type"] == "DPoP", body
    api = "https://api.example.test/orders"
    token = body["access_token"]
    claims = check(f"DPoP {token}", proof_for(key, jwk, "GET", api, token), "GET", api)
    print("checked: sub", claims["sub"], "jkt", claims["cnf"]["jkt"])
