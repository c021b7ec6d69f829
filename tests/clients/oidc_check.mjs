#!/usr/bin/env node
// Third-party client check: a running tessera, seen through Node's `openid-client` (v6) and
// `jose`, neither written here. Versions are pinned in package.json / package-lock.json.
//
// Environment:
//   TESSERA_BASE_URL               the server's base URL, which must also be its issuer
//   TESSERA_USERNAME               an existing, enabled user (with an email address)
//   TESSERA_PASSWORD               that user's password
//   TESSERA_PUBLIC_CLIENT_ID       a public client: grants password and refresh_token,
//                                  scopes openid profile email
//   TESSERA_SERVICE_CLIENT_ID      a confidential client: grant client_credentials, scope
//   TESSERA_SERVICE_CLIENT_SECRET  api:read, allowed audience urn:tessera:test-api
//
// openid-client performs discovery, client credentials (client_secret_basic, with and without
// an RFC 8707 resource), the password grant (through its generic grant request, client auth
// `none`), the refresh grant, introspection (RFC 7662) and revocation (RFC 7009). jose's
// createRemoteJWKSet + jwtVerify verify every access token (typ at+jwt, RFC 9068) and ID token
// (typ JWT, aud = client) against the discovered jwks_uri.
//
// Prints one line per check and finally "oidc_check: N passed, M failed"; exits 0 only when
// nothing failed. A check whose prerequisite failed is reported as SKIP and counted as failed.
// Tokens, passwords and secrets are never printed (error texts are scrubbed of them too); the
// harness (harness.mjs) is shared with device_check.mjs.

import * as client from 'openid-client';
import * as jose from 'jose';

import { harness } from './harness.mjs';

const TEST_AUDIENCE = 'urn:tessera:test-api';
const SERVICE_SCOPE = 'api:read';
const USER_SCOPE = 'openid profile email';
const TIMEOUT_SECONDS = 10;

const { env, keepSecret, check, need, assert, assertEq, expectFailure, run } = harness('oidc_check');

const baseUrl = env('TESSERA_BASE_URL');
const username = env('TESSERA_USERNAME');
const password = env('TESSERA_PASSWORD');
const publicClientId = env('TESSERA_PUBLIC_CLIENT_ID');
const serviceClientId = env('TESSERA_SERVICE_CLIENT_ID');
const serviceClientSecret = env('TESSERA_SERVICE_CLIENT_SECRET');
// Issue #15: per-client algorithms. Confidential client_credentials clients (scope api:read)
// signing access tokens with ES256 / EdDSA, and public password clients whose ID tokens are
// signed with ES256 / EdDSA (access tokens with the other one).
const algClients = [
  ['ES256', 'EdDSA', env('TESSERA_ES256_SERVICE_CLIENT_ID'), env('TESSERA_ES256_SERVICE_CLIENT_SECRET'), env('TESSERA_ES256_CLIENT_ID')],
  ['EdDSA', 'ES256', env('TESSERA_EDDSA_SERVICE_CLIENT_ID'), env('TESSERA_EDDSA_SERVICE_CLIENT_SECRET'), env('TESSERA_EDDSA_CLIENT_ID')],
];
keepSecret(password, serviceClientSecret);

const scopesOf = (s) => (typeof s === 'string' ? s.split(' ').filter(Boolean) : []);
const discoveryOptions = { execute: [client.allowInsecureRequests], timeout: TIMEOUT_SECONDS };

