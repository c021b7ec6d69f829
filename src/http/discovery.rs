//! `GET /.well-known/jwks.json` (RFC 7517) and the metadata document (OIDC Discovery 1.0 §3,
//! RFC 8414 §2), both public and cacheable.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::paths;
use crate::config::Settings;
use crate::device::DEVICE_CODE_GRANT;
use crate::state::AppState;
use crate::store::SigningAlg;

/// The JWKS with `Cache-Control: public, max-age`, a strong `ETag` (a matching
/// `If-None-Match` gets 304, RFC 9110 §13.1.2) and CORS open to any origin.
pub async fn jwks(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let keys = state.tokens.keys();
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == keys.etag() || t.trim() == "*")
        });
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, keys.etag()))
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.settings.jwks_max_age),
        ))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    if unchanged {
        response.finish()
    } else {
        response
            .content_type("application/json")
            .body(keys.jwks().clone())
    }
}

/// `GET /`: a small JSON document naming the issuer and where its metadata and keys are, so a
/// person or tool that opens the issuer URL finds the discovery document.
pub async fn root(state: web::Data<AppState>) -> HttpResponse {
    let settings = &state.settings;
    HttpResponse::Ok().json(json!({
        "service": "tessera",
        "issuer": settings.issuer,
        "openid_configuration": settings.endpoint(paths::OPENID_CONFIGURATION),
        "oauth_authorization_server": settings.endpoint(paths::OAUTH_METADATA),
        "jwks_uri": settings.endpoint(paths::JWKS),
    }))
}

/// The discovery document; it advertises only what works.
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.settings.jwks_max_age),
        ))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(metadata_document(
            &state.settings,
            state.tokens.keys().algorithms().map(SigningAlg::as_str),
            &state.ui.tags(),
        ))
}

/// OIDC Discovery 1.0 §3 / RFC 8414 §2 metadata for `settings`, with `algs`: the JWS
/// algorithms we hold a key for (ID tokens and access tokens can be signed with any of them).
/// The `*_endpoint_auth_signing_alg_values_supported` members are left out: they describe
/// `private_key_jwt`/`client_secret_jwt` client authentication (RFC 8414 §2), which tessera
/// does not offer. `languages` are the pages' language tags.
pub fn metadata_document<'a>(
    settings: &Settings,
    algs: impl Iterator<Item = &'a str>,
    languages: &[String],
) -> serde_json::Value {
    json!({
        "issuer": settings.issuer,
        "authorization_endpoint": settings.endpoint(paths::AUTHORIZE),
        "token_endpoint": settings.endpoint(paths::TOKEN),
        // RFC 8628 §4.
        "device_authorization_endpoint": settings.endpoint(paths::DEVICE_AUTHORIZATION),
        "end_session_endpoint": settings.endpoint(paths::LOGOUT),
        // OIDC Back-Channel Logout 1.0 §2.1: logout tokens always carry `sid`.
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "revocation_endpoint": settings.endpoint(paths::REVOKE),
        "introspection_endpoint": settings.endpoint(paths::INTROSPECT),
        "userinfo_endpoint": settings.endpoint(paths::USERINFO),
        "jwks_uri": settings.endpoint(paths::JWKS),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password",
            "urn:tessera:params:oauth:grant-type:mfa-otp", DEVICE_CODE_GRANT],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        // RFC 7636: PKCE with S256 only, required for every client.
        "code_challenge_methods_supported": ["S256"],
        // OIDC Core §3.1.2.1; `select_account` shows the sign-in form (one account per browser).
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        // OIDC Discovery §3: both default to true when omitted; request objects (OIDC Core §6)
        // are not supported, only PAR's `request_uri` (RFC 9126 §4).
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        // RFC 9207: the authorization response carries `iss`.
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs.collect::<Vec<_>>(),
        // OIDC Discovery 1.0 §3: the classes of `crate::acr`, honoured in `acr_values`.
        "acr_values_supported": crate::acr::SUPPORTED,
        // RFC 9449 §5.1.
        "dpop_signing_alg_values_supported": crate::error::DPOP_ALGS.split(' ').collect::<Vec<_>>(),
        // RFC 9126 §5.
        "pushed_authorization_request_endpoint": settings.endpoint(paths::PAR),
        "require_pushed_authorization_requests": settings.require_pushed_authorization_requests,
        // OIDC Discovery 1.0 §3: the languages of the hosted pages (`ui_locales`).
        "ui_locales_supported": languages,
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "amr", "acr", "sid", "nonce",
            "email", "email_verified", "preferred_username"],
    })
}
