// Issue #12 in a real browser: Chromium's DevTools virtual authenticator (CDP `WebAuthn.enable`,
// `WebAuthn.addVirtualAuthenticator`: CTAP2, internal transport, resident keys, user
// verification) stands in for a platform authenticator. The user signs in with a password on
// tessera's account page, adds a passkey, signs out, then signs in to the SPA with the passkey
// alone (authorization code flow, PKCE), and the tokens' `amr` (RFC 8176) shows the passkey.
// Called by e2e.mjs with its helpers; screenshots go to docs/.

import { join } from 'node:path';
import { axeRun, describe } from './a11y.mjs';

export async function passkeyFlow(t) {
  const { check, expect, page, context, base } = t;
  let cdp;
  let authenticatorId;

  await check('passkeys: a virtual authenticator (CTAP2, internal, resident keys, UV)', async () => {
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const added = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    authenticatorId = added.authenticatorId;
    expect(authenticatorId, 'no authenticator id');
  });

  await check('passkeys: the account page signs in with the password (tessera as its own client)', async () => {
    await page.goto(`${base}/account`);
    await page.getByLabel('Username').waitFor();
    expect(new URL(page.url()).searchParams.get('client_id') === 'tessera-account', `login page for ${page.url()}`);
    await page.getByLabel('Username').fill(t.username);
    await page.getByLabel('Password').fill(t.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${base}/account`);
    await page.locator('#account-username').waitFor();
    const shown = await page.locator('#account-username').textContent();
    expect(shown === t.username, `signed in as ${shown}`);
    return 'account page';
  });

  await check('passkeys: "Add a passkey" registers one with the authenticator', async () => {
    await page.getByLabel('Name of the new passkey').fill('CI virtual authenticator');
    await page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
    await page.waitForURL(/\/account\?done=passkey-added$/);
    await page.locator('#notice').waitFor();
    const items = await page.locator('#passkeys li').count();
    expect(items === 1, `${items} passkeys listed`);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials.length === 1 && credentials[0].isResidentCredential, 'the authenticator holds no resident credential');
    await page.screenshot({ path: join(t.docs, 'account-page.png'), fullPage: true });
    return 'screenshot docs/account-page.png';
  });

  // The account page with passkeys on and one listed (a11y.mjs audits it without).
  await check('passkeys: the account page with a passkey has no axe violations (WCAG 2.2 A/AA)', async () => {
    const { passes, violations } = await axeRun(page);
    expect(violations.length === 0, `${violations.length} violated rule(s):${describe(violations)}`);
    return `${passes} rules pass`;
  });

  await check('passkeys: signing out of the account page', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByText('You are signed out.').waitFor();
  });

  await check('passkeys: the SPA signs in with the passkey alone (no username, no password)', async () => {
    // Held until the screenshot: the login page's passkey autofill (conditional mediation)
    // would otherwise be answered at once by the virtual authenticator.
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
    await page.goto(`${t.spaOrigin}/`);
    await t.waitStatus(/^signed out$/);
    await page.locator('#login').click();
    await page.waitForURL((url) => url.origin === new URL(base).origin);
    const button = page.getByRole('button', { name: 'Sign in with a passkey', exact: true });
    await button.waitFor();
    await page.screenshot({ path: join(t.docs, 'passkey-sign-in.png') });
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    await button.click();
    await page.waitForURL(`${t.spaOrigin}/`);
    await t.waitStatus(/^signed in as /);
    return 'screenshot docs/passkey-sign-in.png';
  });

  await check('passkeys: the tokens\' amr shows the passkey (RFC 8176), without pwd', async () => {
    const user = await t.storedUser();
    expect(user?.access_token && user.id_token, 'no tokens stored');
    t.keepSecret(user.access_token, user.refresh_token, user.id_token);
    for (const [name, token] of [['id_token', user.id_token], ['access_token', user.access_token]]) {
      const { payload } = t.jwtParts(token);
      const amr = payload.amr ?? [];
      expect((amr.includes('hwk') || amr.includes('swk')) && amr.includes('user') && amr.includes('mfa'), `${name} amr ${JSON.stringify(amr)}`);
      expect(!amr.includes('pwd'), `${name} amr has pwd`);
      expect(payload.iss === base, `${name} iss ${payload.iss}`);
    }
    return `amr ${JSON.stringify(t.jwtParts(user.access_token).payload.amr)}`;
  });
}
