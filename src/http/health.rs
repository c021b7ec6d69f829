//! Liveness and readiness probes.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::state::AppState;
use crate::store::Backend;

/// `GET /healthz`: the process is alive. 200 `{"status":"ok"}`.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: 200 `{"status":"ready"}` when the store answers, else 503 with `Retry-After`
/// and, for an operator (see [`super::metrics::operator`]: the metrics token, or none
/// configured), `detail`: which store and why (e.g. `Redis at redis://10.0.0.5:6379/: timed
/// out after 1000 ms`; never a password).
pub async fn readyz(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            let mut body = serde_json::json!({"status": "unavailable"});
            if super::metrics::operator(&state, &req) {
                body["detail"] = e.0.into();
            }
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "1"))
                .json(body)
        }
    }
}
