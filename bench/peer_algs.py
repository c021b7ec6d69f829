#!/usr/bin/env python3
"""bench/run helper: extends the copy of the oidc-provider peer's server.mjs (which signs RS256
only) with an ES256 (P-256) and an EdDSA (Ed25519) signing key and two resources signed with
them, urn:bench:api:es256 and urn:bench:api:eddsa, so client_credentials can be compared per
algorithm (issue #15). Edits the file in place; idempotent; fails if an anchor is missing.

    python3 bench/peer_algs.py target/bench-peers/oidc-provider/server.mjs
"""

import sys

MARK = "// bench/peer_algs.py: ES256 + EdDSA"

EDITS = [
    (
        "const resourceServers = {",
        MARK + """
const curveJwk = (type, options, alg) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
  kid: `bench-${alg.toLowerCase()}-${randomUUID()}`,
  use: 'sig',
  alg,
});
const extraJwks = [curveJwk('ec', { namedCurve: 'P-256' }, 'ES256'), curveJwk('ed25519', {}, 'EdDSA')];

const resourceServers = {
  ...Object.fromEntries(extraJwks.map((k) => [`${JWT_RESOURCE}:${k.alg.toLowerCase()}`, {
    scope: RESOURCE_SCOPE,
    audience: JWT_RESOURCE,
    accessTokenTTL: 10 * 60,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: k.alg } },
  }])),""",
    ),
    ("jwks: { keys: [signingJwk] },", "jwks: { keys: [signingJwk, ...extraJwks] },"),
    ("idTokenSigningAlgValues: ['RS256'],", "idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],"),
]


def main(path):
    text = open(path, encoding="utf-8").read()
    if MARK in text:
        return 0
    for anchor, replacement in EDITS:
        if text.count(anchor) != 1:
            print(f"peer_algs: anchor not found once in {path}: {anchor!r}", file=sys.stderr)
            return 1
        text = text.replace(anchor, replacement)
    open(path, "w", encoding="utf-8").write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
