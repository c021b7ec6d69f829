#!/usr/bin/env node
// Third-party check of OpenID Connect Back-Channel Logout 1.0 against a running tessera: the
// relying party is `openid-client` v6 (discovery, a password grant through
// genericGrantRequest, refreshTokenGrant) with its own back-channel endpoint (a Node HTTP
// server on TESSERA_BACKCHANNEL_PORT); `jose` verifies the logout token the way §2.6 asks.
//
// Environment:
//   TESSERA_BASE_URL                the server's base URL, which must also be its issuer
//   TESSERA_USERNAME, TESSERA_PASSWORD   an existing, enabled user without a second factor
//   TESSERA_BACKCHANNEL_CLIENT_ID   a public client (password, refresh_token; openid profile
//                                   email) registered with backchannel_logout_uri
//                                   http://127.0.0.1:<TESSERA_BACKCHANNEL_PORT>/backchannel
//   TESSERA_BACKCHANNEL_PORT        the port of that URI (free)
//
// Prints one line per check and finally "backchannel_check: N passed, M failed" (harness.mjs).

import http from 'node:http';

import * as client from 'openid-client';
import * as jose from 'jose';

import { harness } from './harness.mjs';

const { env, keepSecret, check, need, assert, assertEq, run } = harness('backchannel_check');

const baseUrl = env('TESSERA_BASE_URL');
const username = env('TESSERA_USERNAME');
const password = env('TESSERA_PASSWORD');
const clientId = env('TESSERA_BACKCHANNEL_CLIENT_ID');
const port = Number(env('TESSERA_BACKCHANNEL_PORT'));
keepSecret(password);
const TIMEOUT_SECONDS = 10;
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

// The RP's back-channel endpoint: every POST body is kept, each answered 200 (§2.8).
const received = [];
const waiting = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    received.push({ path: req.url, type: req.headers['content-type'] ?? '', body });
    res.writeHead(200, { 'cache-control': 'no-store' }).end();
    while (waiting.length) waiting.shift()();
  });
});

// The next POST (or the one already received), within 20 s.
function nextPost() {
  if (received.length) return Promise.resolve(received.shift());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no back-channel logout POST within 20 s')), 20_000);
    waiting.push(() => { clearTimeout(timer); resolve(received.shift()); });
  });
}

async function main() {
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  try {
    await checks();
  } finally {
    server.close();
  }
}

async function checks() {
  const config = await check('discovery: backchannel_logout_supported and _session_supported', async () => {
    const c = await client.discovery(new URL(baseUrl), clientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
      timeout: TIMEOUT_SECONDS,
    });
    const m = c.serverMetadata();
    assertEq(m.backchannel_logout_supported, true, 'backchannel_logout_supported');
    assertEq(m.backchannel_logout_session_supported, true, 'backchannel_logout_session_supported');
    return c;
  });
  const JWKS = config ? jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri)) : undefined;
  const tokens = await check('password grant and a refresh: a session with an ID token', async () => {
    const first = await client.genericGrantRequest(need(config, 'discovery'), 'password', {
      username, password, scope: 'openid profile email',
    });
    keepSecret(first.access_token, first.refresh_token, first.id_token);
    const t = await client.refreshTokenGrant(config, first.refresh_token);
    keepSecret(t.access_token, t.refresh_token, t.id_token);
    assert(typeof t.id_token === 'string', 'an ID token');
    return t;
  });
  const post = await check('logout everywhere: the RP gets a form-encoded POST with logout_token', async () => {
    const res = await fetch(`${baseUrl}/account/logout-all`, {
      method: 'POST',
      headers: { authorization: `Bearer ${need(tokens, 'the session').access_token}` },
    });
    assertEq(res.status, 204, 'POST /account/logout-all');
    const p = await nextPost();
    assertEq(p.path, '/backchannel', 'path');
    assert(p.type.startsWith('application/x-www-form-urlencoded'), `content-type ${p.type}`);
    const token = new URLSearchParams(p.body).get('logout_token');
    assert(token, 'a logout_token parameter');
    keepSecret(token);
    return token;
  });
  await check('jose verifies the logout token (§2.6): typ logout+jwt, iss, aud, events, sid, sub, no nonce', async () => {
    const { payload, protectedHeader } = await jose.jwtVerify(need(post, 'the logout token'), need(JWKS, 'discovery'), {
      issuer: baseUrl,
      audience: clientId,
      typ: 'logout+jwt',
      algorithms: ['RS256'],
      requiredClaims: ['iat', 'exp', 'jti', 'sid', 'sub', 'events'],
    });
    assertEq(protectedHeader.typ, 'logout+jwt', 'typ');
    assertEq(JSON.stringify(payload.events), JSON.stringify({ [EVENT]: {} }), 'events');
    assertEq(payload.exp - payload.iat, 120, 'exp - iat');
    assert(!('nonce' in payload), 'no nonce (§2.4)');
    const id = jose.decodeJwt(need(tokens, 'the session').id_token);
    assertEq(payload.sid, id.sid, 'sid: the session of the ID token');
    assertEq(payload.sub, id.sub, 'sub');
  });
  await check('the session is over: its refresh token is refused', async () => {
    let refused = false;
    try {
      await client.refreshTokenGrant(need(config, 'discovery'), need(tokens, 'the session').refresh_token);
    } catch (err) {
      refused = err instanceof client.ResponseBodyError && err.error === 'invalid_grant';
    }
    assert(refused, 'invalid_grant');
  });
}

run(main);
