#!/usr/bin/env node
// Third-party client check of the device authorization grant (RFC 8628): a running tessera,
// seen through `openid-client` v6 (initiateDeviceAuthorization, pollDeviceAuthorizationGrant)
// and `jose`, while the verification page is driven like a person would: open the
// verification_uri, type the code, sign in, read the approval page, press Approve (or Deny).
// The page is plain HTML forms, so plain HTTP with a cookie jar is a browser here.
//
// Environment:
//   TESSERA_BASE_URL          the server's base URL, which must also be its issuer
//   TESSERA_USERNAME          an existing, enabled user without a second factor
//   TESSERA_PASSWORD          that user's password
//   TESSERA_DEVICE_CLIENT_ID  a public client: grants device_code and refresh_token, scopes
//                             openid profile email
//   TESSERA_DEVICE_CLIENT_NAME  that client's client_name (OIDC Registration §2), which the
//                             approval page shows instead of its id
//
// Prints one line per check and finally "device_check: N passed, M failed" (harness.mjs).

import * as client from 'openid-client';
import * as jose from 'jose';

import { harness } from './harness.mjs';
import { Person } from './person.mjs';

const { env, keepSecret, check, need, assert, assertEq, expectFailure, run } = harness('device_check');

const baseUrl = env('TESSERA_BASE_URL');
const username = env('TESSERA_USERNAME');
const password = env('TESSERA_PASSWORD');
const deviceClientId = env('TESSERA_DEVICE_CLIENT_ID');
const deviceClientName = env('TESSERA_DEVICE_CLIENT_NAME');
keepSecret(password);
const SCOPE = 'openid profile email';
const TIMEOUT_SECONDS = 10;

// The person of person.mjs, with the device page's steps.
class DevicePerson extends Person {
  // Opens `verificationUri`, types `userCode` and signs in; returns the approval page.
  async signInWithCode(verificationUri, userCode) {
    const form = await this.request(verificationUri);
    assertEq(form.status, 200, 'GET verification_uri');
    assert(form.body.includes('<label for="user_code">'), 'the page asks for the code');
    const [codeUrl] = this.form(form, '/device');
    const login = await this.request(codeUrl, { user_code: userCode.toLowerCase() });
    assertEq(login.status, 200, 'code entry');
    const [loginUrl, hidden] = this.form(login, '/oauth2/authorize/login');
    const approval = await this.request(loginUrl, { ...hidden, username, password });
    assertEq(approval.status, 200, 'sign-in');
    return approval;
  }

  // Presses the button `decision` on the approval page.
  async decide(approval, decision) {
    const [url, hidden] = this.form(approval, '/device/approve');
    const done = await this.request(url, { ...hidden, decision });
    assertEq(done.status, 200, `decision ${decision}`);
    return done;
  }
}

