//! CORS (Fetch standard) for the endpoints single-page apps call: token, revocation and
//! userinfo answer preflights and requests only from origins registered by public clients.
//! (Discovery and JWKS send `Access-Control-Allow-Origin: *` themselves.)

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::state::AppState;

/// The request's `Origin` when a public client registered it.
async fn allowed_origin(state: &AppState, req: &HttpRequest) -> Option<String> {
    let origin = req.headers().get(header::ORIGIN)?.to_str().ok()?;
    state
        .clients
        .origin_allowed(origin)
        .await
        .then(|| origin.to_owned())
}

/// `OPTIONS` preflight: 204 with the allowed methods and headers for a registered origin, 403
/// (and no `Access-Control-Allow-Origin`) otherwise.
pub async fn preflight(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match allowed_origin(&state, &req).await {
        Some(origin) => HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "authorization, content-type, dpop",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .insert_header((header::VARY, "Origin"))
            .finish(),
        None => HttpResponse::Forbidden()
            .insert_header((header::VARY, "Origin"))
            .finish(),
    }
}

/// Adds `Access-Control-Allow-Origin` (and `Vary: Origin`) to responses for registered
/// origins.
pub fn with_cors<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: 'static,
{
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let http_request = req.request().clone();
    let fut = srv.call(req);
    async move {
        let mut res = fut.await?;
        if let Some(state) = state {
            if let Some(origin) = allowed_origin(&state, &http_request).await {
                if let Ok(value) = HeaderValue::from_str(&origin) {
                    let headers = res.headers_mut();
                    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
                    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
                    headers.insert(
                        header::ACCESS_CONTROL_EXPOSE_HEADERS,
                        HeaderValue::from_static("www-authenticate, dpop-nonce"),
                    );
                }
            }
        }
        Ok(res)
    }
}
