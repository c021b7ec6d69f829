//! `GET /.well-known/jwks.json` (RFC 7517) and the metadata document (OIDC Discovery 1.0 §3,
//! RFC 8414 §2), both public and cacheable.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::json;

use super::paths;
use crate::config::Settings;
use crate::state::AppState;

/// The JWKS with `Cache-Control: public, max-age` and CORS open to any origin.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.settings.jwks_max_age),
        ))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(state.tokens.keys().jwks().to_vec())
}

/// The discovery document; it advertises only what works.
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.settings.jwks_max_age),
        ))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(metadata_document(&state.settings))
}

/// OIDC Discovery 1.0 §3 / RFC 8414 §2 metadata for `settings`.
pub fn metadata_document(settings: &Settings) -> serde_json::Value {
    json!({
        "issuer": settings.issuer,
        "token_endpoint": settings.endpoint(paths::TOKEN),
        "revocation_endpoint": settings.endpoint(paths::REVOKE),
        "introspection_endpoint": settings.endpoint(paths::INTROSPECT),
        "userinfo_endpoint": settings.endpoint(paths::USERINFO),
        "jwks_uri": settings.endpoint(paths::JWKS),
        "grant_types_supported": ["password", "refresh_token", "client_credentials"],
        // No authorization endpoint yet: no response type is supported.
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "amr", "sid",
            "email", "email_verified", "preferred_username"],
    })
}
