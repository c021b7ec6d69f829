//! Scopes in words for the consent and device approval pages (OIDC Core §3.1.2.4: the user is
//! told what the client asks for). A scope's description is, in this order: the operator's
//! (setting `scope_descriptions`), the catalogue's message `scope-<scope>` (built in for
//! `openid`, `profile`, `email`, `offline_access`; a `locales_dir` may add more), or none (the
//! page then shows the scope itself).

use std::collections::BTreeMap;
use std::sync::Arc;

use fluent_langneg::{negotiate_languages, NegotiationStrategy};
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

use super::catalogue::Catalogue;
use super::{Setting, UiError};

/// The longest description, in characters.
const MAX_DESCRIPTION: usize = 200;

/// An operator's description of a scope: one text for every language
/// (`"orders:read" = "Read your orders"`), or one per BCP 47 language tag
/// (`"orders:read" = { en = "Read your orders", de = "Ihre Bestellungen lesen" }`; a page in
/// another language gets English, else the first listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a text, or a table of language tag = text (e.g. { en = \"See your orders\" })"
)]
pub enum ScopeDescription {
    /// One text for every language.
    Text(String),
    /// Texts by language tag.
    ByLanguage(BTreeMap<String, String>),
}

/// One configured scope: its texts with their parsed tags (`None` for "every language").
struct Texts(Vec<(Option<LanguageIdentifier>, String)>);

/// Finds a scope's description in a page's language.
pub(super) struct Describer {
    configured: BTreeMap<String, Texts>,
    catalogue: Arc<Catalogue>,
}

fn refuse(scope: &str, problem: &str) -> UiError {
    Setting::SCOPE_DESCRIPTIONS.refused(format!("scope `{scope}`: {problem}"))
}

fn text(scope: &str, text: &str) -> Result<String, UiError> {
    let length = text.chars().count();
    if text.trim().is_empty() || length > MAX_DESCRIPTION || text.chars().any(char::is_control) {
        return Err(refuse(
            scope,
            "a description is 1 to 200 characters without control characters",
        ));
    }
    Ok(text.to_owned())
}

impl Describer {
    /// Checks the configured descriptions: texts of 1 to 200 characters, keys that are
    /// language tags.
    pub(super) fn new(
        configured: &BTreeMap<String, ScopeDescription>,
        catalogue: Arc<Catalogue>,
    ) -> Result<Self, UiError> {
        let mut checked = BTreeMap::new();
        for (scope, description) in configured {
            let texts = match description {
                ScopeDescription::Text(t) => vec![(None, text(scope, t)?)],
                ScopeDescription::ByLanguage(by_tag) if by_tag.is_empty() => {
                    return Err(refuse(scope, "give a text, or texts by language tag"))
                }
                ScopeDescription::ByLanguage(by_tag) => by_tag
                    .iter()
                    .map(|(tag, t)| {
                        let tag = tag.parse().map_err(|_| {
                            refuse(scope, &format!("`{tag}` is not a language tag (BCP 47)"))
                        })?;
                        Ok((Some(tag), text(scope, t)?))
                    })
                    .collect::<Result<_, UiError>>()?,
            };
            checked.insert(scope.clone(), Texts(texts));
        }
        Ok(Self {
            configured: checked,
            catalogue,
        })
    }

    /// The description of `scope` in language `index`, or `None` when it has none.
    pub(super) fn describe(&self, index: usize, scope: &str) -> Option<String> {
        let Some(Texts(texts)) = self.configured.get(scope) else {
            // Fluent message ids are `[A-Za-z][A-Za-z0-9_-]*`: other scopes have no message.
            let id_like = scope.starts_with(|c: char| c.is_ascii_alphabetic())
                && scope
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            return id_like
                .then(|| {
                    self.catalogue
                        .lookup(index, &format!("scope-{scope}"), None)
                })
                .flatten();
        };
        let page: Option<LanguageIdentifier> = self.catalogue.tag(index).parse().ok();
        let available: Vec<&LanguageIdentifier> =
            texts.iter().filter_map(|(tag, _)| tag.as_ref()).collect();
        let english: LanguageIdentifier = "en".parse().ok()?;
        let fallback = &english;
        let chosen = negotiate_languages(
            page.as_slice(),
            &available,
            Some(&fallback),
            NegotiationStrategy::Lookup,
        );
        let found = chosen
            .first()
            .and_then(|tag| texts.iter().find(|(t, _)| t.as_ref() == Some(**tag)));
        found.or(texts.first()).map(|(_, text)| text.clone())
    }
}
