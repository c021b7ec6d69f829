//! `GET /metrics`: Prometheus text exposition, optionally behind a bearer token
//! (`metrics_token`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use subtle::ConstantTimeEq;

use super::extract::authorization;
use crate::clock::now;
use crate::state::AppState;

/// Whether `req` comes from an operator: it presents `metrics_token` as a bearer token
/// (compared in constant time), or none is configured (then `/metrics` is open too).
pub(super) fn operator(state: &AppState, req: &HttpRequest) -> bool {
    state
        .settings
        .metrics_token
        .as_ref()
        .is_none_or(|expected| {
            let presented = authorization::credentials(req, "Bearer").unwrap_or("");
            bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
        })
}

/// Renders every metric; refreshes the gauges read at scrape time first. With `metrics_token`
/// configured, a request without `Authorization: Bearer <that token>` gets 401.
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !operator(&state, &req) {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tessera-metrics\""))
            .finish();
    }
    let metrics = &state.metrics;
    metrics
        .hash_in_flight
        .set(i64::try_from(state.hasher.in_flight()).unwrap_or(i64::MAX));
    let keys = state.tokens.keys();
    let now = now();
    // The oldest of the per-algorithm signing keys: the one most in need of rotation.
    let since = keys
        .algorithms()
        .filter_map(|alg| keys.signing_key_at(alg, now))
        .filter_map(|signing| keys.keys().find(|(k, _)| k.kid == signing.kid))
        .map(|(_, (from, _))| from)
        .min()
        .unwrap_or(now);
    metrics
        .key_age
        .set(i64::try_from(now.saturating_sub(since)).unwrap_or(i64::MAX));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}