async function main() {
  const server = new URL(baseUrl);

  // (a) discovery -----------------------------------------------------------------------
  const service = await check('discovery (openid-configuration) for the service client, client_secret_basic', () =>
    client.discovery(
      server,
      serviceClientId,
      undefined,
      client.ClientSecretBasic(serviceClientSecret),
      discoveryOptions,
    ),
  );
  const pub = await check('discovery (openid-configuration) for the public client, auth none', () =>
    client.discovery(server, publicClientId, undefined, client.None(), discoveryOptions),
  );
  const meta = await check('discovery: metadata as required', () => {
    const m = need(service, 'discovery').serverMetadata();
    assertEq(m.issuer, baseUrl, 'issuer (byte-identical to the base URL)');
    for (const key of ['token_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint']) {
      assert(typeof m[key] === 'string' && m[key].startsWith(baseUrl), `${key} under the issuer: ${m[key]}`);
    }
    for (const method of ['client_secret_basic', 'none']) {
      assert(
        (m.token_endpoint_auth_methods_supported ?? []).includes(method),
        `token_endpoint_auth_methods_supported lacks ${method}`,
      );
    }
    for (const grant of ['password', 'refresh_token', 'client_credentials']) {
      assert((m.grant_types_supported ?? []).includes(grant), `grant_types_supported lacks ${grant}`);
    }
    assert((m.id_token_signing_alg_values_supported ?? []).includes('RS256'), 'RS256 not advertised for ID tokens');
    return m;
  });
  await check('discovery (RFC 8414 oauth-authorization-server) gives the same issuer', async () => {
    const c = await client.discovery(server, publicClientId, undefined, client.None(), {
      ...discoveryOptions,
      algorithm: 'oauth2',
    });
    assertEq(c.serverMetadata().issuer, baseUrl, 'issuer');
    assertEq(c.serverMetadata().jwks_uri, need(meta, 'discovery metadata').jwks_uri, 'jwks_uri');
  });

  const issuer = meta?.issuer;
  const JWKS = meta ? jose.createRemoteJWKSet(new URL(meta.jwks_uri), { timeoutDuration: TIMEOUT_SECONDS * 1000 }) : undefined;

  // jose verification of an RFC 9068 access token: typ at+jwt, `alg` (RS256 unless given; the
  // JWK must publish it too), iss, aud, required claims.
  async function verifyAccess(token, audience, alg = 'RS256') {
    const { payload, protectedHeader } = await jose.jwtVerify(need(token, 'the token'), need(JWKS, 'discovery'), {
      issuer,
      audience,
      typ: 'at+jwt',
      algorithms: [alg],
      requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'],
    });
    assertEq(protectedHeader.alg, alg, 'header alg');
    assert(typeof protectedHeader.kid === 'string' && protectedHeader.kid !== '', 'header kid missing');
    assertEq(payload.aud, audience, 'aud');
    return payload;
  }
  // jose verification of an OIDC ID token: typ JWT, `alg`, iss, aud = the client.
  async function verifyId(token, audience = publicClientId, alg = 'RS256') {
    const { payload } = await jose.jwtVerify(need(token, 'the ID token'), need(JWKS, 'discovery'), {
      issuer,
      audience,
      typ: 'JWT',
      algorithms: [alg],
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    });
    return payload;
  }

  // (b) client credentials (client_secret_basic) ------------------------------------------
  const cc = await check('client credentials grant (no resource): 200 with a bearer access token', async () => {
    const t = await client.clientCredentialsGrant(need(service, 'discovery'), { scope: SERVICE_SCOPE });
    keepSecret(t.access_token, t.refresh_token);
    assertEq(String(t.token_type).toLowerCase(), 'bearer', 'token_type');
    assert(Number.isInteger(t.expires_in) && t.expires_in > 0, `expires_in ${t.expires_in}`);
    assertEq(t.refresh_token, undefined, 'refresh_token (none for client credentials)');
    assertEq(t.scope, SERVICE_SCOPE, 'scope');
    return t;
  });
  await check('client credentials access token: jose verifies (typ at+jwt), aud = issuer, sub = client', async () => {
    const claims = await verifyAccess(cc?.access_token, need(issuer, 'discovery'));
    assertEq(claims.sub, serviceClientId, 'sub');
    assertEq(claims.client_id, serviceClientId, 'client_id');
    assertEq(claims.scope, SERVICE_SCOPE, 'scope');
    assertEq(claims.sid, undefined, 'sid (no session for client credentials)');
  });
  const ccResource = await check(`client credentials grant with resource=${TEST_AUDIENCE}: 200`, async () => {
    const t = await client.clientCredentialsGrant(need(service, 'discovery'), {
      scope: SERVICE_SCOPE,
      resource: TEST_AUDIENCE,
    });
    keepSecret(t.access_token);
    return t;
  });
  await check(`client credentials access token with resource: jose verifies, aud = ${TEST_AUDIENCE}`, async () => {
    const claims = await verifyAccess(ccResource?.access_token, TEST_AUDIENCE);
    assertEq(claims.sub, serviceClientId, 'sub');
  });
  await check('client credentials with a resource not allowed: 400 invalid_target (RFC 8707 §2)', () =>
    expectFailure(
      () =>
        client.clientCredentialsGrant(need(service, 'discovery'), {
          scope: SERVICE_SCOPE,
          resource: 'urn:tessera:not-allowed',
        }),
      (err) => err instanceof client.ResponseBodyError && err.status === 400 && err.error === 'invalid_target',
      'unknown resource',
    ),
  );

  // (c) password grant via genericGrantRequest (client auth none) --------------------------
  const pw = await check('password grant (genericGrantRequest, public client): 200 with access, refresh and ID tokens', async () => {
    const t = await client.genericGrantRequest(need(pub, 'discovery'), 'password', {
      username,
      password,
      scope: USER_SCOPE,
    });
    keepSecret(t.access_token, t.refresh_token, t.id_token);
    assertEq(String(t.token_type).toLowerCase(), 'bearer', 'token_type');
    assert(Number.isInteger(t.expires_in) && t.expires_in > 0, `expires_in ${t.expires_in}`);
    assert(typeof t.refresh_token === 'string' && t.refresh_token !== '', 'refresh_token missing');
    assert(typeof t.id_token === 'string' && t.id_token !== '', 'id_token missing');
    for (const s of scopesOf(USER_SCOPE)) assert(scopesOf(t.scope).includes(s), `scope lacks ${s}: ${t.scope}`);
    const idClaims = t.claims(); // validated by openid-client (iss, aud, exp, iat)
    assertEq(idClaims?.aud, publicClientId, 'ID token aud (as seen by openid-client)');
    return t;
  });
  const pwAccess = await check('password-grant access token: jose verifies (typ at+jwt), aud = issuer', async () => {
    const claims = await verifyAccess(pw?.access_token, need(issuer, 'discovery'));
    assertEq(claims.client_id, publicClientId, 'client_id');
    assert(typeof claims.sid === 'string' && claims.sid !== '', 'sid missing');
    assert(Number.isInteger(claims.auth_time), `auth_time ${claims.auth_time}`);
    for (const s of scopesOf(USER_SCOPE)) assert(scopesOf(claims.scope).includes(s), `scope lacks ${s}`);
    return claims;
  });
  await check('ID token: jose verifies (typ JWT, aud = public client), same sub and sid, email and profile claims', async () => {
    const claims = await verifyId(pw?.id_token);
    const access = need(pwAccess, 'the access token check');
    assertEq(claims.sub, access.sub, 'sub');
    assertEq(claims.sid, access.sid, 'sid');
    assert(typeof claims.email === 'string' && claims.email.includes('@'), 'email claim missing (scope email)');
    assertEq(claims.preferred_username, username, 'preferred_username (scope profile)');
  });
  await check('ID token verified with typ at+jwt is refused (the typ check is real)', () =>
    expectFailure(
      () =>
        jose.jwtVerify(need(pw?.id_token, 'the ID token'), need(JWKS, 'discovery'), {
          issuer,
          audience: publicClientId,
          typ: 'at+jwt',
          algorithms: ['RS256'],
        }),
      (err) => err instanceof jose.errors.JWTClaimValidationFailed && err.claim === 'typ',
      'ID token as at+jwt',
    ),
  );
  await check('access token verified with typ JWT is refused (the typ check is real)', () =>
    expectFailure(
      () =>
        jose.jwtVerify(need(pw?.access_token, 'the access token'), need(JWKS, 'discovery'), {
          issuer,
          audience: issuer,
          typ: 'JWT',
          algorithms: ['RS256'],
        }),
      (err) => err instanceof jose.errors.JWTClaimValidationFailed && err.claim === 'typ',
      'access token as JWT',
    ),
  );

  // (d) refresh grant ------------------------------------------------------------------
  const rt = await check('refreshTokenGrant: 200, the refresh token rotates', async () => {
    const t = await client.refreshTokenGrant(need(pub, 'discovery'), need(pw?.refresh_token, 'the password grant'));
    keepSecret(t.access_token, t.refresh_token, t.id_token);
    assert(typeof t.refresh_token === 'string' && t.refresh_token !== '', 'refresh_token missing');
    assert(t.refresh_token !== pw.refresh_token, 'the refresh token did not rotate');
    assert(t.access_token !== pw.access_token, 'the access token did not change');
    return t;
  });
  await check('refreshed access token: jose verifies, same sub, sid and client', async () => {
    const claims = await verifyAccess(rt?.access_token, need(issuer, 'discovery'));
    const first = need(pwAccess, 'the first access token check');
    assertEq(claims.sub, first.sub, 'sub');
    assertEq(claims.sid, first.sid, 'sid');
    assertEq(claims.client_id, publicClientId, 'client_id');
  });
  // tessera returns an ID token whenever the granted scope has openid, refreshes included.
  await check('refreshed ID token: present, jose verifies (typ JWT), same sub', async () => {
    need(rt, 'the refresh grant');
    assert(typeof rt.id_token === 'string' && rt.id_token !== '', 'id_token missing (scope has openid)');
    const claims = await verifyId(rt.id_token);
    assertEq(claims.sub, need(pwAccess, 'the first access token check').sub, 'sub');
  });

  // (e) introspection by the service client (client_secret_basic) -------------------------
  const introspect = (token, hint) =>
    client.tokenIntrospection(need(service, 'discovery'), need(token, 'the token'), hint ? { token_type_hint: hint } : undefined);

  // RFC 7662 §2.2: token_type is the RFC 6749 §7.1 type (Bearer here; DPoP for bound tokens).
  await check('introspection of the refreshed access token: active, token_type Bearer, its claims', async () => {
    const r = await introspect(rt?.access_token, 'access_token');
    assertEq(r.active, true, 'active');
    assertEq(r.token_type, 'Bearer', 'token_type');
    assertEq(r.cnf, undefined, 'cnf');
    assertEq(r.client_id, publicClientId, 'client_id');
    assertEq(r.iss, issuer, 'iss');
    const first = need(pwAccess, 'the first access token check');
    assertEq(r.sub, first.sub, 'sub');
    assertEq(r.sid, first.sid, 'sid');
  });
  await check('introspection of the current refresh token: active, token_type Bearer', async () => {
    const r = await introspect(rt?.refresh_token, 'refresh_token');
    assertEq(r.active, true, 'active');
    assertEq(r.token_type, 'Bearer', 'token_type');
    assertEq(r.client_id, publicClientId, 'client_id');
    assertEq(r.sub, need(pwAccess, 'the first access token check').sub, 'sub');
  });
  await check('introspection of the rotated (first) refresh token: inactive', async () => {
    const r = await introspect(pw?.refresh_token, 'refresh_token');
    assertEq(r.active, false, 'active');
  });
  await check('introspection of the client credentials token: active, sub = service client', async () => {
    const r = await introspect(cc?.access_token);
    assertEq(r.active, true, 'active');
    assertEq(r.sub, serviceClientId, 'sub');
  });
  await check('introspection by the public client is refused: 401 invalid_client', () =>
    expectFailure(
      () => client.tokenIntrospection(need(pub, 'discovery'), need(rt?.access_token, 'the refresh grant')),
      (err) =>
        (err instanceof client.ResponseBodyError && err.status === 401 && err.error === 'invalid_client') ||
        (err instanceof client.WWWAuthenticateChallengeError && err.status === 401),
      'introspection by a public client',
    ),
  );

  // (f) revocation by the owner, then introspection -------------------------------------
  await check('tokenRevocation of the refresh token by the public client: 200', () =>
    client.tokenRevocation(need(pub, 'discovery'), need(rt?.refresh_token, 'the refresh grant'), {
      token_type_hint: 'refresh_token',
    }),
  );
  await check('after revocation: introspection of the access token is inactive (session revoked)', async () => {
    const r = await introspect(rt?.access_token, 'access_token');
    assertEq(r.active, false, 'active');
  });
  await check('after revocation: introspection of the first access token is inactive too', async () => {
    const r = await introspect(pw?.access_token);
    assertEq(r.active, false, 'active');
  });
  await check('after revocation: introspection of the refresh token is inactive', async () => {
    const r = await introspect(rt?.refresh_token, 'refresh_token');
    assertEq(r.active, false, 'active');
  });
  await check('after revocation: refreshTokenGrant with it fails with 400 invalid_grant', () =>
    expectFailure(
      () => client.refreshTokenGrant(need(pub, 'discovery'), need(rt?.refresh_token, 'the refresh grant')),
      (err) => err instanceof client.ResponseBodyError && err.status === 400 && err.error === 'invalid_grant',
      'refresh with a revoked token',
    ),
  );
  await check('revoking the same token again: 200 (RFC 7009 §2.2)', () =>
    client.tokenRevocation(need(pub, 'discovery'), need(rt?.refresh_token, 'the refresh grant')),
  );
  await check('the client credentials token stays active (another session)', async () => {
    const r = await introspect(cc?.access_token);
    assertEq(r.active, true, 'active');
  });

  // (g) ES256 (RFC 7518 §3.4) and EdDSA (RFC 8037) per client --------------------------
  await check('discovery: id_token_signing_alg_values_supported lists RS256, ES256, EdDSA', () => {
    const algs = need(meta, 'discovery').id_token_signing_alg_values_supported ?? [];
    for (const alg of ['RS256', 'ES256', 'EdDSA']) assert(algs.includes(alg), `${alg} not advertised`);
  });
  await check('jwks: EC P-256 and OKP Ed25519 keys with 32-octet coordinates', async () => {
    const jwks = await (await fetch(need(meta, 'discovery').jwks_uri)).json();
    const ec = jwks.keys.find((k) => k.kty === 'EC');
    const okp = jwks.keys.find((k) => k.kty === 'OKP');
    assertEq(ec?.crv, 'P-256', 'EC crv');
    assertEq(okp?.crv, 'Ed25519', 'OKP crv');
    const octets = (b64) => Buffer.from(b64, 'base64url').length;
    assertEq([octets(ec.x), octets(ec.y), octets(okp.x)].join(), '32,32,32', 'coordinate lengths');
  });
  for (const [accessAlg, idAlg, svcId, svcSecret, appId] of algClients) {
    keepSecret(svcSecret);
    const svc = await check(`${accessAlg} service client: discovery (client_secret_basic)`, () =>
      client.discovery(server, svcId, svcSecret, client.ClientSecretBasic(svcSecret), discoveryOptions),
    );
    await check(`${accessAlg} client credentials access token: jose verifies with ${accessAlg}`, async () => {
      const t = await client.clientCredentialsGrant(need(svc, 'discovery'), { scope: SERVICE_SCOPE });
      keepSecret(t.access_token);
      const claims = await verifyAccess(t.access_token, need(issuer, 'discovery'), accessAlg);
      assertEq(claims.client_id, svcId, 'client_id');
      const r = await introspect(t.access_token);
      assertEq(r.active, true, 'introspection (our own verifier) accepts it');
    });
    // openid-client checks the ID token's alg against the registered id_token_signed_response_alg.
    const app = await check(`${idAlg} ID-token client: discovery with id_token_signed_response_alg ${idAlg}`, () =>
      client.discovery(server, appId, { id_token_signed_response_alg: idAlg }, client.None(), discoveryOptions),
    );
    await check(`${idAlg} ID token: openid-client validates it, jose verifies with ${idAlg}; access token ${accessAlg}`, async () => {
      const t = await client.genericGrantRequest(need(app, 'discovery'), 'password', { username, password, scope: USER_SCOPE });
      keepSecret(t.access_token, t.refresh_token, t.id_token);
      assertEq(t.claims()?.aud, appId, 'ID token aud (as seen by openid-client)');
      const id = await verifyId(t.id_token, appId, idAlg);
      const access = await verifyAccess(t.access_token, need(issuer, 'discovery'), accessAlg);
      assertEq(id.sub, access.sub, 'same sub');
    });
  }
}

await run(main);
