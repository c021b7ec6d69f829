// Issue #20: an accessibility audit of every hosted page with axe-core (WCAG 2.0, 2.1 and 2.2
// A/AA rules), in both appearances (playwright `colorScheme` light and dark: the page's
// `prefers-color-scheme`) and both languages (the context `locale`, i.e. Accept-Language, en
// and de). Each (appearance, language) gets its own browser context and walks the pages:
// login (fresh and with a wrong password), consent (a third-party client), device code entry
// (fresh and with a wrong code), device approval, the device-denied and device-connected
// messages, the account page (as it opens, with an authenticator set-up's QR code, and with a
// wrong set-up code), the logout confirmation, the signed-out message, an error page, the login
// page with passkeys and the passkey second factor page (on the instance whose issuer is on
// localhost), and the second factor (TOTP) page, which the user reaches by keyboard alone (Tab
// to the fields, Enter to submit), fresh and with a wrong code. Where a page shows an error, the
// check also requires it tied to its fields (aria-invalid, aria-describedby="error": WCAG 2.2
// SC 3.3.1). The login, consent and account pages must also reflow at 320 CSS pixels (WCAG 1.4.10) and are
// saved to docs/screenshots/<page>-<light|dark>.png (English).
//
// axe is injected with a DevTools evaluation (the pages' CSP allows no inline or foreign
// script, and does not govern CDP). A violation fails its check (id, impact, CSS target, help
// text; never the page's HTML) without ending the audit, so one run lists every page's.
// Called by e2e.mjs with its helpers.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const SCHEMES = ['light', 'dark'];
const LANGUAGES = [
  { locale: 'en-US', lang: 'en' },
  { locale: 'de-DE', lang: 'de' },
];
const VIEWPORT = { width: 900, height: 640 };
const REFLOW_WIDTH = 320;
// Submit buttons by form, whatever the language.
const LOGIN_SUBMIT = 'form[action="/oauth2/authorize/login"] button[type="submit"]';
const DEVICE_SUBMIT = 'form[action="/device"] button[type="submit"]';
const LOGOUT_SUBMIT = 'form[action="/oauth2/logout"] button[type="submit"]';

// The violations of `page` at AXE_TAGS, and how many rules passed.
export async function axeRun(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return {
      passes: result.passes.length,
      violations: result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({
          // A selector may name an attribute's value: never a field's (a CSRF token, a code).
          target: n.target.map(String).join(' ').replace(/\[value([~|^$*]?)="[^"]*"\]/g, '[value]'),
          // The check's message (contrast ratio and colours), not the node's HTML.
          why: [...n.any, ...n.all, ...n.none].map((c) => c.message).filter(Boolean).join('; '),
        })),
      })),
    };
  }, AXE_TAGS);
}

export function describe(violations) {
  return violations.map((v) => {
    const nodes = v.nodes.map((n) => `\n      at ${n.target}${n.why ? `: ${n.why}` : ''}`).join('');
    return `\n    ${v.id} (${v.impact}): ${v.help}${nodes}`;
  }).join('');
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return createHash('sha256').update(verifier).digest('base64url');
}

