//! RFC 9449 §8.2: with `dpop_nonce_required` on, every response of an endpoint that takes
//! DPoP proofs (token, PAR, userinfo, `/account`, `/admin`) carries the nonce the next proof
//! must use in `DPoP-Nonce`, success or error, so a client never needs an extra round trip to
//! learn a new one.

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::web;

use crate::dpop::current_nonce;
use crate::state::AppState;

/// Adds `DPoP-Nonce: <current nonce>` to the response when the server requires nonces
/// (replacing one an error set: both are the current window's). No store call: the nonce is
/// a MAC over the time window.
pub fn with_dpop_nonce<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: 'static,
{
    let state = req
        .app_data::<web::Data<AppState>>()
        .filter(|state| state.settings.dpop_nonce_required)
        .cloned();
    let fut = srv.call(req);
    async move {
        let mut res = fut.await?;
        if let Some(state) = state {
            if let Ok(value) = HeaderValue::from_str(&current_nonce(&state)) {
                res.headers_mut().insert(
                    actix_web::http::header::HeaderName::from_static("dpop-nonce"),
                    value,
                );
            }
        }
        Ok(res)
    }
}
