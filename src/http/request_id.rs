//! Request ids, request metrics and the access log.

use std::future::Future;
use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web;
use tracing::Instrument;

use crate::state::AppState;

/// Wraps a service call in a span carrying a request id (so every log record and audit event
/// of the request names it), returns the id in `x-request-id`, records the request metrics
/// (count by route pattern, method and status; latency in seconds by route pattern and method)
/// and logs one access line per request at debug level (method, route pattern, status, latency
/// in microseconds).
pub fn with_request_id<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: 'static,
{
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let id = state
        .as_ref()
        .map_or_else(String::new, |s| s.next_request_id());
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    // The route pattern (e.g. `/admin/clients/{client_id}`), never the raw path: bounded labels.
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let fut = {
        let _entered = span.enter();
        srv.call(req)
    };
    async move {
        let mut res = fut.await?;
        let elapsed = started.elapsed();
        if let Some(state) = state {
            let status = res.status();
            state
                .metrics
                .requests
                .with_label_values(&[route.as_str(), method.as_str(), status.as_str()])
                .inc();
            state
                .metrics
                .latency
                .with_label_values(&[route.as_str(), method.as_str()])
                .observe(elapsed.as_secs_f64());
        }
        tracing::debug!(
            method = %method,
            route = %route,
            status = res.status().as_u16(),
            elapsed_us = elapsed.as_micros() as u64,
            "request"
        );
        if let Ok(value) = HeaderValue::from_str(&id) {
            res.headers_mut()
                .insert(HeaderName::from_static("x-request-id"), value);
        }
        Ok(res)
    }
    .instrument(span)
}