async function main() {
  const config = await check('discovery for the device client (public, auth none)', () =>
    client.discovery(new URL(baseUrl), deviceClientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
      timeout: TIMEOUT_SECONDS,
    }),
  );
  const meta = await check('discovery: device_authorization_endpoint and the grant (RFC 8628 §4)', () => {
    const m = need(config, 'discovery').serverMetadata();
    assertEq(m.device_authorization_endpoint, `${baseUrl}/oauth2/device_authorization`, 'device_authorization_endpoint');
    const grant = 'urn:ietf:params:oauth:grant-type:device_code';
    assert((m.grant_types_supported ?? []).includes(grant), `grant_types_supported lacks ${grant}`);
    return m;
  });
  const JWKS = meta ? jose.createRemoteJWKSet(new URL(meta.jwks_uri)) : undefined;

  // Approved ------------------------------------------------------------------------------
  const started = await check('initiateDeviceAuthorization: user_code, verification URIs, expires_in, interval', async () => {
    const r = await client.initiateDeviceAuthorization(need(config, 'discovery'), { scope: SCOPE });
    keepSecret(r.device_code);
    assert(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/.test(r.user_code), `user_code ${r.user_code}`);
    assertEq(r.verification_uri, `${baseUrl}/device`, 'verification_uri');
    assertEq(r.verification_uri_complete, `${baseUrl}/device?user_code=${r.user_code}`, 'verification_uri_complete');
    assertEq(r.interval, 5, 'interval');
    assert(r.expires_in > 0, `expires_in ${r.expires_in}`);
    return r;
  });
  // The device polls (openid-client waits `interval` first) while the person answers.
  const polling = started && client.pollDeviceAuthorizationGrant(config, started);
  polling?.catch(() => {});
  const person = new DevicePerson(baseUrl, TIMEOUT_SECONDS);
  const approval = await check('the person opens verification_uri, types the code and signs in: the approval page names the client and the scopes in words', async () => {
    const page = await person.signInWithCode(need(started, 'the device authorization').verification_uri, started.user_code);
    const shownWords = [
      `${deviceClientName} on a device asks for access`,
      'Confirm who you are',
      'Your username',
      'Your email address',
      started.user_code,
      'started this yourself',
    ];
    for (const shown of shownWords) {
      assert(page.body.includes(shown), `the approval page shows ${shown}`);
    }
    return page;
  });
  await check('the person approves: "Device connected"', async () => {
    const done = await person.decide(need(approval, 'the approval page'), 'approve');
    assert(done.body.includes('Device connected'), 'confirmation shown');
  });
  const tokens = await check('pollDeviceAuthorizationGrant: access, refresh and ID tokens', async () => {
    const t = await need(polling, 'the device authorization');
    keepSecret(t.access_token, t.refresh_token, t.id_token);
    assertEq(String(t.token_type).toLowerCase(), 'bearer', 'token_type');
    assert(typeof t.refresh_token === 'string', 'a refresh token (the client has the grant)');
    assertEq(t.scope, SCOPE, 'scope');
    return t;
  });
  await check('jose verifies the access token (typ at+jwt) and the ID token (aud = client, amr pwd)', async () => {
    const jwks = need(JWKS, 'discovery');
    const { payload: access } = await jose.jwtVerify(need(tokens, 'the tokens').access_token, jwks, {
      issuer: baseUrl,
      audience: baseUrl,
      typ: 'at+jwt',
      algorithms: ['RS256'],
    });
    assertEq(access.client_id, deviceClientId, 'client_id');
    const { payload: id } = await jose.jwtVerify(tokens.id_token, jwks, {
      issuer: baseUrl,
      audience: deviceClientId,
      typ: 'JWT',
      algorithms: ['RS256'],
    });
    assertEq(id.sub, access.sub, 'sub');
    assertEq(JSON.stringify(id.amr), '["pwd"]', 'amr');
  });
  await check('refreshTokenGrant with the device session: 200, rotated', async () => {
    const t = await client.refreshTokenGrant(need(config, 'discovery'), need(tokens, 'the tokens').refresh_token);
    keepSecret(t.access_token, t.refresh_token, t.id_token);
    assert(t.refresh_token !== tokens.refresh_token, 'rotated');
  });
  await check('the redeemed device code again: 400 invalid_grant', () =>
    expectFailure(
      () => client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:device_code', {
        device_code: need(started, 'the device authorization').device_code,
      }),
      (err) => err instanceof client.ResponseBodyError && err.status === 400 && err.error === 'invalid_grant',
      'second redemption',
    ),
  );

  // Denied --------------------------------------------------------------------------------
  const second = await check('a second device authorization', async () => {
    const r = await client.initiateDeviceAuthorization(need(config, 'discovery'), { scope: 'openid' });
    keepSecret(r.device_code);
    return r;
  });
  const denied = second && client.pollDeviceAuthorizationGrant(config, second);
  denied?.catch(() => {});
  await check('the person (already signed in) follows verification_uri_complete and denies', async () => {
    const page = await person.request(need(second, 'the device authorization').verification_uri_complete);
    assertEq(page.status, 200, 'the approval page at once');
    const done = await person.decide(page, 'deny');
    assert(done.body.includes('Device denied'), 'confirmation shown');
  });
  await check('pollDeviceAuthorizationGrant after the denial: access_denied (RFC 8628 §3.5)', () =>
    expectFailure(
      () => need(denied, 'the device authorization'),
      (err) => err instanceof client.ResponseBodyError && err.status === 400 && err.error === 'access_denied',
      'denied device',
    ),
  );
}

await run(main);
