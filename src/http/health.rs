//! Liveness and readiness probes.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::state::AppState;
use crate::store::Backend;

/// `GET /healthz`: the process is alive. 200 `{"status":"ok"}`.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: 200 `{"status":"ready"}` when the store answers, else 503 with `Retry-After`.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "1"))
                .json(serde_json::json!({"status": "unavailable"}))
        }
    }
}
