# syntax=docker/dockerfile:1
#
# tessera container image.
#   docker build -t tessera .
#   docker run --rm -v tessera-keys:/var/lib/tessera/keys tessera keys generate
#   docker run -p 8080:8080 -v tessera-keys:/var/lib/tessera/keys \
#     -e TESSERA_REDIS_URL=redis://redis:6379/0 -e TESSERA_ISSUER=https://id.example.com tessera
#
# redis_url has no default (see config/default.toml): set TESSERA_REDIS_URL, and
# TESSERA_DATA_KEY (32 random bytes, standard base64: `openssl rand -base64 32`).
# HEALTHCHECK: curl GET /readyz (200 once Redis answers, 503 otherwise). Orchestrators
# with their own probes can use GET /readyz (readiness) and GET /healthz (liveness).

# ---- build ----------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
# aws-lc-sys (non-FIPS) needs only the C compiler the rust image already has; webauthn-rs
# needs OpenSSL (the rust image ships libssl-dev and pkg-config).
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin tessera \
    && install -m 0755 target/release/tessera /usr/local/bin/tessera

# ---- runtime --------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 tessera \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/tessera \
       --no-create-home --shell /usr/sbin/nologin tessera \
    && mkdir -p /var/lib/tessera/keys /etc/tessera \
    && chown -R 10001:10001 /var/lib/tessera \
    && chmod 0700 /var/lib/tessera/keys

COPY --from=builder /usr/local/bin/tessera /usr/local/bin/tessera
COPY config/default.toml /etc/tessera/default.toml

WORKDIR /var/lib/tessera
ENV TESSERA_LISTEN=0.0.0.0:8080 \
    TESSERA_KEYS_DIR=/var/lib/tessera/keys
USER 10001:10001
EXPOSE 8080
# Probes the port of TESSERA_LISTEN above; change both together.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["tessera"]
CMD ["serve", "--config", "/etc/tessera/default.toml"]
