// The test SPA: oidc-client-ts's UserManager against tessera (authorization code + PKCE S256,
// refresh token for silent renewal, RP-initiated logout), with DPoP (RFC 9449: a
// non-extractable P-256 key in IndexedDB; the code bound with dpop_jkt, every token request and
// the userinfo call with a proof). Loaded by index.html and
// callback.html; the static server provides window.TESSERA_SPA_CONFIG = {authority, client_id}
// and oidc-client-ts's browser bundle (global `oidc`).
//
// The page shows its state in #status: "loading", "completing sign-in", "signed in as <sub>",
// "signed out", "working" while a button's action runs, or "error: <message>". Output (userinfo
// JSON, refresh result, errors) goes to #out.
'use strict';

(function () {
  const cfg = window.TESSERA_SPA_CONFIG;
  const origin = window.location.origin;
  const statusEl = document.getElementById('status');
  const outEl = document.getElementById('out');

  oidc.Log.setLogger(console);
  oidc.Log.setLevel(oidc.Log.WARN);

  const mgr = new oidc.UserManager({
    authority: cfg.authority,
    client_id: cfg.client_id,
    redirect_uri: origin + '/callback.html',
    post_logout_redirect_uri: origin + '/',
    response_type: 'code',
    scope: 'openid profile email',
    loadUserInfo: false,
    // Renewal only through the refresh token (no iframe, no silent_redirect_uri).
    automaticSilentRenew: false,
    monitorSession: false,
    // Logout must end the session at the server by itself: the test checks that the refresh
    // token is dead afterwards, so the SPA does not revoke the tokens on its own.
    revokeTokensOnSignout: false,
    userStore: new oidc.WebStorageStateStore({ store: window.sessionStorage }),
    // RFC 9449: tokens bound to the browser's key; bind_authorization_code sends dpop_jkt (§10).
    dpop: { bind_authorization_code: true, store: new oidc.IndexedDbDPoPStore() },
  });
  window.tesseraSpa = { mgr };

  function setStatus(text) { statusEl.textContent = text; }
  function show(value) {
    outEl.textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  }
  function fail(err) {
    const msg = err && err.message ? err.message : String(err);
    const extra = err && err.error ? ` (${err.error}${err.error_description ? ': ' + err.error_description : ''})` : '';
    setStatus('error: ' + msg + extra);
    show('error: ' + msg + extra);
    console.error(err);
  }
  const tail = (token) => (token ? token.slice(-8) : '');

  async function showUser() {
    const user = await mgr.getUser();
    if (user && !user.expired) {
      setStatus('signed in as ' + user.profile.sub);
    } else {
      setStatus('signed out');
    }
    return user;
  }

  async function callbackPage() {
    try {
      await mgr.signinRedirectCallback();
      window.location.replace(origin + '/');
    } catch (err) {
      fail(err);
    }
  }

  function on(id, action) {
    document.getElementById(id).addEventListener('click', async () => {
      setStatus('working');
      try {
        await action();
      } catch (err) {
        fail(err);
      }
    });
  }

  async function indexPage() {
    const params = new URLSearchParams(window.location.search);
    try {
      if (params.has('state') && !params.has('code')) {
        // Back from the end_session_endpoint (post_logout_redirect_uri with our state).
        const response = await mgr.signoutRedirectCallback();
        window.history.replaceState(null, '', origin + '/');
        if (response.error) throw new Error('logout: ' + response.error);
        show({ signed_out: true, state_returned: Boolean(response.userState) });
      }
      await showUser();
    } catch (err) {
      fail(err);
    }

    on('login', () => {
      // oidc-client-ts sends a nonce only when given one; it then checks it in the ID token.
      const bytes = crypto.getRandomValues(new Uint8Array(24));
      const nonce = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      return mgr.signinRedirect({ nonce });
    });

    on('userinfo', async () => {
      const user = await mgr.getUser();
      if (!user) throw new Error('not signed in');
      const meta = await mgr.metadataService.getMetadata();
      // A plain cross-origin fetch with the DPoP scheme and a proof of the key (RFC 9449 §7.1,
      // `ath` of the token): needs tessera's CORS answer, preflight included (the DPoP header).
      const proof = await mgr.dpopProof(meta.userinfo_endpoint, user, 'GET');
      if (!proof) throw new Error('no DPoP key');
      const res = await fetch(meta.userinfo_endpoint, {
        headers: { Authorization: 'DPoP ' + user.access_token, DPoP: proof },
      });
      const body = await res.text();
      if (!res.ok) throw new Error('userinfo: HTTP ' + res.status + ' ' + body);
      show(JSON.parse(body));
      await showUser();
    });

    on('refresh', async () => {
      const before = await mgr.getUser();
      if (!before || !before.refresh_token) throw new Error('no refresh token');
      // With a refresh token in the stored user, signinSilent uses the refresh_token grant.
      const after = await mgr.signinSilent();
      if (!after) throw new Error('signinSilent returned no user');
      show({
        refreshed: true,
        access_token_changed: after.access_token !== before.access_token,
        refresh_token_changed: after.refresh_token !== before.refresh_token,
        access_token_tail: tail(after.access_token),
        expires_in: after.expires_in,
      });
      await showUser();
    });

    // With state data oidc-client-ts sends a `state` and checks it on the way back.
    on('logout', () => mgr.signoutRedirect({ state: { signedOutAt: Date.now() } }));
  }

  if (window.location.pathname === '/callback.html') {
    callbackPage();
  } else {
    indexPage();
  }
})();
