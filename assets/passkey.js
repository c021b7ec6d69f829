// tessera's WebAuthn glue for the hosted pages (WebAuthn L3 §5.1.3, §5.1.4). The server makes
// and checks every ceremony (webauthn-rs); this script only carries the options to the browser
// and the browser's answer back, as JSON in a hidden form field, then submits the form.
//
// A form with `data-options` (a URL answering the options for a form-encoded POST of the
// form's hidden fields) and a hidden `credential` field is a passkey form: for
// `data-ceremony="create"` it registers a passkey, otherwise it signs in. `data-conditional`
// also offers the user's passkeys in the username field's autofill (conditional mediation).
"use strict";
(function () {
  const b64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const bytes = (text) => {
    const plain = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(plain, (c) => c.charCodeAt(0));
  };

  function creationOptions(json) {
    const o = json.publicKey;
    o.challenge = bytes(o.challenge);
    o.user.id = bytes(o.user.id);
    (o.excludeCredentials || []).forEach((c) => { c.id = bytes(c.id); });
    return { publicKey: o };
  }

  function requestOptions(json) {
    const o = json.publicKey;
    o.challenge = bytes(o.challenge);
    (o.allowCredentials || []).forEach((c) => { c.id = bytes(c.id); });
    return { publicKey: o };
  }

  function created(credential) {
    const r = credential.response;
    return {
      id: credential.id,
      rawId: b64(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: b64(r.attestationObject),
        clientDataJSON: b64(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : undefined,
      },
      extensions: credential.getClientExtensionResults(),
    };
  }

  function asserted(credential) {
    const r = credential.response;
    return {
      id: credential.id,
      rawId: b64(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: b64(r.authenticatorData),
        clientDataJSON: b64(r.clientDataJSON),
        signature: b64(r.signature),
        userHandle: r.userHandle ? b64(r.userHandle) : null,
      },
      extensions: credential.getClientExtensionResults(),
    };
  }

  async function fetchOptions(form) {
    const body = new URLSearchParams();
    for (const input of form.querySelectorAll("input[type=hidden]")) {
      if (input.name !== "credential") body.append(input.name, input.value);
    }
    const response = await fetch(form.dataset.options, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error("options " + response.status);
    return response.json();
  }

  function say(form, text) {
    const status = form.querySelector("[role=status]");
    if (status) status.textContent = text;
  }

  function submit(form, answer) {
    form.querySelector("input[name=credential]").value = JSON.stringify(answer);
    form.submit();
  }

  let conditional = null;

  async function signIn(form, mediation) {
    const options = requestOptions(await fetchOptions(form));
    if (mediation) {
      conditional = new AbortController();
      options.mediation = "conditional";
      options.signal = conditional.signal;
    }
    const credential = await navigator.credentials.get(options);
    if (credential) submit(form, asserted(credential));
  }

  async function register(form) {
    const name = form.querySelector("input[name=name]");
    if (name && !name.value.trim()) {
      name.focus();
      say(form, "Name the passkey first.");
      return;
    }
    const options = creationOptions(await fetchOptions(form));
    const credential = await navigator.credentials.create(options);
    if (credential) submit(form, created(credential));
  }

  function start(form) {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      return; // No WebAuthn here: the form stays hidden, the other ways remain.
    }
    form.hidden = false;
    const create = form.dataset.ceremony === "create";
    const failed = () => say(form, create
      ? "The passkey was not added. Try again."
      : "No passkey was used. Try again, or sign in another way.");
    const run = (event) => {
      event.preventDefault();
      if (conditional) conditional.abort();
      conditional = null;
      say(form, "Follow your browser's prompt.");
      (create ? register(form) : signIn(form, false)).catch(failed);
    };
    form.addEventListener("submit", run);
    const button = form.querySelector("button");
    if (button && button.type === "button") button.addEventListener("click", run);
    if (!create && form.dataset.conditional === "true" &&
        PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then((yes) => {
        if (yes) signIn(form, true).catch(() => {});
      });
    }
  }

  document.querySelectorAll("form[data-options]").forEach(start);
})();
