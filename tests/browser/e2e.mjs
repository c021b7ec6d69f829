#!/usr/bin/env node
// Real-browser end-to-end test: headless Chromium (Debian's `chromium`, driven by
// playwright-core) loads a tiny SPA (spa/, served here on 127.0.0.1) that signs in to a running
// tessera with oidc-client-ts: authorization code + PKCE S256 through tessera's hosted login
// page (username/password, then the TOTP step), userinfo with the access token (CORS),
// silent renewal with the refresh token, and RP-initiated logout; all with DPoP (RFC 9449):
// the browser's key binds the code (dpop_jkt), the tokens (token_type DPoP, cnf.jkt) and the
// refresh family, and userinfo is called with the DPoP scheme. Versions are pinned in
// package.json / package-lock.json.
//
// Environment:
//   TESSERA_BASE_URL            the server's base URL, which must also be its issuer
//   TESSERA_USERNAME            an existing, enabled user WITHOUT a second factor yet (this
//   TESSERA_PASSWORD            test enrolls TOTP for it), with the email TESSERA_EMAIL
//   TESSERA_EMAIL
//   TESSERA_SPA_CLIENT_ID       public client: grants authorization_code + refresh_token, scopes
//                               openid profile email, redirect URI
//                               http://127.0.0.1:$TESSERA_SPA_PORT/callback.html, allowed origin
//                               http://127.0.0.1:$TESSERA_SPA_PORT, post-logout redirect URI
//                               http://127.0.0.1:$TESSERA_SPA_PORT/
//   TESSERA_PASSWORD_CLIENT_ID  public client with the password grant (scope openid): used only
//                               to enroll the user's TOTP through /account/mfa/totp
//   TESSERA_SPA_PORT            the port the SPA is served on (must match the registrations)
//   TESSERA_PYTHON              a python with pyotp (TOTP codes come from pyotp, not from here)
//   TESSERA_PASSKEY_BASE_URL    a second instance on the same store whose issuer is
//                               http://localhost:<port> (passkeys need a domain as RP ID)
//   TESSERA_PASSKEY_USERNAME    an existing user without a second factor, for the passkey
//   TESSERA_PASSKEY_PASSWORD    flow (password sign-in, account page, add a passkey, passkey
//                               sign-in through the SPA); see passkeys.mjs
//   TESSERA_A11Y_USERNAME       an existing user without a second factor, for the accessibility
//   TESSERA_A11Y_PASSWORD       audit of every hosted page (see a11y.mjs)
//   TESSERA_A11Y_CLIENT_ID      public third-party client (consent page): authorization_code,
//                               scopes openid profile email offline_access, redirect URI
//                               http://127.0.0.1:$TESSERA_SPA_PORT/a11y-callback
//   TESSERA_DEVICE_CLIENT_ID    public client with the device_code grant (scopes openid profile)
//   CHROMIUM                    optional, default /usr/bin/chromium
//
// Prints one line per check and finally "browser_e2e: N passed, M failed"; exits 0 only when
// nothing failed. On failure the browser's page is saved to target/browser-failure.png and
// target/browser-failure.html. The login page is saved to docs/login-page.png, the account
// page to docs/account-page.png and the passkey sign-in to docs/passkey-sign-in.png; the
// accessibility audit saves docs/screenshots/{login,consent,account}-{light,dark}.png.
// Tokens, passwords, codes and secrets are never printed.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { a11yAudit } from './a11y.mjs';
import { dpopChecks } from './dpop_checks.mjs';
import { passkeyFlow } from './passkeys.mjs';
import { startSpaServer } from './spa_server.mjs';
import {
  CheckFailed, HTTP_TIMEOUT_MS, check, counts, ecThumbprint, expect, fail, form, http, jsonPost, jwtParts,
  keepSecret, oauthError, pass, redact, totp,
} from './support.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = join(HERE, '..', '..');
const LOGIN_SCREENSHOT = join(REPO_ROOT, 'docs', 'login-page.png');
const FAILURE_PREFIX = join(REPO_ROOT, 'target', 'browser-failure');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const STEP_TIMEOUT_MS = 15_000;
const OVERALL_TIMEOUT_MS = 300_000;

