// The SPA's static server on 127.0.0.1:`port`: spa/, oidc-client-ts's browser bundle and a
// generated config.js naming `clientId` and the current `authority()` (the test moves the SPA
// from one tessera instance to the other).

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const SPA_DIR = join(HERE, 'spa');
const OIDC_BUNDLE = join(HERE, 'node_modules', 'oidc-client-ts', 'dist', 'browser', 'oidc-client-ts.min.js');

export function startSpaServer({ port, clientId, authority }) {
  const files = {
    '/': ['index.html', 'text/html; charset=utf-8'],
    '/index.html': ['index.html', 'text/html; charset=utf-8'],
    '/callback.html': ['callback.html', 'text/html; charset=utf-8'],
    '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url, `http://127.0.0.1:${port}`).pathname;
    let body;
    let type;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/config.js') {
      body = `window.TESSERA_SPA_CONFIG = ${JSON.stringify({ authority: authority(), client_id: clientId })};\n`;
      type = 'text/javascript; charset=utf-8';
    } else if (path === '/oidc-client-ts.min.js') {
      body = readFileSync(OIDC_BUNDLE);
      type = 'text/javascript; charset=utf-8';
    } else if (files[path]) {
      body = readFileSync(join(SPA_DIR, files[path][0]));
      type = files[path][1];
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
