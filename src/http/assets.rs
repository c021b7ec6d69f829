//! The hosted pages' static files, served from our own origin (the pages' CSP allows scripts,
//! styles and images only from `'self'`): the stylesheet (with the operator's primary colour),
//! the WebAuthn script, and the operator's stylesheet and logo (`crate::ui::theme`).

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::state::AppState;

/// Cacheable for an hour: the files change only with a restart.
const CACHE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "public, max-age=3600");

fn file(content_type: &str, body: impl actix_web::body::MessageBody + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(CACHE)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

/// `/assets/tessera.css`: the built-in stylesheet, with `--primary` set from `primary_color`.
pub async fn stylesheet(state: web::Data<AppState>) -> HttpResponse {
    file("text/css; charset=utf-8", state.ui.stylesheet())
}

/// `/assets/passkey.js`: the pages' WebAuthn script.
pub async fn passkey_script(state: web::Data<AppState>) -> HttpResponse {
    file("text/javascript; charset=utf-8", state.ui.passkey_script())
}

/// `/assets/theme.css`: the operator's stylesheet (`css_file`); 404 when none is configured.
pub async fn theme_stylesheet(state: web::Data<AppState>) -> HttpResponse {
    match state.ui.custom_stylesheet() {
        Some(css) => file("text/css; charset=utf-8", css),
        None => HttpResponse::NotFound().finish(),
    }
}

/// `/assets/logo`: the operator's logo (`logo_file`); 404 when none is configured. Served with
/// a sandboxing CSP: an SVG opened directly runs no script in our origin.
pub async fn logo(state: web::Data<AppState>) -> HttpResponse {
    match state.ui.logo() {
        Some(logo) => {
            let mut response = file(logo.content_type, logo.bytes.clone());
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                header::HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; sandbox",
                ),
            );
            response
        }
        None => HttpResponse::NotFound().finish(),
    }
}
