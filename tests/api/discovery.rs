//! JWKS (RFC 7517), metadata (OIDC Discovery 1.0, RFC 8414) and health probes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{access_token, claims, header, Backend, TestApp};

#[tokio::test]
async fn jwks_publishes_only_public_members_with_thumbprint_kids() {
    let app = TestApp::spawn().await;
    let res = app.get("/.well-known/jwks.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "cache-control"), "public, max-age=300");
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
    assert!(header(&res, "content-type").starts_with("application/json"));
    assert!(!header(&res, "x-request-id").is_empty());
    let jwks: Value = res.json().await.unwrap();
    let keys = jwks["keys"]
        .as_array()
        .expect("RFC 7517 §5: a `keys` array");
    assert!(!keys.is_empty());
    let mut ktys: Vec<&str> = keys.iter().map(|k| k["kty"].as_str().unwrap()).collect();
    ktys.sort_unstable();
    assert_eq!(ktys, ["EC", "OKP", "RSA"], "one key per algorithm");
    for key in keys {
        let object = key.as_object().unwrap();
        let mut members: Vec<&str> = object.keys().map(String::as_str).collect();
        members.sort_unstable();
        assert_eq!(key["use"], "sig");
        let b64 = |m: &str| URL_SAFE_NO_PAD.decode(key[m].as_str().unwrap()).unwrap();
        let text = |m: &str| key[m].as_str().unwrap().to_owned();
        // RFC 7638 §3.2: SHA-256 over the required members in lexicographic order, no spaces.
        let canonical = match key["kty"].as_str().unwrap() {
            "RSA" => {
                // RFC 7518 §6.3.2: d, p, q, dp, dq, qi are private; only public members appear.
                assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"], "{key}");
                assert_eq!(key["alg"], "RS256");
                // RFC 7518 §6.3.1.1: unsigned big-endian, minimal octets (no leading zero).
                let modulus = b64("n");
                assert_ne!(modulus[0], 0, "no leading zero octet");
                assert!(
                    modulus.len() * 8 >= 2048,
                    "RFC 7518 §3.3: at least 2048 bits"
                );
                assert_eq!(key["e"], "AQAB");
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, text("e"), text("n"))
            }
            "EC" => {
                // RFC 7518 §6.2.2.1: `d` is private.
                assert_eq!(
                    members,
                    ["alg", "crv", "kid", "kty", "use", "x", "y"],
                    "{key}"
                );
                assert_eq!(
                    (&key["alg"], &key["crv"]),
                    (&"ES256".into(), &"P-256".into())
                );
                // RFC 7518 §6.2.1.2/§6.2.1.3: the full coordinate size, 32 octets, always.
                assert_eq!((b64("x").len(), b64("y").len()), (32, 32));
                format!(
                    r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                    text("x"),
                    text("y")
                )
            }
            "OKP" => {
                // RFC 8037 §2: crv, x public; d private.
                assert_eq!(members, ["alg", "crv", "kid", "kty", "use", "x"], "{key}");
                assert_eq!(
                    (&key["alg"], &key["crv"]),
                    (&"EdDSA".into(), &"Ed25519".into())
                );
                assert_eq!(b64("x").len(), 32);
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, text("x"))
            }
            other => panic!("unexpected kty {other}"),
        };
        let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        assert_eq!(key["kid"], thumbprint.as_str());
    }

    // The kid of an issued token is one of the published keys.
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let token = access_token(&app.login(&client, &username, &password).await);
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    assert!(keys.iter().any(|k| k["kid"] == kid.as_str()));
}

#[tokio::test]
async fn jwks_max_age_follows_the_configuration() {
    let app = TestApp::spawn_with(Backend::Memory, |raw| raw.jwks_max_age = 60).await;
    let res = app.get("/.well-known/jwks.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "cache-control"), "public, max-age=60");
}

/// Requests `url` with the method the endpoint is meant for and returns the status.
async fn answer(app: &TestApp, name: &str, url: &str) -> u16 {
    let req = match name {
        "jwks_uri" | "userinfo_endpoint" | "authorization_endpoint" | "end_session_endpoint" => {
            app.http.get(url)
        }
        _ => app
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded"),
    };
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn metadata_matches_the_tokens_and_every_endpoint_answers() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let token = access_token(&app.login(&client, &username, &password).await);
    let iss = claims(&token)["iss"].as_str().unwrap().to_owned();

    let mut documents = Vec::new();
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(header(&res, "content-type").starts_with("application/json"));
        assert_eq!(header(&res, "access-control-allow-origin"), "*");
        documents.push(res.json::<Value>().await.unwrap());
    }
    assert_eq!(documents[0], documents[1], "one document under both names");
    let doc = &documents[0];

    // OIDC Discovery 1.0 §3 / RFC 8414 §3.3: the issuer is identical to the one used to build
    // the well-known URL and to the `iss` of the tokens (OIDC Core §2: exact match).
    let issuer = doc["issuer"].as_str().unwrap();
    assert_eq!(issuer, iss, "byte-identical to `iss`");
    assert_eq!(issuer, app.issuer());
    assert_eq!(issuer, app.base);

    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
    );
    for grant in ["password", "refresh_token"] {
        assert!(
            doc["grant_types_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g == grant),
            "{grant} advertised"
        );
    }
    assert_eq!(
        doc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "ES256", "EdDSA"]),
        "every algorithm with a key"
    );

    let mut checked = Vec::new();
    for (name, value) in doc.as_object().unwrap() {
        if !(name.ends_with("_endpoint") || name == "jwks_uri") {
            continue;
        }
        let url = value.as_str().unwrap();
        // RFC 8414 §2: endpoint URLs are absolute; ours live under the issuer.
        let parsed = url::Url::parse(url).unwrap_or_else(|_| panic!("{name} absolute: {url}"));
        assert!(parsed.has_host(), "{name}: {url}");
        assert!(
            url.starts_with(&format!("{issuer}/")) && !url[issuer.len()..].starts_with("//"),
            "{name} under the issuer: {url}"
        );
        let status = answer(&app, name, url).await;
        assert!(
            status != 404 && status != 405,
            "{name} {url} answers: {status}"
        );
        checked.push(name.clone());
    }
    for required in ["token_endpoint", "revocation_endpoint", "jwks_uri"] {
        assert!(checked.iter().any(|c| c == required), "{required} missing");
    }
}

#[tokio::test]
async fn endpoints_are_built_without_a_double_slash() {
    let app = TestApp::spawn_with(Backend::Memory, |raw| raw.issuer.push('/')).await;
    let doc: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], app.issuer());
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/oauth2/token", app.base).as_str()
    );
}

#[tokio::test]
async fn health_and_readiness() {
    for app in [
        TestApp::spawn().await,
        TestApp::spawn_with(Backend::Memory, |_| {}).await,
    ] {
        let res = app.get("/healthz").await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["status"], "ok");
        let res = app.get("/readyz").await;
        assert_eq!(res.status(), 200);
        assert!(!header(&res, "x-request-id").is_empty());
        assert_eq!(res.json::<Value>().await.unwrap()["status"], "ready");
    }
}
