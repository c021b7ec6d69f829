//! The WebAuthn relying party (WebAuthn L3 §5.1.3, §13.4.9), validated at start-up: RP ID,
//! allowed origins and name. The RP ID defaults to the issuer's host and the origins to the
//! issuer's origin; an issuer on an IP address has no RP ID (browsers refuse IP addresses as
//! RP IDs), so passkeys are off there unless `webauthn_rp_id` names a domain.

use std::sync::Arc;

use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use super::{in_range, invalid, ConfigError, RawSettings};

/// The relying party, when passkeys are on. `Debug` shows the RP ID and origins.
#[derive(Clone)]
pub struct RelyingParty {
    /// The `webauthn-rs` relying party.
    pub webauthn: Arc<Webauthn>,
    /// The RP ID (a domain, WebAuthn L3 §5.1.3 `rp.id`).
    pub rp_id: String,
    /// The allowed origins (WebAuthn L3 §7.1 step 9).
    pub origins: Vec<String>,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("rp_id", &self.rp_id)
            .field("origins", &self.origins)
            .finish()
    }
}

const ORIGINS: (&str, &str) = ("webauthn_origins", "TESSERA_WEBAUTHN_ORIGINS");
const RP_ID: (&str, &str) = ("webauthn_rp_id", "TESSERA_WEBAUTHN_RP_ID");

/// Plain http only where the issuer may be http: loopback hosts.
fn loopback(url: &Url) -> bool {
    matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

impl RawSettings {
    /// The relying party (`None`: passkeys off, see the module docs) and the
    /// `passkey_reauth_max_age` (seconds).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the key: an origin that is not an https origin (http
    /// only on loopback), an RP ID that is not a domain or not the origins' registrable
    /// suffix, an empty RP name, or a max age out of range.
    pub(super) fn relying_party(&self) -> Result<(Option<RelyingParty>, u64), ConfigError> {
        let reauth = in_range(
            "passkey_reauth_max_age",
            "TESSERA_PASSKEY_REAUTH_MAX_AGE",
            self.passkey_reauth_max_age,
            30..=3600,
            "seconds",
        )?;
        if self.webauthn_rp_name.trim().is_empty() {
            return Err(invalid(
                "webauthn_rp_name",
                "TESSERA_WEBAUTHN_RP_NAME",
                "must not be empty",
            ));
        }
        let configured: Vec<&str> = self
            .webauthn_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .collect();
        let issuer = Url::parse(&self.issuer).ok();
        let mut origins = Vec::new();
        for origin in &configured {
            let url = Url::parse(origin)
                .map_err(|e| invalid(ORIGINS.0, ORIGINS.1, format!("`{origin}`: {e}")))?;
            let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
            if !bare || !(url.scheme() == "https" || (url.scheme() == "http" && loopback(&url))) {
                return Err(invalid(
                    ORIGINS.0,
                    ORIGINS.1,
                    format!("`{origin}` must be an origin (scheme, host, port) with https; http only for localhost, 127.0.0.1 or [::1]"),
                ));
            }
            origins.push(url);
        }
        if origins.is_empty() {
            origins.extend(issuer.clone().map(|mut u| {
                u.set_path("/");
                u
            }));
        }
        let rp_id = match self.webauthn_rp_id.as_deref().filter(|s| !s.is_empty()) {
            Some(id) => id.to_owned(),
            // An IP address is no RP ID (WebAuthn L3 §5.1.3: a valid domain string).
            None => match issuer.as_ref().and_then(Url::domain) {
                Some(domain) => domain.to_owned(),
                None => return Ok((None, reauth)),
            },
        };
        let (first, rest) = origins.split_first().ok_or_else(|| {
            invalid(
                ORIGINS.0,
                ORIGINS.1,
                "no origin: set the issuer or this key",
            )
        })?;
        let suffix = format!("RP ID `{rp_id}` must be a domain that is each origin's host or a suffix of it (WebAuthn L3 §5.1.3)");
        let mut builder =
            WebauthnBuilder::new(&rp_id, first).map_err(|_| invalid(RP_ID.0, RP_ID.1, &*suffix))?;
        for origin in rest {
            let host_ok = origin
                .domain()
                .is_some_and(|d| d == rp_id || d.ends_with(&format!(".{rp_id}")));
            if !host_ok {
                return Err(invalid(RP_ID.0, RP_ID.1, suffix));
            }
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder
            .rp_name(self.webauthn_rp_name.trim())
            .build()
            .map_err(|e| invalid(RP_ID.0, RP_ID.1, e.to_string()))?;
        let origins = origins
            .iter()
            .map(|o| o.origin().ascii_serialization())
            .collect();
        let rp = RelyingParty {
            webauthn: Arc::new(webauthn),
            rp_id,
            origins,
        };
        Ok((Some(rp), reauth))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(issuer: &str) -> RawSettings {
        RawSettings {
            issuer: issuer.into(),
            ..RawSettings::default()
        }
    }

    #[test]
    fn the_issuer_is_the_relying_party_by_default() {
        let (rp, age) = raw("https://id.example.com").relying_party().unwrap();
        let rp = rp.unwrap();
        assert_eq!(rp.rp_id, "id.example.com");
        assert_eq!(rp.origins, ["https://id.example.com"]);
        assert_eq!(age, 300);
        assert!(raw("http://127.0.0.1:8080")
            .relying_party()
            .unwrap()
            .0
            .is_none());
    }

    #[test]
    fn bad_relying_parties_name_the_key() {
        let mut r = raw("https://id.example.com");
        r.webauthn_rp_id = Some("other.example".into());
        let e = r.relying_party().unwrap_err().to_string();
        assert!(e.contains("webauthn_rp_id"), "{e}");
        let mut r = raw("https://id.example.com");
        r.webauthn_origins = "http://id.example.com".into();
        let e = r.relying_party().unwrap_err().to_string();
        assert!(e.contains("webauthn_origins") && e.contains("https"), "{e}");
        let mut r = raw("https://id.example.com");
        r.webauthn_rp_id = Some("example.com".into());
        r.webauthn_origins = "https://id.example.com, https://evil.test".into();
        let e = r.relying_party().unwrap_err().to_string();
        assert!(e.contains("webauthn_rp_id"), "{e}");
        let mut r = raw("http://localhost:8080");
        r.passkey_reauth_max_age = 5;
        let e = r.relying_party().unwrap_err().to_string();
        assert!(e.contains("passkey_reauth_max_age"), "{e}");
        let mut r = raw("http://localhost:8080");
        r.webauthn_origins = "http://localhost:8080".into();
        assert_eq!(r.relying_party().unwrap().0.unwrap().rp_id, "localhost");
    }
}
