//! `Cache-Control: no-store` on every admin API answer (RFC 9111 §5.2.2.5): clients, users,
//! sessions and secrets must not be kept by a browser or an intermediary cache.

use std::future::Future;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};

/// The path prefix of the admin API.
const ADMIN_PREFIX: &str = "/admin/";

/// Adds `Cache-Control: no-store` to the responses of the admin API (paths under `/admin/`),
/// errors included; other responses pass unchanged.
pub fn admin_no_store<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: 'static,
{
    let admin = req.path().starts_with(ADMIN_PREFIX);
    let fut = srv.call(req);
    async move {
        let mut res = fut.await?;
        if admin {
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Ok(res)
    }
}
