//! The route table: one list of resources (path, methods, handlers, CORS) from which
//! [`configure`] registers the app and [`paths::all`] lists the routes for the spec test.

use actix_web::http::Method;
use actix_web::{web, Route};

use super::{
    account, account_forms, account_page, account_sessions, admin, admin_users, assets, authorize,
    cors, device, discovery, dpop_nonce, health, introspect, metrics, passkey_login, passkeys,
    revoke, session_list, token, userinfo,
};

/// Paths of the endpoints, relative to the issuer.
pub mod paths {
    /// RFC 6749 §3.1 authorization endpoint.
    pub const AUTHORIZE: &str = "/oauth2/authorize";
    /// Hosted login page: the password step.
    pub const AUTHORIZE_LOGIN: &str = "/oauth2/authorize/login";
    /// Hosted login page: the second-factor step.
    pub const AUTHORIZE_MFA: &str = "/oauth2/authorize/mfa";
    /// Hosted login page: a passkey challenge for the page's script (JSON).
    pub const AUTHORIZE_PASSKEY_OPTIONS: &str = "/oauth2/authorize/passkey/options";
    /// Hosted login page: the passkey step (login or second step).
    pub const AUTHORIZE_PASSKEY: &str = "/oauth2/authorize/passkey";
    /// Hosted consent page.
    pub const AUTHORIZE_CONSENT: &str = "/oauth2/authorize/consent";
    /// RP-Initiated Logout 1.0 end-session endpoint.
    pub const LOGOUT: &str = "/oauth2/logout";
    /// Stylesheet of the hosted pages.
    pub const STYLESHEET: &str = "/assets/tessera.css";
    /// The hosted pages' WebAuthn script (passkey sign-in and registration).
    pub const PASSKEY_SCRIPT: &str = "/assets/passkey.js";
    /// The operator's stylesheet (setting `css_file`).
    pub const THEME_STYLESHEET: &str = "/assets/theme.css";
    /// The operator's logo (setting `logo_file`).
    pub const LOGO: &str = "/assets/logo";
    /// RFC 6749 §3.2 token endpoint.
    pub const TOKEN: &str = "/oauth2/token";
    /// RFC 9126 §2 pushed authorization request endpoint.
    pub const PAR: &str = "/oauth2/par";
    /// RFC 8628 §3.1 device authorization endpoint.
    pub const DEVICE_AUTHORIZATION: &str = "/oauth2/device_authorization";
    /// RFC 8628 §3.2 `verification_uri`: the hosted page where the user enters the code.
    pub const DEVICE: &str = "/device";
    /// Hosted device page: approve or deny the device.
    pub const DEVICE_APPROVE: &str = "/device/approve";
    /// RFC 7009 revocation endpoint.
    pub const REVOKE: &str = "/oauth2/revoke";
    /// RFC 7662 introspection endpoint.
    pub const INTROSPECT: &str = "/oauth2/introspect";
    /// OIDC Core §5.3 UserInfo endpoint.
    pub const USERINFO: &str = "/oauth2/userinfo";
    /// Admin API: the client collection.
    pub const ADMIN_CLIENTS: &str = "/admin/clients";
    /// Admin API: one client.
    pub const ADMIN_CLIENT: &str = "/admin/clients/{client_id}";
    /// Admin API: a client's secret.
    pub const ADMIN_CLIENT_SECRET: &str = "/admin/clients/{client_id}/secret";
    /// Admin API: the user collection.
    pub const ADMIN_USERS: &str = "/admin/users";
    /// Admin API: one user, by `sub`.
    pub const ADMIN_USER: &str = "/admin/users/{sub}";
    /// Admin API: a user's password.
    pub const ADMIN_USER_PASSWORD: &str = "/admin/users/{sub}/password";
    /// Admin API: a user's second factors.
    pub const ADMIN_USER_FACTORS: &str = "/admin/users/{sub}/second-factors";
    /// Admin API: a user's live sessions.
    pub const ADMIN_USER_SESSIONS: &str = "/admin/users/{sub}/sessions";
    /// Admin API: one session of a user.
    pub const ADMIN_USER_SESSION: &str = "/admin/users/{sub}/sessions/{sid}";
    /// RFC 7517 JWK Set.
    pub const JWKS: &str = "/.well-known/jwks.json";
    /// OIDC Discovery 1.0 §4.
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    /// RFC 8414 §3.
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    /// Revokes every session of the bearer's user.
    pub const LOGOUT_ALL: &str = "/account/logout-all";
    /// The bearer's user's live sessions.
    pub const ACCOUNT_SESSIONS: &str = "/account/sessions";
    /// One session of the bearer's user.
    pub const ACCOUNT_SESSION: &str = "/account/sessions/{sid}";
    /// TOTP enrollment: start (POST) and disable (DELETE).
    pub const MFA_TOTP: &str = "/account/mfa/totp";
    /// TOTP enrollment: confirm.
    pub const MFA_TOTP_CONFIRM: &str = "/account/mfa/totp/confirm";
    /// Passkey registration: start (WebAuthn `PublicKeyCredentialCreationOptions`).
    pub const PASSKEYS_REGISTER_START: &str = "/account/passkeys/register/start";
    /// Passkey registration: finish.
    pub const PASSKEYS_REGISTER_FINISH: &str = "/account/passkeys/register/finish";
    /// The bearer's passkeys.
    pub const PASSKEYS: &str = "/account/passkeys";
    /// One passkey: rename (PATCH), remove (DELETE).
    pub const PASSKEY: &str = "/account/passkeys/{id}";
    /// The hosted account page.
    pub const ACCOUNT: &str = "/account";
    /// The account page's sign-in returns here (its client's redirect URI).
    pub const ACCOUNT_CALLBACK: &str = "/account/callback";
    /// The account page: sign in again for a change that needs a recent sign-in.
    pub const ACCOUNT_REAUTH: &str = "/account/reauth";
    /// The account page's script: passkey creation options (JSON).
    pub const ACCOUNT_PASSKEY_OPTIONS: &str = "/account/passkey/options";
    /// The account page: add a passkey.
    pub const ACCOUNT_PASSKEY_ADD: &str = "/account/passkey/add";
    /// The account page: rename a passkey.
    pub const ACCOUNT_PASSKEY_RENAME: &str = "/account/passkey/rename";
    /// The account page: remove a passkey.
    pub const ACCOUNT_PASSKEY_REMOVE: &str = "/account/passkey/remove";
    /// The account page: start TOTP set-up.
    pub const ACCOUNT_TOTP_START: &str = "/account/totp/start";
    /// The account page: confirm TOTP set-up.
    pub const ACCOUNT_TOTP_CONFIRM: &str = "/account/totp/confirm";
    /// The account page: remove TOTP.
    pub const ACCOUNT_TOTP_REMOVE: &str = "/account/totp/remove";
    /// The account page: new recovery codes.
    pub const ACCOUNT_RECOVERY_CODES: &str = "/account/recovery-codes";
    /// The account page: change the password.
    pub const ACCOUNT_PASSWORD: &str = "/account/password";
    /// The account page: sign out.
    pub const ACCOUNT_SIGN_OUT: &str = "/account/sign-out";
    /// The account page: end one session.
    pub const ACCOUNT_SESSION_END: &str = "/account/session/end";
    /// The account page: end every session of the user.
    pub const ACCOUNT_SIGN_OUT_EVERYWHERE: &str = "/account/sign-out-everywhere";
    /// Prometheus metrics.
    pub const METRICS: &str = "/metrics";
    /// Liveness.
    pub const HEALTHZ: &str = "/healthz";
    /// Readiness (store reachable).
    pub const READYZ: &str = "/readyz";
    /// The issuer's root: where the discovery document and the other endpoints are.
    pub const ROOT: &str = "/";