function env(name) {
  const value = process.env[name];
  if (!value) {
    console.log(`browser_e2e: environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const baseUrl = env('TESSERA_BASE_URL').replace(/\/+$/, '');
const username = env('TESSERA_USERNAME');
const password = env('TESSERA_PASSWORD');
const email = env('TESSERA_EMAIL');
const spaClientId = env('TESSERA_SPA_CLIENT_ID');
const passwordClientId = env('TESSERA_PASSWORD_CLIENT_ID');
const spaPort = Number(env('TESSERA_SPA_PORT'));
const python = env('TESSERA_PYTHON');
const passkeyBaseUrl = env('TESSERA_PASSKEY_BASE_URL').replace(/\/+$/, '');
const passkeyUsername = env('TESSERA_PASSKEY_USERNAME');
const passkeyPassword = env('TESSERA_PASSKEY_PASSWORD');
const a11yUsername = env('TESSERA_A11Y_USERNAME');
const a11yPassword = env('TESSERA_A11Y_PASSWORD');
const a11yClientId = env('TESSERA_A11Y_CLIENT_ID');
const deviceClientId = env('TESSERA_DEVICE_CLIENT_ID');
keepSecret(password, passkeyPassword, a11yPassword);
const spaOrigin = `http://127.0.0.1:${spaPort}`;
const redirectUri = `${spaOrigin}/callback.html`;
const postLogoutUri = `${spaOrigin}/`;

// The SPA's authority: this server, then the passkey server (see passkeys.mjs).
let spaAuthority = baseUrl;

// "HeadlessChrome/156.0.0.0"-style product from the browser itself.
async function page0Version(ctx) {
  const p = ctx.pages()[0] ?? (await ctx.newPage());
  return p.evaluate(() => navigator.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? 'chromium');
}

// Clicks a submit button and waits for the POST it sends to tessera and the page it leads to.
async function submit(buttonName) {
  const serverOrigin = new URL(baseUrl).origin;
  const posted = page.waitForResponse((res) => res.request().method() === 'POST' && new URL(res.url()).origin === serverOrigin);
  await page.getByRole('button', { name: buttonName, exact: true }).click();
  const res = await posted;
  await page.waitForLoadState();
  return res;
}

// ---------------------------------------------------------------------------------------------
// the flow

let context;
let page;
let userDataDir;
let spaServer;
const consoleLines = [];

async function saveFailure() {
  if (!page) return;
  try {
    mkdirSync(dirname(FAILURE_PREFIX), { recursive: true });
    await page.screenshot({ path: `${FAILURE_PREFIX}.png`, fullPage: true });
    writeFileSync(`${FAILURE_PREFIX}.html`, redact(await page.content()));
    console.log(`browser_e2e: page at failure (${redact(page.url())}) saved to target/browser-failure.png and .html`);
  } catch (err) {
    console.log(`browser_e2e: could not save the failing page: ${redact(err.message)}`);
  }
  for (const line of consoleLines.slice(-20)) console.log(`  browser console: ${redact(line)}`);
}

async function storedUser() {
  const storageKey = `oidc.user:${spaAuthority}:${spaClientId}`;
  const raw = await page.evaluate((key) => window.sessionStorage.getItem(key), storageKey);
  return raw ? JSON.parse(raw) : null;
}
const status = () => page.locator('#status');
async function waitStatus(re) {
  await page.waitForFunction(
    (source) => new RegExp(source).test(document.getElementById('status')?.textContent ?? ''),
    re.source,
    { timeout: STEP_TIMEOUT_MS },
  ).catch(async () => {
    throw new Error(`#status is ${JSON.stringify(await status().textContent().catch(() => '?'))}, expected ${re}`);
  });
  return status().textContent();
}
async function outJson() {
  const text = await page.locator('#out').textContent();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`#out is not JSON: ${text.slice(0, 200)}`);
  }
}

async function run() {
  let discovery;
  await check('discovery advertises the code flow', async () => {
    const res = await http(`${baseUrl}/.well-known/openid-configuration`);
    expect(res.status === 200 && res.json, `HTTP ${res.status}`);
    discovery = res.json;
    expect(discovery.issuer === baseUrl, `issuer ${discovery.issuer} != ${baseUrl}`);
    for (const [field, path] of [
      ['authorization_endpoint', '/oauth2/authorize'],
      ['token_endpoint', '/oauth2/token'],
      ['userinfo_endpoint', '/oauth2/userinfo'],
      ['end_session_endpoint', '/oauth2/logout'],
    ]) {
      expect(discovery[field] === `${baseUrl}${path}`, `${field} is ${discovery[field]}`);
    }
    expect(Array.isArray(discovery.response_types_supported) && discovery.response_types_supported.includes('code'),
      `response_types_supported ${JSON.stringify(discovery.response_types_supported)}`);
    expect(Array.isArray(discovery.code_challenge_methods_supported) && discovery.code_challenge_methods_supported.includes('S256'),
      `code_challenge_methods_supported ${JSON.stringify(discovery.code_challenge_methods_supported)}`);
  });

  let otpauthUri;
  let expectedSub;
  await check('TOTP enrollment for the test user (pyotp code)', async () => {
    const tok = await http(discovery.token_endpoint, form({
      grant_type: 'password', username, password, client_id: passwordClientId, scope: 'openid',
    }));
    expect(tok.status === 200 && tok.json?.access_token, `password grant: ${oauthError(tok)}`);
    const at = tok.json.access_token;
    keepSecret(at, tok.json.refresh_token, tok.json.id_token);
    expectedSub = jwtParts(at).payload.sub;
    const start = await http(`${baseUrl}/account/mfa/totp`, jsonPost({}, at));
    expect(start.status === 200 && typeof start.json?.otpauth_uri === 'string', `POST /account/mfa/totp: ${oauthError(start)}`);
    otpauthUri = start.json.otpauth_uri;
    keepSecret(otpauthUri, new URL(otpauthUri).searchParams.get('secret'));
    const confirm = await http(`${baseUrl}/account/mfa/totp/confirm`, jsonPost({ code: totp(python, otpauthUri, 0) }, at));
    expect(confirm.status === 200, `POST /account/mfa/totp/confirm: ${oauthError(confirm)}`);
    const codes = confirm.json?.recovery_codes;
    expect(Array.isArray(codes) && codes.length > 0, 'no recovery_codes in the confirmation');
    keepSecret(...codes);
    // The token's session is of no further use here.
    await http(discovery.revocation_endpoint ?? `${baseUrl}/oauth2/revoke`, form({ token: tok.json.refresh_token, client_id: passwordClientId }));
    return `${codes.length} recovery codes`;
  });

  spaServer = await startSpaServer({ port: spaPort, clientId: spaClientId, authority: () => spaAuthority });
  userDataDir = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 900, height: 640 },
    timeout: 30_000,
  });
  const chromiumVersion = await page0Version(context);
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  page.on('console', (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => consoleLines.push(`pageerror: ${err.message}`));
  const requests = [];
  page.on('request', (req) => requests.push({ method: req.method(), url: req.url(), req }));

  await check('Chromium loads the SPA, signed out', async () => {
    await page.goto(`${spaOrigin}/`);
    await waitStatus(/^signed out$/);
    return chromiumVersion;
  });

  let authorizeUrl;
  await check('Sign in opens tessera\'s login page (code flow, PKCE S256, nonce)', async () => {
    await page.locator('#login').click();
    await page.waitForURL((url) => url.href.startsWith(discovery.authorization_endpoint) || url.origin === new URL(baseUrl).origin);
    await page.getByLabel('Username').waitFor();
    const authReq = requests.find((r) => r.url.startsWith(`${discovery.authorization_endpoint}?`));
    expect(authReq, 'no request to the authorization_endpoint');
    authorizeUrl = new URL(authReq.url);
    const q = authorizeUrl.searchParams;
    expect(q.get('response_type') === 'code', `response_type=${q.get('response_type')}`);
    expect(q.get('client_id') === spaClientId, `client_id=${q.get('client_id')}`);
    expect(q.get('redirect_uri') === redirectUri, `redirect_uri=${q.get('redirect_uri')}`);
    expect(q.get('code_challenge_method') === 'S256' && q.get('code_challenge'), 'no S256 code_challenge');
    expect(q.get('state') && q.get('nonce'), 'no state or nonce');
    // RFC 9449 §10: oidc-client-ts (bind_authorization_code) binds the code to its key.
    expect(/^[A-Za-z0-9_-]{43}$/.test(q.get('dpop_jkt') ?? ''), `dpop_jkt=${q.get('dpop_jkt')}`);
    expect(await page.locator('input[name="username"]').count() === 1, 'no input name="username"');
    expect(await page.locator('input[name="password"]').count() === 1, 'no input name="password"');
    expect(await page.getByRole('button', { name: 'Sign in', exact: true }).count() === 1, 'no "Sign in" button');
    mkdirSync(dirname(LOGIN_SCREENSHOT), { recursive: true });
    await page.screenshot({ path: LOGIN_SCREENSHOT });
    return `screenshot docs/login-page.png`;
  });

  await check('a wrong password is refused on the login page', async () => {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(`${password}-wrong`);
    const res = await submit('Sign in');
    await page.getByLabel('Password').waitFor();
    expect(!page.url().startsWith(spaOrigin), 'a wrong password went back to the SPA');
    expect(await page.getByLabel('One-time code').count() === 0, 'a wrong password reached the TOTP step');
    return `HTTP ${res.status()}, login page shown again`;
  });

  await check('username and password lead to the TOTP step', async () => {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('One-time code').waitFor();
    expect(await page.locator('input[name="otp"]').count() === 1, 'no input name="otp"');
    expect(await page.getByRole('button', { name: 'Verify', exact: true }).count() === 1, 'no "Verify" button');
  });

  let callbackUrl;
  let consentShown = false;
  await check('the one-time code signs in: 303 to the redirect_uri with code and state', async () => {
    // A later step than the confirmation's: each step is accepted only once per user.
    await page.getByLabel('One-time code').fill(totp(python, otpauthUri, 30));
    const redirected = page.waitForResponse((res) => res.request().method() === 'POST' && res.status() >= 300 && res.status() < 400
      && (res.headers().location ?? '').startsWith(redirectUri));
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    // A consent page ("Allow access?") may come between the TOTP step and the redirect.
    const consent = page.getByRole('button', { name: 'Allow', exact: true });
    const first = await Promise.race([
      redirected.then(() => 'redirect', () => 'timeout'),
      consent.waitFor().then(() => 'consent', () => 'timeout'),
    ]);
    if (first === 'consent') {
      consentShown = true;
      await consent.click();
    }
    const res = await redirected.catch(() => null);
    expect(res, 'no redirect to the redirect_uri after the TOTP form');
    expect(res.status() === 303, `status ${res.status()} (expected 303)`);
    callbackUrl = new URL(res.headers().location, baseUrl);
    expect(callbackUrl.searchParams.get('code'), 'no code');
    keepSecret(callbackUrl.searchParams.get('code'));
    expect(callbackUrl.searchParams.get('state') === authorizeUrl.searchParams.get('state'), 'state differs from the request');
    expect(!callbackUrl.searchParams.has('error'), `error=${callbackUrl.searchParams.get('error')}`);
    return consentShown ? 'after the consent page' : 'no consent page';
  });

  let user;
  await check('the SPA completes the sign-in (token exchange with the verifier)', async () => {
    await page.waitForURL(`${spaOrigin}/`);
    const text = await waitStatus(/^signed in as /);
    user = await storedUser();
    expect(user?.access_token && user.refresh_token && user.id_token, 'stored user lacks access, refresh or ID token');
    keepSecret(user.access_token, user.refresh_token, user.id_token);
    expect(text === `signed in as ${expectedSub}`, `${text} (expected the user's sub)`);
  });

  await check('tessera\'s browser cookies are HttpOnly and SameSite', async () => {
    const cookies = await context.cookies(baseUrl);
    expect(cookies.length > 0, 'no cookie for the authorization server');
    for (const c of cookies) {
      expect(c.httpOnly, `${c.name} is not HttpOnly`);
      expect(c.sameSite === 'Lax' || c.sameSite === 'Strict', `${c.name} has SameSite=${c.sameSite}`);
    }
    return cookies.map((c) => `${c.name}: SameSite=${c.sameSite}`).join(', ');
  });

  await check('ID token and access token', async () => {
    const id = jwtParts(user.id_token);
    expect(id.payload.iss === baseUrl, `id_token iss ${id.payload.iss}`);
    expect(id.payload.aud === spaClientId || (Array.isArray(id.payload.aud) && id.payload.aud.includes(spaClientId)), 'id_token aud is not the client');
    expect(id.payload.sub === expectedSub, 'id_token sub differs');
    expect(id.payload.nonce === authorizeUrl.searchParams.get('nonce'), 'id_token nonce differs from the request\'s');
    const at = jwtParts(user.access_token);
    expect(at.header.typ === 'at+jwt', `access token typ ${at.header.typ}`);
    expect(at.payload.client_id === spaClientId, `access token client_id ${at.payload.client_id}`);
    expect(at.payload.sub === expectedSub, 'access token sub differs');
    const scopes = String(at.payload.scope).split(' ');
    for (const s of ['openid', 'profile', 'email']) expect(scopes.includes(s), `scope lacks ${s}`);
    return `scope ${at.payload.scope}`;
  });

  const { jkt, refreshed } = await dpopChecks({
    page, discovery, requests, user, authorizeUrl, expectedSub, email, username, spaClientId,
    waitStatus, outJson, storedUser,
  });

  await check('CORS is refused to an origin that is not registered', async () => {
    const res = await fetch(discovery.token_endpoint, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://127.0.0.1:9',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    await res.arrayBuffer();
    const acao = res.headers.get('access-control-allow-origin');
    expect(acao !== '*' && acao !== 'http://127.0.0.1:9', `Access-Control-Allow-Origin: ${acao}`);
    return `preflight HTTP ${res.status}, no Access-Control-Allow-Origin`;
  });

  // A proof of the SPA's key for a refresh after logout, made now: oidc-client-ts forgets the
  // (non-extractable) key when the user is removed. With it, a refresh of a live family would
  // succeed, so the invalid_grant below can only mean the family is dead.
  let lateProof;
  await check('the SPA makes a token-endpoint proof of its key before logout', async () => {
    lateProof = await page.evaluate((endpoint) => window.tesseraSpa.mgr.dpopProof(endpoint, undefined, 'POST'), discovery.token_endpoint);
    expect(typeof lateProof === 'string', 'no proof');
    keepSecret(lateProof);
    expect(ecThumbprint(jwtParts(lateProof).header.jwk) === jkt, 'the proof is of another key');
    return 'proof of the bound key';
  });

  await check('logout ends on the SPA, signed out', async () => {
    const lastRefreshToken = refreshed.refresh_token;
    await page.locator('#logout').click();
    await page.waitForURL((url) => url.origin === spaOrigin && url.pathname === '/');
    await waitStatus(/^signed out$/);
    const endSession = requests.find((r) => r.url.startsWith(`${discovery.end_session_endpoint}`));
    expect(endSession, 'no request to the end_session_endpoint');
    const q = new URL(endSession.url).searchParams;
    expect(q.get('id_token_hint'), 'no id_token_hint');
    expect(q.get('post_logout_redirect_uri') === postLogoutUri, `post_logout_redirect_uri=${q.get('post_logout_redirect_uri')}`);
    expect(await storedUser() === null, 'the SPA still stores a user');
    const out = await outJson();
    expect(out.signed_out === true && out.state_returned === true, `the SPA's logout callback: ${JSON.stringify(out)}`);
    // OpenID Connect RP-Initiated Logout 1.0 §3: the OP passes `state` back on the redirect.
    const back = requests.find((r) => r.url.startsWith(postLogoutUri) && r.url !== postLogoutUri
      && requests.indexOf(r) > requests.indexOf(endSession));
    const backState = back ? new URL(back.url).searchParams.get('state') : null;
    expect(q.get('state'), 'the SPA sent no state to the end_session_endpoint');
    expect(backState === q.get('state'), back ? `post-logout redirect ${back.url} carries state ${backState}, sent ${q.get('state')}` : 'no post-logout redirect seen');
    refreshed.refresh_token = lastRefreshToken;
  });

  await check('the refresh token is dead after logout (invalid_grant, with a proof of the bound key)', async () => {
    const request = form({
      grant_type: 'refresh_token', refresh_token: refreshed.refresh_token, client_id: spaClientId,
    });
    request.headers.dpop = lateProof;
    const res = await http(discovery.token_endpoint, request);
    expect(res.status === 400 && res.json?.error === 'invalid_grant', oauthError(res));
    return oauthError(res);
  });

  await check('revocation endpoint answers the SPA\'s origin (CORS)', async () => {
    const result = await page.evaluate(async ({ endpoint, token, clientId }) => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'refresh_token', client_id: clientId }).toString(),
      });
      return { status: res.status };
    }, { endpoint: discovery.revocation_endpoint, token: refreshed.refresh_token, clientId: spaClientId })
      .catch((err) => ({ error: err.message }));
    expect(result.status === 200, result.error ? `fetch failed: ${result.error}` : `HTTP ${result.status}`);
    return 'HTTP 200';
  });

  await check('after logout, signing in asks for the password again', async () => {
    const authorized = page.waitForResponse((res) => res.url().startsWith(`${discovery.authorization_endpoint}?`));
    await page.locator('#login').click();
    const res = await authorized;
    expect(res.status() === 200, `the authorization endpoint answered ${res.status()} ${redact(res.headers().location ?? '')} instead of the login page`);
    await page.getByLabel('Password').waitFor();
    return 'login page';
  });

  // Issue #12: passkeys, against the instance whose issuer is on `localhost` (an RP ID must be
  // a domain), sharing this one's store.
  spaAuthority = passkeyBaseUrl;
  await passkeyFlow({
    check, expect, page, context, keepSecret, storedUser, waitStatus, jwtParts,
    base: passkeyBaseUrl, username: passkeyUsername, password: passkeyPassword, spaOrigin, docs: join(REPO_ROOT, 'docs'),
  });

  // Issue #20: axe-core on every hosted page, light and dark, English and German. The second
  // factor page is reached as the user above (TOTP enrolled; password only, no code sent).
  await a11yAudit({
    check, pass, fail, expect, http, form, keepSecret, chromium,
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: STEP_TIMEOUT_MS, failurePrefix: FAILURE_PREFIX,
    base: baseUrl, passkeyBase: passkeyBaseUrl, clientId: a11yClientId, redirectUri: `${spaOrigin}/a11y-callback`, deviceClientId,
    username: a11yUsername, password: a11yPassword, mfaUsername: username, mfaPassword: password,
    passkeyUsername, passkeyPassword,
    docs: join(REPO_ROOT, 'docs'),
  });
}

const timer = setTimeout(() => {
  console.log(`browser_e2e: overall time limit (${OVERALL_TIMEOUT_MS / 1000} s) reached`);
  const { passed, failed } = counts();
  console.log(`browser_e2e: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

try {
  await run();
} catch (err) {
  if (!(err instanceof CheckFailed)) fail('browser flow', err?.stack ?? String(err));
  await saveFailure();
} finally {
  clearTimeout(timer);
  await context?.close().catch(() => {});
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await new Promise((resolve) => (spaServer ? spaServer.close(resolve) : resolve()));
}
const { passed, failed } = counts();
console.log(`browser_e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
