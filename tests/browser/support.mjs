// The browser test's checks and small tools (e2e.mjs hands them on to passkeys.mjs and a11y.mjs):
// reporting (one PASS/FAIL line per check, secrets redacted), HTTP with a timeout, JWT and DPoP
// reading (RFC 9449 §4.2, RFC 7638 thumbprints computed here), and TOTP codes from pyotp.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

export const HTTP_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// reporting

const secrets = new Set();
export function keepSecret(...values) {
  for (const v of values) if (typeof v === 'string' && v.length >= 6) secrets.add(v);
}
export function redact(text) {
  let out = String(text);
  for (const s of secrets) out = out.split(s).join('[redacted]');
  return out;
}

let passed = 0;
let failed = 0;
// The checks so far: { passed, failed }.
export function counts() {
  return { passed, failed };
}
export function pass(name, detail) {
  passed += 1;
  console.log(`PASS ${name}${detail ? ` (${redact(detail)})` : ''}`);
}
export function fail(name, detail) {
  failed += 1;
  console.log(`FAIL ${name}: ${redact(detail)}`);
}
export class CheckFailed extends Error {}
// A check: `fn` returns an optional detail string, or throws. The flow stops at the first
// failed check (every later step depends on the earlier ones).
export async function check(name, fn) {
  try {
    const detail = await fn();
    pass(name, detail);
  } catch (err) {
    fail(name, err instanceof Error ? err.message : String(err));
    throw new CheckFailed(name);
  }
}
export function expect(cond, message) {
  if (!cond) throw new Error(message);
}

// ---------------------------------------------------------------------------------------------
// helpers

export async function http(url, init = {}) {
  const res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
export const form = (fields) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
export const jsonPost = (body, token) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body ?? {}),
});
export function oauthError(res) {
  return `HTTP ${res.status}${res.json?.error ? ` error=${res.json.error}` : ''}${res.json?.error_description ? ` (${res.json.error_description})` : ''}`;
}
export function jwtParts(token) {
  const [h, p] = String(token).split('.');
  const dec = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: dec(h), payload: dec(p) };
}
// RFC 7638 thumbprint of an EC public JWK, computed here (not by oidc-client-ts or tessera).
export function ecThumbprint(jwk) {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}
// The checked DPoP proof a request carried (RFC 9449 §4.2): its header's key thumbprint and
// its claims.
export async function dpopProofOf(req, htm, htu) {
  const headers = await req.allHeaders();
  const proof = headers.dpop;
  expect(proof, `no DPoP header on ${htm} ${htu}`);
  const { header, payload } = jwtParts(proof);
  expect(header.typ === 'dpop+jwt' && header.alg === 'ES256', `proof typ ${header.typ}, alg ${header.alg}`);
  expect(payload.htm === htm && payload.htu === htu, `proof htm ${payload.htm}, htu ${payload.htu}`);
  return { jkt: ecThumbprint(header.jwk), payload, authorization: headers.authorization ?? '' };
}

// TOTP codes from pyotp (an implementation independent of tessera's). The otpauth URI goes in
// on stdin, never on the command line.
export function totp(python, otpauthUri, offsetSeconds) {
  const script = [
    'import sys, time, pyotp',
    'totp = pyotp.parse_uri(sys.stdin.read().strip())',
    `print(totp.at(time.time() + ${Number(offsetSeconds)}))`,
  ].join('\n');
  const code = execFileSync(python, ['-c', script], { input: otpauthUri, encoding: 'utf8' }).trim();
  expect(/^\d{6}$/.test(code), 'pyotp did not print a 6-digit code');
  keepSecret(code);
  return code;
}
