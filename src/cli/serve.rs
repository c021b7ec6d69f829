//! `tessera serve [--dev]`: the HTTP server; with `--dev`, an in-memory store, development
//! keys kept apart from production's, and a demo user and clients printed once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use tessera::config::Settings;
use tessera::keys::rotation::{self, RotationError};
use tessera::keys::{KeyError, KeySet};
use tessera::store::ClientPolicy;
use tessera::{clients, open_store, users, Application};

/// The subdirectory of `keys_dir` holding `--dev`'s generated keys. A production `serve` loads
/// only the `*.pem` files of `keys_dir` itself, so a development key never signs there.
pub const DEV_KEYS: &str = "dev";

/// The loopback redirect URI of the demo browser client (RFC 8252 §7.3). Nothing listens there:
/// the person reads the code from the browser's address bar.
pub const DEMO_REDIRECT: &str = "http://127.0.0.1:8400/callback";

/// The development keys' directory under `keys_dir`.
fn dev_keys(keys_dir: &Path) -> PathBuf {
    keys_dir.join(DEV_KEYS)
}

/// Runs the server until it is stopped.
///
/// # Errors
/// One line naming what failed (store, keys, data key, bind).
pub async fn run(settings: Settings, dev: bool) -> Result<(), String> {
    let store = open_store(&settings, dev)
        .await
        .map_err(|e| e.to_string())?;
    let keys = if dev {
        KeySet::load_or_generate(&dev_keys(&settings.keys_dir)).map_err(|e| e.to_string())?
    } else {
        rotation::load(&store, &settings.keys_dir, &settings.rotation)
            .await
            .map_err(|e| match e {
                RotationError::Key(KeyError::Empty(dir)) if dev_keys(&dir).is_dir() => format!(
                    "no signing key in {}; the keys in {} are `serve --dev`'s and are never used \
                     outside --dev: run `tessera keys generate` for production keys",
                    dir.display(),
                    dev_keys(&dir).display()
                ),
                e => e.to_string(),
            })?
    };
    let listen = settings.listen;
    let issuer = settings.issuer.clone();
    let mut settings = settings;
    if dev {
        if settings.data_key.is_none() {
            settings.data_key = Some(Arc::new(tessera::datakey::DataKey::generate()));
        }
        // Plain http on localhost: browsers drop `Secure` cookies there.
        settings.cookie_secure = false;
        // The key refresher and the admin API's key checks read the dev keys too.
        settings.keys_dir = dev_keys(&settings.keys_dir);
    }
    let app = Application::build(settings, store, Arc::new(keys))
        .await
        .map_err(|e| e.to_string())?;
    if dev {
        seed_demo(&app).await?;
    }
    tracing::info!(%listen, %issuer, dev, "tessera listening");
    app.run().await.map_err(|e| e.to_string())
}

/// `--dev`: a demo user with a random password, a public client for the password and device
/// grants and the browser flow (loopback redirect), printed once with an authorization URL a
/// person can open and the curl command that exchanges its code.
async fn seed_demo(app: &Application) -> Result<(), String> {
    let state = app.state();
    let password = tessera::secret::random_token()[..16].to_owned();
    users::add_user(
        &state.store,
        &state.hasher,
        "demo",
        Some("demo@example.test".into()),
        Some(&password),
    )
    .await
    .map_err(|e| e.to_string())?;
    let demo = clients::Registration {
        client_id: "demo-app".into(),
        public: true,
        policy: ClientPolicy {
            grant_types: vec![
                "password".into(),
                "refresh_token".into(),
                "authorization_code".into(),
                tessera::device::DEVICE_CODE_GRANT.into(),
            ],
            scopes: ["openid", "profile", "email", "offline_access"]
                .map(String::from)
                .to_vec(),
            redirect_uris: vec![DEMO_REDIRECT.into()],
            ..ClientPolicy::default()
        },
        ..clients::Registration::default()
    };
    clients::add_client(&state.store, demo)
        .await
        .map_err(|e| e.to_string())?;
    // RFC 7636 §4.1–4.2: a verifier and its S256 challenge for the printed URL.
    let verifier = tessera::secret::random_token();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let settings = &state.settings;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", "demo-app")
        .append_pair("redirect_uri", DEMO_REDIRECT)
        .append_pair("scope", "openid profile email")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "demo")
        .finish();
    let authorize = settings.endpoint("/oauth2/authorize");
    let token = settings.endpoint("/oauth2/token");
    println!("tessera --dev: in-memory store; nothing is kept after exit.");
    println!("  issuer:   {}", settings.issuer);
    println!("  user:     demo");
    println!("  password: {password}");
    println!("  client:   demo-app (public)");
    println!("  sign in in a browser (then copy `code` from the address bar of {DEMO_REDIRECT}):");
    println!("    {authorize}?{query}");
    println!("  exchange the code:");
    println!(
        "    curl -s {token} -d grant_type=authorization_code -d client_id=demo-app \
         -d redirect_uri={DEMO_REDIRECT} -d code_verifier={verifier} -d code=CODE"
    );
    Ok(())
}
