//! Logging: JSON lines on stderr (stdout stays for CLI output), filtered by `log_level`.
//! Audit events are records with target `audit` and a stable `event` field.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `level`.
pub fn init(level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

/// Prometheus metrics of one server (its own registry: no global state).
pub struct Metrics {
    registry: Registry,
    /// `tessera_http_requests_total{route,method,status}`.
    pub requests: IntCounterVec,
    /// `tessera_http_request_duration_seconds{route,method}`.
    pub latency: HistogramVec,
    /// `tessera_tokens_issued_total{grant}`.
    pub tokens_issued: IntCounterVec,
    /// `tessera_refresh_reuse_detected_total`.
    pub refresh_reuse: IntCounter,
    /// `tessera_rate_limited_total{limit}` (ip, account, pair).
    pub rate_limited: IntCounterVec,
    /// `tessera_password_hash_in_flight`: Argon2 jobs running or queued (set at scrape).
    pub hash_in_flight: IntGauge,
    /// `tessera_password_hash_wait_seconds`: time from admission to a hashing slot.
    pub hash_wait: Histogram,
    /// `tessera_signing_key_age_seconds`: how long the current key has signed (set at scrape).
    pub key_age: IntGauge,
    /// `tessera_backchannel_logout_notices_total{outcome}`: back-channel logout notices `sent`,
    /// `retried` (a failed attempt rescheduled) and `dropped` (given up after the retry window).
    pub backchannel: IntCounterVec,
}

impl Metrics {
    /// Registers every metric, plus `store_errors` (counted by the store itself) as
    /// `tessera_store_errors_total`.
    ///
    /// # Errors
    /// A registration conflict (a programming error).
    pub fn new(store_errors: Option<IntCounter>) -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("tessera".into()), None)?;
        let latency_buckets = vec![
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ];
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency")
                .buckets(latency_buckets.clone()),
            &["route", "method"],
        )?;
        let tokens_issued = IntCounterVec::new(
            Opts::new("tokens_issued_total", "Token responses by grant type"),
            &["grant"],
        )?;
        let refresh_reuse = IntCounter::new(
            "refresh_reuse_detected_total",
            "Rotated refresh tokens presented again (families revoked)",
        )?;
        let rate_limited = IntCounterVec::new(
            Opts::new("rate_limited_total", "Requests refused by a login limit"),
            &["limit"],
        )?;
        let hash_in_flight = IntGauge::new(
            "password_hash_in_flight",
            "Password hashes running or waiting for a slot",
        )?;
        let hash_wait = Histogram::with_opts(
            HistogramOpts::new(
                "password_hash_wait_seconds",
                "Time a password check waited for a hashing slot",
            )
            .buckets(latency_buckets),
        )?;
        let key_age = IntGauge::new(
            "signing_key_age_seconds",
            "Seconds the current signing key has been signing",
        )?;
        let backchannel = IntCounterVec::new(
            Opts::new(
                "backchannel_logout_notices_total",
                "Back-channel logout notices by outcome (sent, retried, dropped)",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(backchannel.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(tokens_issued.clone()))?;
        registry.register(Box::new(refresh_reuse.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(hash_in_flight.clone()))?;
        registry.register(Box::new(hash_wait.clone()))?;
        registry.register(Box::new(key_age.clone()))?;
        if let Some(errors) = store_errors {
            registry.register(Box::new(errors))?;
        }
        Ok(Self {
            registry,
            requests,
            latency,
            tokens_issued,
            refresh_reuse,
            rate_limited,
            hash_in_flight,
            hash_wait,
            key_age,
            backchannel,
        })
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}