    /// Every route the app serves, as (constant name, method, path) — e.g. `("TOKEN", "POST",
    /// "/oauth2/token")` — read from [`super::RESOURCES`], the table [`super::configure`]
    /// registers; a CORS resource lists its `OPTIONS` preflight after its methods. The
    /// integration tests check these against `openapi.yaml`. `HEAD`, served wherever `GET` is
    /// (RFC 9110 §9.3.2), is not listed.
    pub fn all() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
        super::RESOURCES.iter().flat_map(|resource| {
            resource
                .methods
                .iter()
                .map(|endpoint| endpoint.method.as_str())
                .chain(resource.cors.then_some(super::Method::OPTIONS.as_str()))
                .map(move |method| (resource.name, method, resource.path))
        })
    }
}

/// One path and what the app serves there. It is registered as one actix resource, so a wrong
/// method gets 405 with `Allow` (RFC 9110 §15.5.6) rather than 404.
pub struct Resource {
    /// The name of the path's constant in [`paths`] (e.g. `"TOKEN"`).
    pub name: &'static str,
    /// The path pattern, e.g. `/admin/clients/{client_id}`.
    pub path: &'static str,
    /// Whether single-page apps call it cross-origin: responses go through
    /// `cors::with_cors` (Fetch standard CORS for the origins public clients registered) and
    /// `OPTIONS` is answered by `cors::preflight`.
    pub cors: bool,
    /// Whether it takes DPoP proofs (RFC 9449): with `dpop_nonce_required` on, its responses
    /// carry the next `DPoP-Nonce` (§8.2, `dpop_nonce::with_dpop_nonce`).
    pub dpop: bool,
    /// Its methods and their handlers.
    pub methods: &'static [Endpoint],
}

