// A person with a browser, for the Node client checks that drive tessera's hosted pages
// (device_check.mjs, dpop_check.mjs): a cookie jar, no JavaScript, forms posted as they are.
// The pages are plain HTML forms, so plain HTTP with a cookie jar is a browser here.

export class Person {
  cookies = new Map();

  // `baseUrl` resolves form actions; each request times out after `timeoutSeconds`.
  constructor(baseUrl, timeoutSeconds) {
    this.baseUrl = baseUrl;
    this.timeoutSeconds = timeoutSeconds;
  }

  // GET `url`, or POST `form` to it; returns the status, the Location header and the body.
  async request(url, form) {
    const headers = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    const init = { redirect: 'manual', headers, signal: AbortSignal.timeout(this.timeoutSeconds * 1000) };
    if (form) {
      init.method = 'POST';
      init.body = new URLSearchParams(form);
    }
    const res = await fetch(url, init);
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      const removed = value === '' || attributes.some((a) => a.trim().toLowerCase() === 'max-age=0');
      if (removed) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }

  // The form on `page` whose action is `action`, as (url, its hidden fields); throws when
  // there is none.
  form(page, action) {
    const at = page.body.indexOf(`action="${action}"`);
    if (at < 0) throw new Error(`no form posting to ${action} on the page (status ${page.status})`);
    const html = page.body.slice(at, page.body.indexOf('</form>', at));
    const fields = {};
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]] = unescapeHtml(m[2]);
    return [new URL(action, this.baseUrl).href, fields];
  }
}

// An attribute value as a browser reads it: the character references HTML escaping writes.
function unescapeHtml(value) {
  return value.replace(/&(#x([0-9a-f]+)|#([0-9]+)|amp|lt|gt|quot);/gi, (_, name, hex, dec) =>
    hex ? String.fromCodePoint(parseInt(hex, 16))
      : dec ? String.fromCodePoint(parseInt(dec, 10))
        : { amp: '&', lt: '<', gt: '>', quot: '"' }[name.toLowerCase()]);
}
