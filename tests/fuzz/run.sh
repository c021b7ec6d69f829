#!/usr/bin/env bash
# Fuzz stage: schemathesis against openapi.yaml on a running `tessera serve`, failing on any 5xx
# or schema violation. Called by .ci/run; runs alone too:
#   TESSERA_BIN=target/debug/tessera FUZZ_REDIS_URL=redis://127.0.0.1:6390/2 \
#   FUZZ_PYTHON=/path/to/venv/bin/python bash tests/fuzz/run.sh
# FUZZ_REDIS_URL names a private Redis database of its own (flushed here). Two bounded runs:
# the admin API with an admin token (client_credentials, tessera:admin), everything else with a
# user's bearer token. Excluded, because they would end the run's own credentials:
# DELETE /admin/clients/{client_id} and POST /account/logout-all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${TESSERA_BIN:?set TESSERA_BIN}" "${FUZZ_REDIS_URL:?set FUZZ_REDIS_URL}" "${FUZZ_PYTHON:?set FUZZ_PYTHON}"
ST="$(dirname "$FUZZ_PYTHON")/st"
MAX_TIME=${FUZZ_MAX_TIME:-60}      # seconds per run
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-10}

SERVER_PID=""
KEYS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tessera-fuzz-keys.XXXXXX")
cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$KEYS_DIR"
    exit "$rc"
}
trap cleanup EXIT

redis-cli -u "$FUZZ_REDIS_URL" flushdb >/dev/null

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
PASSWORD=$(secret)
tessera_env=(
    env
    TESSERA_REDIS_URL="$FUZZ_REDIS_URL"
    TESSERA_KEYS_DIR="$KEYS_DIR"
    TESSERA_LISTEN="127.0.0.1:$PORT"
    TESSERA_ISSUER="$URL"
    TESSERA_DATA_KEY="$(python3 -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())')"
    TESSERA_LOGIN_IP_LIMIT_PER_MINUTE=0
)
"${tessera_env[@]}" "$TESSERA_BIN" keys generate </dev/null >/dev/null
printf '%s' "$PASSWORD" | "${tessera_env[@]}" "$TESSERA_BIN" user add fuzz-user --email fuzz@example.test --password-stdin >/dev/null
"${tessera_env[@]}" "$TESSERA_BIN" client add fuzz-app --public \
    --grant-type password --grant-type refresh_token \
    --scope openid --scope profile --scope email </dev/null >/dev/null
admin_out=$("${tessera_env[@]}" "$TESSERA_BIN" client add fuzz-admin \
    --grant-type client_credentials --scope tessera:admin </dev/null)
ADMIN_SECRET=$(printf '%s\n' "$admin_out" | sed -n 's/^client_secret: //p')
[ -n "$ADMIN_SECRET" ] || { echo "fuzz: no admin client secret" >&2; exit 1; }

"${tessera_env[@]}" "$TESSERA_BIN" serve </dev/null >target/ci-fuzz-serve.log 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 30 target/ci-fuzz-serve.log >&2; exit 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/readyz" || true)" = 200 ] && break
    sleep 0.2
done

token() { # token FORM...: the access_token of a token request
    curl -sf "$URL/oauth2/token" "$@" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
USER_TOKEN=$(token -d grant_type=password -d client_id=fuzz-app -d username=fuzz-user \
    --data-urlencode "password=$PASSWORD" -d 'scope=openid profile email')
ADMIN_TOKEN=$(token -u "fuzz-admin:$ADMIN_SECRET" -d grant_type=client_credentials -d scope=tessera:admin)

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
common=(run openapi.yaml --url "$URL" --checks "$checks" --phases examples,fuzzing
    --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" --workers 1 --request-timeout 10
    --generation-deterministic --suppress-health-check all)
status=0
echo "-- schemathesis: the admin API (admin token)"
"$ST" "${common[@]}" -H "Authorization: Bearer $ADMIN_TOKEN" --include-path-regex '^/admin/' \
    --exclude-operation-id deleteClient || status=1
echo "-- schemathesis: every other operation (a user's bearer token)"
"$ST" "${common[@]}" -H "Authorization: Bearer $USER_TOKEN" --exclude-path-regex '^/admin/' \
    --exclude-operation-id logoutAll || status=1
[ "$status" -eq 0 ] || { echo "-- last lines of the server log:" >&2; tail -n 30 target/ci-fuzz-serve.log >&2; }
exit "$status"