/// A method of a [`Resource`] and its handler.
pub struct Endpoint {
    /// The HTTP method.
    pub method: Method,
    /// The route serving it, without its method guard (added by [`configure`]).
    route: fn() -> Route,
}

/// `resource!(NAME, cors, [dpop: true,] [METHOD => handler, ...])`: the resource at
/// `paths::NAME`, so the listed name is always the constant's; `dpop` defaults to false.
macro_rules! resource {
    ($name:ident, cors: $cors:expr, [$($method:ident => $handler:path),+ $(,)?]) => {
        resource!($name, cors: $cors, dpop: false, [$($method => $handler),+])
    };
    ($name:ident, cors: $cors:expr, dpop: $dpop:expr,
     [$($method:ident => $handler:path),+ $(,)?]) => {
        Resource {
            name: stringify!($name),
            path: paths::$name,
            cors: $cors,
            dpop: $dpop,
            methods: &[$(Endpoint {
                method: Method::$method,
                route: || web::route().to($handler),
            }),+],
        }
    };
}

/// Every resource, in matching order: routes are tried in order, so the hot paths (JWKS,
/// token, introspection) come first and the patterns with parameters (admin) last.
pub const RESOURCES: &[Resource] = &[
    resource!(JWKS, cors: false, [GET => discovery::jwks]),
    resource!(TOKEN, cors: true, dpop: true, [POST => token::token]),
    resource!(INTROSPECT, cors: false, [POST => introspect::introspect]),
    resource!(REVOKE, cors: true, [POST => revoke::revoke]),
    resource!(USERINFO, cors: true, dpop: true, [GET => userinfo::userinfo, POST => userinfo::userinfo]),
    resource!(OPENID_CONFIGURATION, cors: false, [GET => discovery::metadata]),
    resource!(OAUTH_METADATA, cors: false, [GET => discovery::metadata]),
    resource!(AUTHORIZE, cors: false, [
        GET => authorize::authorize,
        POST => authorize::authorize_form,
    ]),
    resource!(PAR, cors: false, dpop: true, [POST => authorize::par]),
    resource!(AUTHORIZE_LOGIN, cors: false, [POST => authorize::login]),
    resource!(AUTHORIZE_MFA, cors: false, [POST => authorize::mfa]),
    resource!(AUTHORIZE_CONSENT, cors: false, [POST => authorize::consent]),
    resource!(AUTHORIZE_PASSKEY_OPTIONS, cors: false, [POST => passkey_login::options]),
    resource!(AUTHORIZE_PASSKEY, cors: false, [POST => passkey_login::login]),
    resource!(LOGOUT, cors: false, [
        GET => authorize::logout_query,
        POST => authorize::logout_form,
    ]),
    resource!(DEVICE_AUTHORIZATION, cors: false, [POST => device::device_authorization]),
    resource!(DEVICE, cors: false, [GET => device::device_page, POST => device::device_code_form]),
    resource!(DEVICE_APPROVE, cors: false, [POST => device::approve]),
    resource!(STYLESHEET, cors: false, [GET => assets::stylesheet]),
    resource!(PASSKEY_SCRIPT, cors: false, [GET => assets::passkey_script]),
    resource!(THEME_STYLESHEET, cors: false, [GET => assets::theme_stylesheet]),
    resource!(LOGO, cors: false, [GET => assets::logo]),
    resource!(LOGOUT_ALL, cors: false, dpop: true, [POST => account::logout_all]),
    resource!(MFA_TOTP, cors: false, dpop: true, [
        POST => account::start_totp,
        DELETE => account::disable_totp,
    ]),
    resource!(MFA_TOTP_CONFIRM, cors: false, dpop: true, [POST => account::confirm_totp]),
    resource!(ACCOUNT_SESSIONS, cors: false, dpop: true, [GET => session_list::account_list]),
    resource!(ACCOUNT_SESSION, cors: false, dpop: true, [DELETE => session_list::account_end]),
    resource!(PASSKEYS_REGISTER_START, cors: false, dpop: true, [POST => passkeys::register_start]),
    resource!(PASSKEYS_REGISTER_FINISH, cors: false, dpop: true, [POST => passkeys::register_finish]),
    resource!(PASSKEYS, cors: false, dpop: true, [GET => passkeys::list]),
    resource!(PASSKEY, cors: false, dpop: true, [
        PATCH => passkeys::rename,
        DELETE => passkeys::remove,
    ]),
    resource!(ACCOUNT, cors: false, [GET => account_page::account_page]),
    resource!(ACCOUNT_CALLBACK, cors: false, [GET => account_page::callback]),
    resource!(ACCOUNT_REAUTH, cors: false, [GET => account_page::reauth]),
    resource!(ACCOUNT_PASSKEY_OPTIONS, cors: false, [POST => account_forms::passkey_options]),
    resource!(ACCOUNT_PASSKEY_ADD, cors: false, [POST => account_forms::passkey_add]),
    resource!(ACCOUNT_PASSKEY_RENAME, cors: false, [POST => account_forms::passkey_rename]),
    resource!(ACCOUNT_PASSKEY_REMOVE, cors: false, [POST => account_forms::passkey_remove]),
    resource!(ACCOUNT_TOTP_START, cors: false, [POST => account_forms::totp_start]),
    resource!(ACCOUNT_TOTP_CONFIRM, cors: false, [POST => account_forms::totp_confirm]),
    resource!(ACCOUNT_TOTP_REMOVE, cors: false, [POST => account_forms::totp_remove]),
    resource!(ACCOUNT_RECOVERY_CODES, cors: false, [POST => account_forms::recovery_codes]),
    resource!(ACCOUNT_PASSWORD, cors: false, [POST => account_forms::password]),
    resource!(ACCOUNT_SIGN_OUT, cors: false, [POST => account_forms::sign_out]),
    resource!(ACCOUNT_SESSION_END, cors: false, [POST => account_sessions::end]),
    resource!(ACCOUNT_SIGN_OUT_EVERYWHERE, cors: false, [POST => account_sessions::everywhere]),
    resource!(METRICS, cors: false, [GET => metrics::metrics]),
    resource!(HEALTHZ, cors: false, [GET => health::healthz]),
    resource!(READYZ, cors: false, [GET => health::readyz]),
    resource!(ROOT, cors: false, [GET => discovery::root]),
    resource!(ADMIN_CLIENTS, cors: false, dpop: true, [GET => admin::list, POST => admin::create]),
    resource!(ADMIN_CLIENT, cors: false, dpop: true, [GET => admin::get, DELETE => admin::remove]),
    resource!(ADMIN_CLIENT_SECRET, cors: false, dpop: true, [POST => admin::rotate_secret]),
    resource!(ADMIN_USERS, cors: false, dpop: true, [GET => admin_users::list, POST => admin_users::create]),
    resource!(ADMIN_USER, cors: false, dpop: true, [
        GET => admin_users::get,
        PATCH => admin_users::update,
        DELETE => admin_users::remove,
    ]),
    resource!(ADMIN_USER_PASSWORD, cors: false, dpop: true, [PUT => admin_users::set_password]),
    resource!(ADMIN_USER_FACTORS, cors: false, dpop: true, [DELETE => admin_users::reset_factors]),
    resource!(ADMIN_USER_SESSIONS, cors: false, dpop: true, [GET => session_list::admin_list]),
    resource!(ADMIN_USER_SESSION, cors: false, dpop: true, [DELETE => session_list::admin_end]),
];

