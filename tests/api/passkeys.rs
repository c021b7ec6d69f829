//! Passkeys (WebAuthn L3) over HTTP with a software authenticator: registration through the
//! JSON API, sign-in through the hosted page's passkey step, and the refusals of issue #12
//! (counter regression, wrong origin, foreign challenge, replay, deleted passkey, another
//! user's credential, the limit of 20, an old sign-in).

use serde_json::{json, Value};

use crate::helpers::{captured_logs, claims, expect_error, Authenticator, TestApp};

/// A server with passkeys, an SPA flow's cast, the user's bearer token and a passkey.
struct Cast {
    app: TestApp,
    flow: crate::helpers::SpaFlow,
    bearer: String,
    key: Authenticator,
    passkey: Value,
}

async fn cast() -> Cast {
    let app = TestApp::spawn_passkeys().await;
    let flow = app.spa_flow(false).await;
    let client = app.public_client().await;
    let bearer = app
        .bearer_login(&client, &flow.username, &flow.password)
        .await;
    let mut key = Authenticator::default();
    let passkey = app.register_passkey(&bearer, &mut key, "Laptop").await;
    Cast {
        app,
        flow,
        bearer,
        key,
        passkey,
    }
}

/// Opens the login page of a fresh authorization request and asks for its passkey challenge.
async fn challenge(c: &mut Cast) -> (crate::helpers::Page, Value) {
    let page = c.flow.browser.get(&c.flow.url).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Sign in with a passkey"),
        "{}",
        page.body
    );
    let options = c.flow.browser.passkey_options(&page).await;
    (page, options)
}

fn refused(page: &crate::helpers::Page) {
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("passkey could not be used"),
        "{}",
        page.body
    );
    assert!(page.headers.get("location").is_none());
}

#[tokio::test]
async fn a_registered_passkey_signs_in_without_a_password_as_multi_factor() {
    let mut c = cast().await;
    assert_eq!(c.passkey["name"], "Laptop");
    assert!(c.passkey["created_at"].is_u64());
    let (page, options) = challenge(&mut c).await;
    // Discoverable: no allowCredentials, user verification required (WebAuthn L3 §5.5).
    assert!(options["publicKey"]["allowCredentials"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let origin = c.app.issuer().to_owned();
    let answer = c.key.get(&origin, options, 0, &c.flow.sub);
    let done = c.flow.browser.passkey_answer(&page, &answer).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let tokens = c
        .app
        .tokens_from(&c.flow.client, &done, &c.flow.pkce.verifier)
        .await;
    for token in ["access_token", "id_token"] {
        let jwt = claims(tokens[token].as_str().unwrap());
        // RFC 8176: a device-bound key (hwk) with user verification (user), multi-factor.
        assert_eq!(jwt["amr"], json!(["hwk", "user", "mfa"]), "{token}");
        assert_eq!(jwt["acr"], "urn:tessera:acr:phr", "{token}");
        assert_eq!(jwt["sub"], c.flow.sub.as_str());
    }
    let listed = c.app.passkey_list(&c.bearer).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], c.passkey["id"]);
    assert!(listed[0]["last_used_at"].is_u64());
    assert_eq!(listed[0]["backup_eligible"], false);
    assert!(captured_logs().contains("\"event\":\"passkey_login\""));
    // Replay: the same answer again finds neither the request nor its challenge.
    let again = c.flow.browser.passkey_answer(&page, &answer).await;
    assert_eq!(again.status, 400);
    assert!(again.headers.get("location").is_none());
}

#[tokio::test]
async fn registration_options_ask_for_a_discoverable_verified_passkey_and_exclude_existing() {
    let c = cast().await;
    let res = c.app.passkey_start(&c.bearer).await;
    assert_eq!(res.status(), 200);
    let options: Value = res.json().await.unwrap();
    let pk = &options["publicKey"];
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(pk["attestation"], "none");
    assert_eq!(pk["rp"]["id"], "localhost");
    let excluded = pk["excludeCredentials"].as_array().unwrap();
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0]["id"], c.passkey["id"]);
    // Rename, then finish without an open registration (the start above was replaced by none).
    let id = c.passkey["id"].as_str().unwrap();
    let res = c.app.passkey_item(&c.bearer, id, Some("Work laptop")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        c.app.passkey_list(&c.bearer).await[0]["name"],
        "Work laptop"
    );
    let res = c.app.passkey_item(&c.bearer, id, Some("")).await;
    expect_error(res, 400, "invalid_request").await;
    assert!(captured_logs().contains("\"event\":\"passkey_renamed\""));
}

