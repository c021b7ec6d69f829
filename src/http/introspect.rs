//! `POST /oauth2/introspect` (RFC 7662).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::extract::{issued_to_current_client, ClientRequest};
use crate::error::{ErrorCode, OAuthError};
use crate::state::AppState;
use crate::store::{Backend, TokenState};
use crate::tokens::RefreshToken;

/// Answers whether `token` is active, with its claims (RFC 7662 §2.2): `token_type` is `DPoP`
/// for a DPoP-bound token and `Bearer` otherwise, and a bound token (access or refresh) has
/// `cnf.jkt` (RFC 9449 §6.2). Only authenticated confidential clients may ask (§2.1). Expired,
/// not yet valid, malformed, forged, wrong-`typ` tokens, tokens of a revoked session and
/// tokens of a client that was removed (even if its id was registered again) are
/// `{"active": false}`. At most one store call (the session, or the refresh token's state);
/// the token's client comes from the registry's cache.
pub async fn introspect(
    state: web::Data<AppState>,
    ClientRequest { params, client }: ClientRequest,
) -> Result<HttpResponse, OAuthError> {
    if client.secret_hash.is_none() {
        return Err(OAuthError::new(
            ErrorCode::InvalidClient,
            "introspection requires a confidential client",
        ));
    }
    let token = params.require("token")?;
    let answer = match RefreshToken::parse(token) {
        Some(refresh) => refresh_answer(&state, &refresh).await?,
        None => access_answer(&state, token).await?,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
}

fn inactive() -> Value {
    json!({"active": false})
}

async fn access_answer(state: &AppState, token: &str) -> Result<Value, OAuthError> {
    let Ok(claims) = state.tokens.verify_access_token(token) else {
        return Ok(inactive());
    };
    if !issued_to_current_client(state, &claims).await? {
        return Ok(inactive());
    }
    if let Some(sid) = &claims.sid {
        if !state.store.family_alive(sid).await? {
            return Ok(inactive());
        }
    }
    let bound = claims.cnf.is_some();
    let mut answer = serde_json::to_value(&claims).unwrap_or_else(|_| inactive());
    if let Value::Object(map) = &mut answer {
        map.insert("active".into(), Value::Bool(true));
        map.insert("token_type".into(), Value::from(token_type(bound)));
    }
    Ok(answer)
}

/// RFC 7662 §2.2 `token_type`: the RFC 6749 §7.1 access token type the token is used with,
/// `DPoP` for a DPoP-bound token (RFC 9449 §6.2), `Bearer` otherwise.
fn token_type(dpop_bound: bool) -> &'static str {
    if dpop_bound {
        "DPoP"
    } else {
        "Bearer"
    }
}

async fn refresh_answer(state: &AppState, refresh: &RefreshToken) -> Result<Value, OAuthError> {
    let TokenState::Current(family) = state
        .store
        .refresh_token_state(refresh.family_id(), &refresh.hash())
        .await?
    else {
        return Ok(inactive());
    };
    // A session of a removed client (or of an earlier registration of its id) is over.
    let client = state
        .clients
        .of_grant(&family.client_id, family.client_registered_at)
        .await?;
    if client.is_none() {
        return Ok(inactive());
    }
    let mut answer = json!({
        "active": true,
        "token_type": token_type(family.jkt.is_some()),
        "iss": state.settings.issuer,
        "sub": family.sub,
        "client_id": family.client_id,
        "scope": family.scope,
        "auth_time": family.auth_time,
        "sid": refresh.family_id(),
    });
    // RFC 9449 §6.2 / RFC 7800 §3.1: the key a bound refresh token needs (§5).
    if let Some(jkt) = family.jkt {
        answer["cnf"] = json!({ "jkt": jkt });
    }
    Ok(answer)
}
