// The DPoP part of the browser sign-in (RFC 9449), run by e2e.mjs once the SPA holds its
// tokens: the code exchange, userinfo and the silent renewal each carry a proof of the
// browser's key (§4.2; `ath` on userinfo, §7.1), the tokens are bound to it (`cnf.jkt` =
// `dpop_jkt`, §10), and neither the access token as a Bearer token nor the refresh token
// without a proof is accepted (§5, §7.1). Returns the key's thumbprint and the renewed tokens.

import { createHash } from 'node:crypto';

import { check, dpopProofOf, expect, form, http, jwtParts, keepSecret, oauthError } from './support.mjs';

// `t`: the page, the discovery document, the requests seen, the signed-in user (oidc-client-ts'
// stored user), the authorization URL, the expected `sub`, email and username, the client id,
// and the SPA page helpers (waitStatus, outJson, storedUser).
export async function dpopChecks(t) {
  const { page, discovery, requests, user, authorizeUrl, expectedSub, email, username, spaClientId } = t;
  const { waitStatus, outJson, storedUser } = t;
  let jkt;
  await check('DPoP: token_type DPoP, the access token\'s cnf.jkt is the browser key of the proof and of dpop_jkt', async () => {
    expect(user.token_type === 'DPoP', `token_type ${user.token_type}`);
    const exchange = requests.filter((r) => r.method === 'POST' && r.url === discovery.token_endpoint).pop();
    expect(exchange && new URLSearchParams(exchange.req.postData() ?? '').get('grant_type') === 'authorization_code',
      'no code exchange seen');
    const proof = await dpopProofOf(exchange.req, 'POST', discovery.token_endpoint);
    jkt = jwtParts(user.access_token).payload.cnf?.jkt;
    expect(jkt && jkt === proof.jkt, `cnf.jkt ${jkt}, the proof's key ${proof.jkt}`);
    expect(jkt === authorizeUrl.searchParams.get('dpop_jkt'), 'cnf.jkt is not the dpop_jkt of the request');
    const spaJkt = await page.evaluate(() => window.tesseraSpa.mgr.generateDPoPJkt(window.tesseraSpa.mgr.settings.dpop));
    expect(spaJkt === jkt, 'cnf.jkt is not the thumbprint oidc-client-ts reports for its key');
    return 'cnf.jkt = thumbprint of the proof\'s jwk = dpop_jkt';
  });

  await check('userinfo from the SPA (cross-origin fetch, DPoP scheme and proof with ath)', async () => {
    await page.locator('#userinfo').click();
    await waitStatus(/^(signed in as |error)/);
    const info = await outJson();
    expect(info.sub === expectedSub, 'userinfo sub differs');
    expect(info.email === email, `userinfo email ${info.email}`);
    expect(info.preferred_username === username, `userinfo preferred_username ${info.preferred_username}`);
    const call = requests.filter((r) => r.method === 'GET' && r.url === discovery.userinfo_endpoint).pop();
    expect(call, 'no userinfo request seen');
    const proof = await dpopProofOf(call.req, 'GET', discovery.userinfo_endpoint);
    expect(proof.authorization === `DPoP ${user.access_token}`, 'the userinfo call did not use the DPoP scheme');
    const ath = createHash('sha256').update(user.access_token).digest('base64url');
    expect(proof.payload.ath === ath && proof.jkt === jkt, 'the proof\'s ath or key is not the token\'s');
    return 'sub, email, preferred_username';
  });

  await check('the DPoP-bound access token is refused as a Bearer token (RFC 9449 §7.1)', async () => {
    const res = await http(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${user.access_token}` } });
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(res.status === 401 && challenge.startsWith('DPoP '), `HTTP ${res.status}, WWW-Authenticate: ${challenge}`);
    return `HTTP 401, ${oauthError(res)}`;
  });

  let refreshed;
  await check('silent renewal with the refresh token (signinSilent)', async () => {
    await page.locator('#refresh').click();
    await waitStatus(/^(signed in as |error)/);
    const out = await outJson();
    expect(out.refreshed === true, JSON.stringify(out));
    refreshed = await storedUser();
    keepSecret(refreshed?.access_token, refreshed?.refresh_token, refreshed?.id_token);
    expect(refreshed.access_token !== user.access_token, 'the access token did not change');
    expect(refreshed.refresh_token !== user.refresh_token, 'the refresh token did not rotate');
    expect(out.access_token_tail === refreshed.access_token.slice(-8), 'the SPA shows another token');
    const grant = requests.filter((r) => r.method === 'POST' && r.url === discovery.token_endpoint).pop();
    expect(grant && new URLSearchParams(grant.req.postData() ?? '').get('grant_type') === 'refresh_token',
      'the renewal did not use the refresh_token grant');
    // RFC 9449 §5: the public client's refresh needs a proof of the same key; still bound.
    const proof = await dpopProofOf(grant.req, 'POST', discovery.token_endpoint);
    expect(proof.jkt === jkt, 'the refresh proof is of another key');
    expect(refreshed.token_type === 'DPoP', `refreshed token_type ${refreshed.token_type}`);
    expect(jwtParts(refreshed.access_token).payload.cnf?.jkt === jkt, 'the refreshed access token is not bound to the key');
    return 'new access token (DPoP, same cnf.jkt), rotated refresh token';
  });

  await check('the bound refresh token is refused without the browser\'s key (invalid_grant)', async () => {
    const res = await http(discovery.token_endpoint, form({
      grant_type: 'refresh_token', refresh_token: refreshed.refresh_token, client_id: spaClientId,
    }));
    expect(res.status === 400 && res.json?.error === 'invalid_grant', oauthError(res));
    return oauthError(res);
  });

  return { jkt, refreshed };
}