#[tokio::test]
async fn a_signature_counter_that_goes_backwards_is_refused_and_audited() {
    let mut c = cast().await;
    let origin = c.app.issuer().to_owned();
    let (first, first_options) = challenge(&mut c).await;
    let mut other = c.app.browser();
    let second = other.get(&c.flow.url).await;
    let second_options = other.passkey_options(&second).await;
    // The authenticator signs the first challenge with counter n, the second with n + 1; the
    // second is presented first, so the first's counter is behind (a cloned authenticator).
    let early = c.key.get(&origin, first_options, 0, &c.flow.sub);
    let late = c.key.get(&origin, second_options, 0, &c.flow.sub);
    assert_eq!(other.passkey_answer(&second, &late).await.status, 303);
    refused(&c.flow.browser.passkey_answer(&first, &early).await);
    assert!(captured_logs().contains("\"event\":\"passkey_counter_regression\""));
}

#[tokio::test]
async fn a_wrong_origin_is_refused_and_the_challenge_is_used_up() {
    let mut c = cast().await;
    let (page, options) = challenge(&mut c).await;
    let port = url::Url::parse(c.app.issuer()).unwrap().port().unwrap();
    // A sibling origin under the RP ID (the client accepts it; the server's origins do not).
    let sibling = format!("https://evil.localhost:{port}");
    let answer = c.key.get(&sibling, options.clone(), 0, &c.flow.sub);
    refused(&c.flow.browser.passkey_answer(&page, &answer).await);
    // The refusal used the challenge up: a correct answer to it now fails too.
    let origin = c.app.issuer().to_owned();
    let answer = c.key.get(&origin, options, 0, &c.flow.sub);
    refused(&c.flow.browser.passkey_answer(&page, &answer).await);
    assert!(captured_logs().contains("\"event\":\"passkey_login_refused\""));
}

#[tokio::test]
async fn an_assertion_for_another_rp_id_is_refused() {
    let mut c = cast().await;
    let (page, mut options) = challenge(&mut c).await;
    let port = url::Url::parse(c.app.issuer()).unwrap().port().unwrap();
    options["publicKey"]["rpId"] = json!("evil.test");
    let answer = c.key.get(
        &format!("https://evil.test:{port}"),
        options,
        0,
        &c.flow.sub,
    );
    refused(&c.flow.browser.passkey_answer(&page, &answer).await);
}

#[tokio::test]
async fn an_answer_to_another_requests_challenge_is_refused() {
    let mut c = cast().await;
    let origin = c.app.issuer().to_owned();
    let (_, foreign_options) = challenge(&mut c).await;
    let (page, _) = challenge(&mut c).await;
    let answer = c.key.get(&origin, foreign_options, 0, &c.flow.sub);
    refused(&c.flow.browser.passkey_answer(&page, &answer).await);
}

#[tokio::test]
async fn a_deleted_passkey_no_longer_signs_in() {
    let mut c = cast().await;
    let id = c.passkey["id"].as_str().unwrap().to_owned();
    assert_eq!(c.app.passkey_item(&c.bearer, &id, None).await.status(), 204);
    assert!(c.app.passkey_list(&c.bearer).await.is_empty());
    let res = c.app.passkey_item(&c.bearer, &id, None).await;
    expect_error(res, 404, "invalid_request").await;
    let (page, options) = challenge(&mut c).await;
    let origin = c.app.issuer().to_owned();
    let answer = c.key.get(&origin, options, 0, &c.flow.sub);
    refused(&c.flow.browser.passkey_answer(&page, &answer).await);
    assert!(captured_logs().contains("\"event\":\"passkey_removed\""));
}

