//! The one check of a client's registration metadata ([`check_policy`]), run by
//! `clients::build_client` for every way a client is registered: `tessera client add`,
//! `POST /admin/clients`, the configuration file's `[[clients]]` and the server's own clients.
//! A refusal ([`MetadataError`]) names the member (or, for the CLI, the flag), the offending
//! value (quoted, sanitized) and what to do instead.

use serde::{Deserialize, Deserializer};

use crate::error::quoted;
use crate::store::ClientPolicy;

/// A registration member a check can refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// `grant_types` (`--grant-type`).
    GrantTypes,
    /// `scopes` (`--scope`).
    Scopes,
    /// `redirect_uris` (`--redirect-uri`).
    RedirectUris,
    /// `post_logout_redirect_uris` (`--post-logout-redirect-uri`).
    PostLogoutRedirectUris,
    /// `backchannel_logout_uri` (`--backchannel-logout-uri`).
    BackchannelLogoutUri,
    /// `allowed_origins` (`--allowed-origin`).
    AllowedOrigins,
    /// `client_name` (`--client-name`).
    ClientName,
    /// `logo_uri` (`--logo-uri`).
    LogoUri,
    /// `client_uri` (`--client-uri`).
    ClientUri,
    /// `policy_uri` (`--policy-uri`).
    PolicyUri,
    /// `tos_uri` (`--tos-uri`).
    TosUri,
}

impl Member {
    /// The member's name in the admin API's JSON and the configuration file.
    pub fn name(self) -> &'static str {
        match self {
            Self::GrantTypes => "grant_types",
            Self::Scopes => "scopes",
            Self::RedirectUris => "redirect_uris",
            Self::PostLogoutRedirectUris => "post_logout_redirect_uris",
            Self::BackchannelLogoutUri => "backchannel_logout_uri",
            Self::AllowedOrigins => "allowed_origins",
            Self::ClientName => "client_name",
            Self::LogoUri => "logo_uri",
            Self::ClientUri => "client_uri",
            Self::PolicyUri => "policy_uri",
            Self::TosUri => "tos_uri",
        }
    }

    /// The `tessera client add` flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            Self::GrantTypes => "--grant-type",
            Self::Scopes => "--scope",
            Self::RedirectUris => "--redirect-uri",
            Self::PostLogoutRedirectUris => "--post-logout-redirect-uri",
            Self::BackchannelLogoutUri => "--backchannel-logout-uri",
            Self::AllowedOrigins => "--allowed-origin",
            Self::ClientName => "--client-name",
            Self::LogoUri => "--logo-uri",
            Self::ClientUri => "--client-uri",
            Self::PolicyUri => "--policy-uri",
            Self::TosUri => "--tos-uri",
        }
    }
}

/// A refused registration value: which member, the value as quoted (sanitized, at most 40
/// characters: [`quoted`]), and why. The text names the member; [`MetadataError::for_cli`]
/// names the flag instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {value}: {why}", member.name())]
pub struct MetadataError {
    /// The member refused.
    pub member: Member,
    /// The value, quoted and sanitized.
    value: String,
    /// Why, and what to do instead.
    why: &'static str,
}

impl MetadataError {
    fn new(member: Member, value: &str, why: &'static str) -> Self {
        Self {
            member,
            value: quoted(value),
            why,
        }
    }

    /// The same words naming the command-line flag (`--redirect-uri ...`).
    pub fn for_cli(&self) -> String {
        format!("{} {}: {}", self.member.flag(), self.value, self.why)
    }

    /// The RFC 7591 §3.2.2 error code: `invalid_redirect_uri` for a redirect URI (and a
    /// post-logout one), `invalid_client_metadata` otherwise.
    pub fn code(&self) -> &'static str {
        match self.member {
            Member::RedirectUris | Member::PostLogoutRedirectUris => "invalid_redirect_uri",
            _ => "invalid_client_metadata",
        }
    }
}

/// Refuses an explicit `"client_secret": null` (a registration either gives a secret or leaves
/// the member out to have one generated; a `null` is a mistake, never silently a generated
/// secret). For `#[serde(deserialize_with)]` with `#[serde(default)]`, so an absent member is
/// still `None`.
///
/// # Errors
/// A serde error naming `client_secret`.
pub fn present_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(secret) => Ok(Some(secret)),
        None => Err(serde::de::Error::custom(
            "client_secret must not be null: give a secret, or leave the member out to have one generated",
        )),
    }
}

/// RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub(crate) fn scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// RFC 8252 §7.3: the loopback hosts `http` is allowed for.
fn loopback(url: &url::Url) -> bool {
    matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

/// RFC 8252 §7.1: a private-use scheme in reverse domain name form (`com.example.app`): at
/// least two dot-separated labels, none empty (the URL parser already limits the characters).
fn reverse_domain(scheme: &str) -> bool {
    scheme.split('.').count() >= 2 && scheme.split('.').all(|label| !label.is_empty())
}

/// What to use instead of a refused redirect URI scheme.
const USE_INSTEAD: &str = "use https, http on a loopback address (127.0.0.1, [::1], localhost; RFC 8252 §7.3) or a private-use scheme of reverse-domain form such as com.example.app:/cb (RFC 8252 §7.1)";

/// A redirect or post-logout redirect URI (RFC 6749 §3.1.2: absolute, no fragment; RFC 9700
/// §2.1 and RFC 8252 §7.1, §7.3 for the schemes).
fn check_redirect_uri(member: Member, uri: &str) -> Result<(), MetadataError> {
    let refuse = |why| Err(MetadataError::new(member, uri, why));
    let Ok(url) = url::Url::parse(uri) else {
        return refuse("not an absolute URI");
    };
    if url.fragment().is_some() {
        return refuse("must not contain a fragment (RFC 6749 §3.1.2)");
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback(&url) => Ok(()),
        "http" => refuse("http is only for loopback addresses (127.0.0.1, [::1], localhost): use https"),
        // Schemes that run code or read local data in the browser, refused by name.
        "file" | "javascript" | "vbscript" | "data" | "blob" => refuse(
            "this scheme is refused (it runs code or reads local data in the browser); use https, http on a loopback address or a private-use scheme such as com.example.app:/cb",
        ),
        scheme if reverse_domain(scheme) => Ok(()),
        _ => refuse(USE_INSTEAD),
    }
}

/// The longest `client_name`, in characters, and the longest display URI, in bytes.
const MAX_CLIENT_NAME: usize = 100;
const MAX_DISPLAY_URI: usize = 2048;

/// The display metadata of OIDC Dynamic Client Registration 1.0 §2 the hosted pages show:
/// `client_name` (1 to [`MAX_CLIENT_NAME`] characters, no control characters), `logo_uri`
/// (`https` only: the page loads it, so never from plain http) and `client_uri`, `policy_uri`,
/// `tos_uri` (links: `https`, or `http` on a loopback address for development).
fn check_display(policy: &ClientPolicy) -> Result<(), MetadataError> {
    if let Some(name) = &policy.client_name {
        let length = name.chars().count();
        if name.trim().is_empty() || length > MAX_CLIENT_NAME || name.chars().any(char::is_control)
        {
            return Err(MetadataError::new(
                Member::ClientName,
                name,
                "must be 1 to 100 characters without control characters",
            ));
        }
    }
    let links = [
        (Member::LogoUri, &policy.logo_uri),
        (Member::ClientUri, &policy.client_uri),
        (Member::PolicyUri, &policy.policy_uri),
        (Member::TosUri, &policy.tos_uri),
    ];
    for (member, uri) in links {
        let Some(uri) = uri else { continue };
        let url = url::Url::parse(uri).ok().filter(|u| u.host().is_some());
        let ok = uri.len() <= MAX_DISPLAY_URI
            && url.is_some_and(|u| {
                u.scheme() == "https"
                    || member != Member::LogoUri && u.scheme() == "http" && loopback(&u)
            });
        if !ok {
            let why = if member == Member::LogoUri {
                "use an absolute https URL of at most 2048 bytes (the page loads the logo, so never over plain http)"
            } else {
                "use an absolute https URL of at most 2048 bytes (http only for loopback addresses)"
            };
            return Err(MetadataError::new(member, uri, why));
        }
    }
    Ok(())
}

/// Checks a registration's policy: grant types listed once, scopes that are RFC 6749 §3.3
/// scope-tokens, redirect and post-logout redirect URIs ([`check_redirect_uri`]), the
/// back-channel logout URI, the CORS origins and the display metadata ([`check_display`]).
///
/// # Errors
/// The first [`MetadataError`] found.
pub fn check_policy(policy: &ClientPolicy) -> Result<(), MetadataError> {
    for (i, grant) in policy.grant_types.iter().enumerate() {
        if policy.grant_types[..i].contains(grant) {
            return Err(MetadataError::new(
                Member::GrantTypes,
                grant,
                "is listed twice: list each grant type once",
            ));
        }
    }
    if let Some(scope) = policy.scopes.iter().find(|s| !scope_token(s)) {
        let why = if scope.is_empty() {
            "is empty: every scope needs at least one character"
        } else {
            "has a space, a control character, `\"`, `\\` or a character outside ASCII: a scope is printable ASCII without those (RFC 6749 §3.3 scope-token)"
        };
        return Err(MetadataError::new(Member::Scopes, scope, why));
    }
    for uri in &policy.redirect_uris {
        check_redirect_uri(Member::RedirectUris, uri)?;
    }
    for uri in &policy.post_logout_redirect_uris {
        check_redirect_uri(Member::PostLogoutRedirectUris, uri)?;
    }
    // OIDC Back-Channel Logout 1.0 §2.2: an absolute URL, no fragment.
    if let Some(uri) = &policy.backchannel_logout_uri {
        let ok = url::Url::parse(uri).ok().is_some_and(|u| {
            u.fragment().is_none()
                && (u.scheme() == "https" || u.scheme() == "http" && loopback(&u))
        });
        if !ok {
            return Err(MetadataError::new(
                Member::BackchannelLogoutUri,
                uri,
                "use an https URL without fragment (http only for loopback addresses)",
            ));
        }
    }
    for origin in &policy.allowed_origins {
        let ok = url::Url::parse(origin)
            .ok()
            .is_some_and(|u| u.origin().ascii_serialization() == *origin);
        if !ok {
            return Err(MetadataError::new(
                Member::AllowedOrigins,
                origin,
                "must be scheme://host[:port] with no path",
            ));
        }
    }
    check_display(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect(uri: &str) -> Result<(), MetadataError> {
        check_redirect_uri(Member::RedirectUris, uri)
    }

    #[test]
    fn redirect_uris_are_https_loopback_http_or_reverse_domain_schemes() {
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1:8400/cb",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(redirect(ok), Ok(()), "{ok}");
        }
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "vbscript:msgbox",
            "data:text/html,x",
            "myapp:/cb",
            "com.:/cb",
            "http://app.example/cb",
            "https://app.example/cb#x",
            "/cb",
        ] {
            let e = redirect(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_redirect_uri");
            assert!(e.to_string().starts_with("redirect_uris `"), "{e}");
        }
    }

    #[test]
    fn scopes_are_scope_tokens_and_grant_types_are_listed_once() {
        let policy = |grants: &[&str], scopes: &[&str]| ClientPolicy {
            grant_types: grants.iter().map(|s| s.to_string()).collect(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..ClientPolicy::default()
        };
        assert_eq!(
            check_policy(&policy(&["password"], &["openid", "a:b/c"])),
            Ok(())
        );
        for bad in ["", "a b", "a\u{1}", "caf\u{e9}", "a\"b", "a\\b"] {
            let e = check_policy(&policy(&["password"], &[bad])).unwrap_err();
            assert_eq!(
                (e.member, e.code()),
                (Member::Scopes, "invalid_client_metadata")
            );
        }
        let e = check_policy(&policy(&["password", "password"], &[])).unwrap_err();
        assert_eq!(
            e.for_cli(),
            "--grant-type `password`: is listed twice: list each grant type once"
        );
    }

    #[test]
    fn display_metadata_logo_is_https_only_and_links_allow_loopback_http() {
        let display = |name: Option<&str>, logo: Option<&str>, tos: Option<&str>| ClientPolicy {
            client_name: name.map(str::to_owned),
            logo_uri: logo.map(str::to_owned),
            tos_uri: tos.map(str::to_owned),
            ..ClientPolicy::default()
        };
        let ok = display(
            Some("Acme Mail"),
            Some("https://cdn.acme.example/logo.png"),
            Some("http://127.0.0.1:3000/terms"),
        );
        assert_eq!(check_policy(&ok), Ok(()));
        for (policy, member) in [
            (
                display(None, Some("http://127.0.0.1/logo.png"), None),
                Member::LogoUri,
            ),
            (
                display(None, Some("data:image/png;base64,AAAA"), None),
                Member::LogoUri,
            ),
            (display(None, Some("/logo.png"), None), Member::LogoUri),
            (
                display(None, None, Some("http://acme.example/terms")),
                Member::TosUri,
            ),
            (
                display(None, None, Some("javascript:alert(1)")),
                Member::TosUri,
            ),
            (display(Some(" "), None, None), Member::ClientName),
            (display(Some("a\u{7}b"), None, None), Member::ClientName),
            (
                display(Some(&"x".repeat(101)), None, None),
                Member::ClientName,
            ),
        ] {
            let e = check_policy(&policy).unwrap_err();
            assert_eq!(
                (e.member, e.code()),
                (member, "invalid_client_metadata"),
                "{e}"
            );
        }
    }
}