/// Registers every resource of [`RESOURCES`], in order; a `GET` handler answers `HEAD` too
/// (RFC 9110 §9.3.2: the same header fields; actix sends no body for `HEAD`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    for resource in RESOURCES {
        let mut service = web::resource(resource.path);
        for endpoint in resource.methods {
            service = service.route((endpoint.route)().method(endpoint.method.clone()));
            if endpoint.method == Method::GET {
                service = service.route((endpoint.route)().method(Method::HEAD));
            }
        }
        match (resource.cors, resource.dpop) {
            (true, true) => cfg.service(
                service
                    .route(web::method(Method::OPTIONS).to(cors::preflight))
                    .wrap_fn(cors::with_cors)
                    .wrap_fn(dpop_nonce::with_dpop_nonce),
            ),
            (true, false) => cfg.service(
                service
                    .route(web::method(Method::OPTIONS).to(cors::preflight))
                    .wrap_fn(cors::with_cors),
            ),
            (false, true) => cfg.service(service.wrap_fn(dpop_nonce::with_dpop_nonce)),
            (false, false) => cfg.service(service),
        };
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use actix_web::http::{header, StatusCode};
    use actix_web::test::{call_service, init_service, TestRequest};
    use actix_web::App;

    use super::*;

    #[test]
    fn every_path_and_route_is_listed_once() {
        let mut paths = HashSet::new();
        for resource in RESOURCES {
            assert!(paths.insert(resource.path), "{} twice", resource.name);
            assert!(
                !resource.methods.is_empty(),
                "{} has no method",
                resource.name
            );
        }
        let routes: Vec<_> = paths::all().collect();
        let unique: HashSet<_> = routes.iter().collect();
        assert_eq!(unique.len(), routes.len(), "a route is listed twice");
        assert!(routes.contains(&("TOKEN", "OPTIONS", paths::TOKEN)));
        assert!(routes.contains(&("ADMIN_CLIENT", "DELETE", paths::ADMIN_CLIENT)));
    }

    /// What [`paths::all`] lists is what [`configure`] serves: each listed route is routed
    /// (neither 404 nor 405; without application state the handlers themselves fail), and a
    /// method not listed for a path gets 405 with `Allow`.
    #[actix_web::test]
    async fn configure_serves_the_listed_routes() {
        let app = init_service(App::new().configure(configure)).await;
        for (name, method, path) in paths::all() {
            let uri = path
                .replace("{client_id}", "example")
                .replace("{sub}", "example")
                .replace("{id}", "example");
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let request = TestRequest::default()
                .method(method.clone())
                .uri(&uri)
                .to_request();
            let status = call_service(&app, request).await.status();
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} ({name}) -> {status}"
            );
        }
        for (name, _, path) in paths::all().filter(|(_, method, _)| *method == "GET") {
            let uri = path
                .replace("{client_id}", "example")
                .replace("{sub}", "example");
            let request = TestRequest::default()
                .method(Method::HEAD)
                .uri(&uri)
                .to_request();
            let status = call_service(&app, request).await.status();
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "HEAD {path} ({name}) -> {status}"
            );
        }
        let request = TestRequest::get().uri(paths::TOKEN).to_request();
        let response = call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        let allow = response
            .headers()
            .get(header::ALLOW)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            allow.contains("POST") && allow.contains("OPTIONS"),
            "{allow}"
        );
        let request = TestRequest::get().uri("/nowhere").to_request();
        assert_eq!(
            call_service(&app, request).await.status(),
            StatusCode::NOT_FOUND
        );
    }
}