#[tokio::test]
async fn another_users_credential_is_refused() {
    let mut c = cast().await;
    // Mallory has an account of her own; Alice's passkey presented as Mallory's is unknown.
    let (_, _, mallory) = c.app.user().await;
    let (page, options) = challenge(&mut c).await;
    let origin = c.app.issuer().to_owned();
    let answer = c.key.get(&origin, options, 0, &mallory);
    refused(&c.flow.browser.passkey_answer(&page, &answer).await);
    // And Mallory cannot register Alice's credential id under her account to sign in as
    // Alice: sign-in looks the credential up among the user handle's own passkeys only.
    let (page, options) = challenge(&mut c).await;
    let answer = c.key.get(&origin, options, 0, &c.flow.sub);
    assert_eq!(
        c.flow.browser.passkey_answer(&page, &answer).await.status,
        303
    );
}

#[tokio::test]
async fn a_user_has_at_most_twenty_passkeys() {
    let mut c = cast().await;
    for n in 2..=20 {
        c.app
            .register_passkey(&c.bearer, &mut c.key, &format!("Key {n}"))
            .await;
    }
    assert_eq!(c.app.passkey_list(&c.bearer).await.len(), 20);
    let res = c.app.passkey_start(&c.bearer).await;
    let text = expect_error(res, 400, "invalid_request").await;
    assert!(text.contains("20"), "{text}");
    let sub = c.app.sub_of(&c.flow.username).await;
    assert_eq!(sub, c.flow.sub);
}

#[tokio::test]
async fn registering_needs_a_recent_sign_in_and_a_finish_needs_its_start() {
    let mut c = cast().await;
    let old = c.app.aged_token(&c.bearer, 3600);
    let res = c.app.passkey_start(&old).await;
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("insufficient_user_authentication") && challenge.contains("max_age=300"),
        "{challenge}"
    );
    expect_error(res, 401, "insufficient_user_authentication").await;
    // A finish without an open registration changes nothing.
    let res = c.app.passkey_start(&c.bearer).await;
    let options: Value = res.json().await.unwrap();
    let origin = c.app.issuer().to_owned();
    let credential = c.key.create(&origin, options);
    assert_eq!(
        c.app
            .passkey_finish(&c.bearer, &credential, "Phone")
            .await
            .status(),
        201
    );
    let res = c.app.passkey_finish(&c.bearer, &credential, "Phone").await;
    expect_error(res, 400, "invalid_grant").await;
    assert_eq!(c.app.passkey_list(&c.bearer).await.len(), 2);
    assert!(captured_logs().contains("\"event\":\"passkey_registered\""));
}

#[tokio::test]
async fn a_passkey_is_offered_as_the_second_step_after_a_password() {
    let mut c = cast().await;
    let page = c.flow.browser.get(&c.flow.url).await;
    let second = c
        .flow
        .browser
        .submit_login(&page, &c.flow.username, &c.flow.password)
        .await;
    assert_eq!(second.status, 200);
    assert!(second.body.contains("Use a passkey"), "{}", second.body);
    // The second step's challenge names the user's passkeys.
    let options = c.flow.browser.passkey_options(&second).await;
    let allowed = options["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed[0]["id"], c.passkey["id"]);
    let origin = c.app.issuer().to_owned();
    let answer = c.key.get(&origin, options, 0, &c.flow.sub);
    let done = c.flow.browser.passkey_answer(&second, &answer).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let tokens = c
        .app
        .tokens_from(&c.flow.client, &done, &c.flow.pkce.verifier)
        .await;
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["amr"], json!(["pwd", "hwk", "user", "mfa"]));
}

#[tokio::test]
async fn resetting_factors_removes_passkeys() {
    let c = cast().await;
    let (_, admin) = c.app.admin_token().await;
    let res = c.app.admin_users_delete_factors(&admin, &c.flow.sub).await;
    assert!(res.status().is_success());
    let view = c.app.admin_user_view(&admin, &c.flow.sub).await;
    assert_eq!(view["second_factors"]["passkeys"], 0);
}
