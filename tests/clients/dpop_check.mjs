#!/usr/bin/env node
// Third-party client check of DPoP (RFC 9449) with pushed authorization requests (RFC 9126):
// `openid-client` v6 pushes the request (buildAuthorizationUrlWithPAR), the hosted sign-in page
// is driven like a person would (person.mjs: plain HTTP forms, a cookie jar), then the code is exchanged,
// the tokens refreshed and userinfo fetched, all with a DPoP key (randomDPoPKeyPair,
// getDPoPHandle); a refresh without the key must fail, and a code pushed with a proof is
// bound to that key (RFC 9449 §10.1): another key cannot exchange it.
//
// Environment:
//   TESSERA_BASE_URL        the server's base URL, which must also be its issuer
//   TESSERA_USERNAME        an existing, enabled user without a second factor
//   TESSERA_PASSWORD        that user's password
//   TESSERA_DPOP_CLIENT_ID  a public client: grants authorization_code and refresh_token,
//                           scopes openid profile email, redirect URI REDIRECT below,
//                           registered with --require-dpop and --require-par
//
// Prints one line per check and finally "dpop_check: N passed, M failed" (harness.mjs).

import * as client from 'openid-client';
import * as jose from 'jose';

import { harness } from './harness.mjs';
import { Person } from './person.mjs';

const { env, keepSecret, check, need, assert, assertEq, expectFailure, run } = harness('dpop_check');

const baseUrl = env('TESSERA_BASE_URL');
const username = env('TESSERA_USERNAME');
const password = env('TESSERA_PASSWORD');
const clientId = env('TESSERA_DPOP_CLIENT_ID');
keepSecret(password);
export const REDIRECT = 'http://127.0.0.1:9/dpop-callback';
const TIMEOUT_SECONDS = 10;

// The person of person.mjs, signing in on the hosted page.
class SigningInPerson extends Person {
  // Opens `url`, signs in on the hosted page; returns the redirect back to the client.
  async signIn(url) {
    const page = await this.request(url);
    assertEq(page.status, 200, 'the login page');
    const [loginUrl, fields] = this.form(page, '/oauth2/authorize/login');
    const done = await this.request(loginUrl, { ...fields, username, password });
    assertEq(done.status, 303, 'sign-in redirects back');
    return new URL(done.location);
  }
}

async function main() {
  const config = await check('discovery: PAR endpoint and DPoP algorithms advertised', async () => {
    const c = await client.discovery(new URL(baseUrl), clientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
      timeout: TIMEOUT_SECONDS,
    });
    const m = c.serverMetadata();
    assertEq(m.pushed_authorization_request_endpoint, `${baseUrl}/oauth2/par`, 'pushed_authorization_request_endpoint');
    assert((m.dpop_signing_alg_values_supported ?? []).includes('ES256'), 'ES256 among the DPoP algorithms');
    return c;
  });
  const keyPair = await client.randomDPoPKeyPair('ES256');
  const DPoP = config && client.getDPoPHandle(config, keyPair);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = await check('buildAuthorizationUrlWithPAR: a request_uri', async () => {
    const u = await client.buildAuthorizationUrlWithPAR(need(config, 'discovery'), {
      redirect_uri: REDIRECT,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    }, { DPoP });
    assert(u.searchParams.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:'), 'request_uri');
    return u;
  });
  const person = new SigningInPerson(baseUrl, TIMEOUT_SECONDS);
  const callback = await check('the person signs in on the hosted page: redirected with a code', async () => {
    const back = await person.signIn(need(url, 'the pushed request').href);
    assert(back.searchParams.get('code'), 'a code');
    return back;
  });
  const tokens = await check('authorizationCodeGrant with DPoP: token_type DPoP, cnf.jkt of the key', async () => {
    const t = await client.authorizationCodeGrant(need(config, 'discovery'), need(callback, 'the code'), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    }, undefined, { DPoP });
    keepSecret(t.access_token, t.refresh_token, t.id_token);
    assertEq(t.token_type.toLowerCase(), 'dpop', 'token_type');
    const jkt = await jose.calculateJwkThumbprint(await jose.exportJWK(keyPair.publicKey));
    assertEq(jose.decodeJwt(t.access_token).cnf?.jkt, jkt, 'cnf.jkt');
    return t;
  });
  await check('fetchUserInfo with DPoP: the user', async () => {
    const t = need(tokens, 'the tokens');
    const info = await client.fetchUserInfo(config, t.access_token, t.claims().sub, { DPoP });
    assertEq(info.preferred_username, username, 'preferred_username');
  });
  await check('refreshTokenGrant without the key: 400 invalid_grant (the family is bound)', () =>
    expectFailure(
      () => client.refreshTokenGrant(config, need(tokens, 'the tokens').refresh_token),
      (err) => err instanceof client.ResponseBodyError && err.status === 400
        && ['invalid_grant', 'invalid_dpop_proof'].includes(err.error),
      'refresh without DPoP',
    ),
  );
  await check('a code pushed with a proof: another key gets invalid_grant, the pushing key the tokens', async () => {
    const verifier2 = client.randomPKCECodeVerifier();
    const state2 = client.randomState();
    const u = await client.buildAuthorizationUrlWithPAR(need(config, 'discovery'), {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier2),
      code_challenge_method: 'S256',
      state: state2,
    }, { DPoP });
    const back = await new SigningInPerson(baseUrl, TIMEOUT_SECONDS).signIn(u.href);
    keepSecret(back.searchParams.get('code'));
    const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const exchange = (handle) => client.authorizationCodeGrant(config, back, {
      pkceCodeVerifier: verifier2,
      expectedState: state2,
    }, undefined, { DPoP: handle });
    await expectFailure(
      () => exchange(other),
      (err) => err instanceof client.ResponseBodyError && err.status === 400 && err.error === 'invalid_grant',
      'the code exchange with another key',
    );
    const t = await exchange(DPoP);
    keepSecret(t.access_token, t.refresh_token, t.id_token);
    assertEq(t.token_type.toLowerCase(), 'dpop', 'token_type');
  });
  await check('refreshTokenGrant with DPoP: rotated, still DPoP-bound', async () => {
    const t = await client.refreshTokenGrant(config, need(tokens, 'the tokens').refresh_token, undefined, { DPoP });
    keepSecret(t.access_token, t.refresh_token, t.id_token);
    assert(t.refresh_token !== tokens.refresh_token, 'rotated');
    assertEq(t.token_type.toLowerCase(), 'dpop', 'token_type');
  });
}

await run(main);