export async function a11yAudit(t) {
  const { check, pass, fail, expect, base } = t;
  const origin = new URL(base).origin;
  const authorizeUrl = (clientId, redirectUri) => {
    const url = new URL(`${base}/oauth2/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: 'openid profile email offline_access',
      state: randomBytes(12).toString('base64url'),
      nonce: randomBytes(12).toString('base64url'),
      code_challenge: pkce(),
      code_challenge_method: 'S256',
      prompt: 'consent',
    }).toString();
    return url.href;
  };
  const browser = await t.chromium.launch({ executablePath: t.executablePath, headless: true, args: t.args, timeout: 30_000 });
  const shots = join(t.docs, 'screenshots');
  mkdirSync(shots, { recursive: true });
  let page;
  const started = Date.now();
  let audits = 0;
  let clean = 0;
  try {
    for (const lang of LANGUAGES) {
      for (const scheme of SCHEMES) {
        const label = `[${scheme}, ${lang.lang}]`;
        const context = await browser.newContext({ colorScheme: scheme, locale: lang.locale, viewport: VIEWPORT });
        page = await context.newPage();
        page.setDefaultTimeout(t.timeout);
        page.setDefaultNavigationTimeout(t.timeout);

        // A step that must work for the audit to go on (navigation, sign-in).
        const step = (name, fn) => check(`a11y ${label} ${name}`, fn);
        // The axe audit of the page shown now: a violation fails the check, the audit goes on.
        const audit = async (what) => {
          const name = `a11y ${label} ${what}: no axe violations (${AXE_TAGS.join(', ')})`;
          audits += 1;
          try {
            const htmlLang = await page.evaluate(() => document.documentElement.lang);
            expect(htmlLang.startsWith(lang.lang), `the page's lang is ${JSON.stringify(htmlLang)}, expected ${lang.lang}`);
            const { passes, violations } = await axeRun(page);
            if (violations.length > 0) {
              fail(name, `${violations.length} violated rule(s) on ${new URL(page.url()).pathname}:${describe(violations)}`);
              return;
            }
            clean += 1;
            pass(name, `${passes} rules pass`);
          } catch (err) {
            fail(name, err instanceof Error ? err.message : String(err));
          }
        };
        // WCAG 1.4.10: no horizontal scrolling at 320 CSS pixels.
        const reflow = async (what) => {
          const name = `a11y ${label} ${what}: reflows at ${REFLOW_WIDTH} px (no horizontal scrolling)`;
          try {
            await page.setViewportSize({ width: REFLOW_WIDTH, height: VIEWPORT.height });
            const width = await page.evaluate(() => document.documentElement.scrollWidth);
            await page.setViewportSize(VIEWPORT);
            expect(width <= REFLOW_WIDTH, `document scrollWidth ${width} px`);
            pass(name, `scrollWidth ${width} px`);
          } catch (err) {
            fail(name, err instanceof Error ? err.message : String(err));
          }
        };
        // WCAG 2.2 SC 3.3.1: each of the fields `ids` is marked invalid and described by #error.
        const tiedToError = async (ids) => {
          for (const id of ids) {
            const field = page.locator(`#${id}`);
            const described = (await field.getAttribute('aria-describedby')) ?? '';
            expect(described.split(' ').includes('error'), `#${id} is not described by #error`);
            expect((await field.getAttribute('aria-invalid')) === 'true', `#${id} is not aria-invalid`);
          }
          return `the error is tied to ${ids.map((id) => `#${id}`).join(', ')}`;
        };
        const screenshot = async (what, fullPage = false) => {
          if (lang.lang !== 'en') return '';
          await page.screenshot({ path: join(shots, `${what}-${scheme}.png`), fullPage });
          return `, screenshot docs/screenshots/${what}-${scheme}.png`;
        };

        let shot = '';
        await step('the login page of a third-party client', async () => {
          await page.goto(authorizeUrl(t.clientId, t.redirectUri));
          await page.locator('#username').waitFor();
          shot = await screenshot('login');
        });
        await audit(`login page${shot}`);
        await reflow('login page');

        await step('a wrong password shows the login page with an error', async () => {
          // An unknown account per context: no real account's failure counter grows.
          await page.locator('#username').fill(`a11y-nobody-${scheme}-${lang.lang}`);
          await page.locator('#password').fill('not-the-password');
          await page.locator(LOGIN_SUBMIT).click();
          await page.locator('#error').waitFor();
          return tiedToError(['username', 'password']);
        });
        await audit('login page with an error');

        await step('the password leads to the consent page', async () => {
          await page.locator('#username').fill(t.username);
          await page.locator('#password').fill(t.password);
          await page.locator(LOGIN_SUBMIT).click();
          await page.locator('form[action="/oauth2/authorize/consent"]').waitFor();
          shot = await screenshot('consent');
        });
        await audit(`consent page${shot}`);
        await reflow('consent page');

        let userCode;
        await step('the device code entry page', async () => {
          const res = await t.http(`${base}/oauth2/device_authorization`, t.form({ client_id: t.deviceClientId, scope: 'openid profile' }));
          expect(res.status === 200 && res.json?.user_code, `device_authorization: HTTP ${res.status}`);
          t.keepSecret(res.json.device_code);
          userCode = res.json.user_code;
          await page.goto(`${base}/device`);
          await page.locator('#user_code').waitFor();
        });
        await audit('device code entry page');

        await step('a wrong user code shows the entry page with an error', async () => {
          await page.locator('#user_code').fill('BCDF-GHJK');
          await page.locator(DEVICE_SUBMIT).click();
          await page.locator('#error').waitFor();
          return tiedToError(['user_code']);
        });
        await audit('device code entry page with an error');

        await step('the user code leads to the device approval page', async () => {
          await page.locator('#user_code').fill(userCode);
          await page.locator(DEVICE_SUBMIT).click();
          await page.locator('form[action="/device/approve"]').waitFor();
        });
        await audit('device approval page');

        await step('denying the device shows a message page', async () => {
          await page.locator('form[action="/device/approve"] button[value="deny"]').click();
          await page.locator('#message').waitFor();
        });
        await audit('message page (device denied)');

        await step('approving another device shows the device-connected message', async () => {
          const res = await t.http(`${base}/oauth2/device_authorization`, t.form({ client_id: t.deviceClientId, scope: 'openid' }));
          expect(res.status === 200 && res.json?.user_code, `device_authorization: HTTP ${res.status}`);
          t.keepSecret(res.json.device_code);
          await page.goto(`${base}/device`);
          await page.locator('#user_code').fill(res.json.user_code);
          await page.locator(DEVICE_SUBMIT).click();
          await page.locator('form[action="/device/approve"] button[value="approve"]').click();
          await page.locator('#message').waitFor();
          expect(await page.locator('form[action="/device/approve"]').count() === 0, 'still the approval page');
        });
        await audit('message page (device connected)');

        await step('the account page', async () => {
          await page.goto(`${base}/account`);
          await page.locator('#account-username').waitFor();
          shot = await screenshot('account', true);
        });
        await audit(`account page${shot}`);
        await reflow('account page');

        // The set-up is never confirmed: the user keeps signing in with a password alone.
        await step('setting up an authenticator app shows its QR code and key', async () => {
          await page.locator('form[action="/account/totp/start"] button[type="submit"]').click();
          await page.locator('#totp-secret').waitFor();
        });
        await audit('account page, authenticator set-up');

        await step('a wrong code keeps the set-up on the page, the error tied to the code field', async () => {
          const key = await page.locator('#totp-secret').textContent();
          await page.locator('#totp-code').fill('000000');
          await page.locator('form[action="/account/totp/confirm"] button[type="submit"]').click();
          await page.locator('#error').waitFor();
          expect(await page.locator('#totp-secret').textContent() === key, 'the page shows another key');
          return tiedToError(['totp-code']);
        });
        await audit('account page with an error');

        await step('the logout confirmation page (no id_token_hint)', async () => {
          await page.goto(`${base}/oauth2/logout`);
          await page.locator(LOGOUT_SUBMIT).waitFor();
        });
        await audit('logout confirmation page');

        await step('confirming the logout shows the signed-out page', async () => {
          await page.locator(LOGOUT_SUBMIT).click();
          await page.locator('#message').waitFor();
          expect(await page.locator(LOGOUT_SUBMIT).count() === 0, 'still the confirmation page');
        });
        await audit('message page (signed out)');

        await step('an unknown client_id shows an error page', async () => {
          const res = await page.goto(`${base}/oauth2/authorize?client_id=nope`);
          expect(res.status() >= 400, `HTTP ${res.status()}`);
          await page.locator('#message').waitFor();
          return `HTTP ${res.status()}`;
        });
        await audit('error page');

        await step('the login page with passkeys (the localhost instance)', async () => {
          await page.goto(authorizeUrl(t.clientId, t.redirectUri).replace(base, t.passkeyBase));
          await page.locator('#passkey-button').waitFor();
        });
        await audit('login page with passkeys');

        // The passkey user (a passkey registered by passkeys.mjs) is asked for it as a second factor.
        await step('a password with a passkey on the account leads to the passkey second factor page', async () => {
          await page.locator('#username').fill(t.passkeyUsername);
          await page.locator('#password').fill(t.passkeyPassword);
          await page.locator(LOGIN_SUBMIT).click();
          await page.locator('form[action="/oauth2/authorize/passkey"]:not([data-conditional])').waitFor({ state: 'attached' });
          await page.waitForLoadState('load');
          expect(await page.locator('#password').count() === 0, 'still the login page');
        });
        await audit('second factor page with a passkey');

        await step('keyboard only: Tab to username and password, Enter signs in to the second factor', async () => {
          await page.goto(authorizeUrl(t.clientId, t.redirectUri));
          await page.locator('#username').waitFor();
          await page.evaluate(() => document.activeElement?.blur());
          const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
          let tabs = 0;
          while ((await focused()) !== 'username') {
            expect(tabs < 10, 'Tab never reached the username field');
            await page.keyboard.press('Tab');
            tabs += 1;
          }
          await page.keyboard.type(t.mfaUsername);
          await page.keyboard.press('Tab');
          expect(await focused() === 'password', `Tab from the username went to #${await focused()}`);
          await page.keyboard.type(t.mfaPassword);
          await page.keyboard.press('Enter');
          await page.locator('#otp').waitFor();
          expect(new URL(page.url()).origin === origin, 'left the server');
          return `${tabs} Tab(s) to the username, one to the password, Enter`;
        });
        await audit('second factor page');

        await step('a wrong code shows the second factor page with the error tied to the code fields', async () => {
          await page.locator('#otp').fill('000000');
          await page.locator('#otp').press('Enter');
          await page.locator('#error').waitFor();
          return tiedToError(['otp', 'recovery_code']);
        });
        await audit('second factor page with an error');

        await context.close();
        page = undefined;
      }
    }
  } catch (err) {
    if (page) {
      await page.screenshot({ path: `${t.failurePrefix}-a11y.png`, fullPage: true }).catch(() => {});
      console.log(`browser_e2e: the audited page at failure is in ${t.failurePrefix}-a11y.png`);
    }
    throw err;
  } finally {
    await browser.close().catch(() => {});
  }
  console.log(`browser_e2e: a11y: ${clean} of ${audits} audited pages without violations, ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
