// The shared harness of the Node client checks (oidc_check.mjs, device_check.mjs): required
// environment variables, secret scrubbing, one line per check, dependent checks skipped when
// what they need failed, and the final "<name>: N passed, M failed" line that .ci/run counts.
// Tokens, passwords and secrets are never printed (error texts are scrubbed of them too).

// The checks of one script, reported under `name`.
export function harness(name) {
  // Every sensitive string seen so far; scrubbed from anything printed.
  const secrets = new Set();
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  class Skip extends Error {}

  const h = {
    // The value of environment variable `variable`; exits 2 when it is unset.
    env(variable) {
      const value = process.env[variable];
      if (!value) {
        console.log(`${name}: environment variable ${variable} is not set`);
        process.exit(2);
      }
      return value;
    },

    keepSecret(...values) {
      for (const v of values) if (typeof v === 'string' && v.length >= 8) secrets.add(v);
    },

    redact(text) {
      let out = String(text);
      for (const s of secrets) out = out.split(s).join('[redacted]');
      return out;
    },

    // A short, safe description of an error from openid-client, oauth4webapi or jose: its
    // class, message, code, OAuth error fields and status; never a response body or the
    // `cause` object (which may hold tokens).
    describe(err) {
      if (!(err instanceof Error)) return h.redact(String(err));
      const parts = [`${err.name}: ${err.message}`];
      if (err.code) parts.push(`code=${err.code}`);
      if (err.status) parts.push(`status=${err.status}`);
      if (err.error) parts.push(`error=${JSON.stringify(err.error)}`);
      if (err.error_description) parts.push(`error_description=${JSON.stringify(err.error_description)}`);
      if (err.claim) parts.push(`claim=${err.claim}`);
      if (err.reason) parts.push(`reason=${err.reason}`);
      const cause = err.cause;
      if (cause instanceof Error) {
        parts.push(`cause: ${cause.name}: ${cause.message}${cause.code ? ` (${cause.code})` : ''}`);
      } else if (Array.isArray(cause)) {
        // WWW-Authenticate challenges: scheme and error parameter only
        for (const ch of cause) {
          parts.push(`challenge: ${ch?.scheme}${ch?.parameters?.error ? ` error=${ch.parameters.error}` : ''}`);
        }
      } else if (cause && typeof cause === 'object' && typeof cause.status === 'number') {
        parts.push(`cause: HTTP ${cause.status}`);
      }
      return h.redact(parts.join('; '));
    },

    // Runs one check. `fn` returns a value (passed on to later checks) or throws; an assertion
    // failure is an Error whose message says what was expected.
    async check(title, fn) {
      try {
        const value = await fn();
        passed += 1;
        console.log(`ok   ${title}`);
        return value;
      } catch (err) {
        failed += 1;
        if (err instanceof Skip) {
          skipped += 1;
          console.log(`SKIP ${title}: ${err.message}`);
        } else {
          console.log(`FAIL ${title}: ${h.describe(err)}`);
        }
        return undefined;
      }
    },

    // The value a check depends on, or a Skip.
    need(value, what) {
      if (value === undefined || value === null) throw new Skip(`needs ${what}, which failed`);
      return value;
    },

    assert(ok, message) {
      if (!ok) throw new Error(message);
    },

    assertEq(actual, expected, what) {
      h.assert(
        actual === expected,
        `${what}: expected ${JSON.stringify(expected)}, got ${h.redact(JSON.stringify(actual))}`,
      );
    },

    // An expected failure: `fn` must throw, and `accept(err)` must hold for the error.
    async expectFailure(fn, accept, what) {
      try {
        await fn();
      } catch (err) {
        if (err instanceof Skip) throw err;
        h.assert(accept(err), `${what}: wrong failure: ${h.describe(err)}`);
        return err;
      }
      throw new Error(`${what}: succeeded, but it must fail`);
    },

    // Runs `main`, prints the summary line and exits 0 only when nothing failed.
    async run(main) {
      try {
        await main();
      } catch (err) {
        failed += 1;
        console.log(`FAIL unexpected error: ${h.describe(err)}`);
      }
      if (skipped > 0) console.log(`${name}: ${skipped} check(s) skipped because an earlier check failed`);
      console.log(`${name}: ${passed} passed, ${failed} failed`);
      process.exit(failed === 0 ? 0 : 1);
    },
  };
  return h;
}
