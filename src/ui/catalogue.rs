//! The words of the hosted pages in each language: Fluent catalogues (`fluent-bundle`), the
//! built-in ones from `locales/<tag>/tessera.ftl` and the operator's from `locales_dir`, and the
//! choice of language for a page (`fluent-langneg`).

use std::path::Path;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_langneg::{negotiate_languages, NegotiationStrategy};
use unic_langid::LanguageIdentifier;

use super::UiError;

/// The built-in catalogues, English first (the fallback of every other language).
const BUILT_IN: &[(&str, &str)] = &[
    ("en", include_str!("../../locales/en/tessera.ftl")),
    ("de", include_str!("../../locales/de/tessera.ftl")),
];

/// One language's bundle.
struct Language {
    tag: LanguageIdentifier,
    bundle: FluentBundle<FluentResource>,
}

/// Every language's messages; the first language (English) is the fallback.
pub(super) struct Catalogue {
    languages: Vec<Language>,
}

/// Parses `source` (named `file` in errors), with the 1-based line of the first syntax error.
fn resource(file: &str, source: String) -> Result<FluentResource, UiError> {
    FluentResource::try_new(source.clone()).map_err(|(_, errors)| {
        let at = errors.first().map_or(0, |e| e.pos.start);
        UiError::Catalogue {
            file: file.to_owned(),
            line: 1 + source[..at.min(source.len())].matches('\n').count(),
            detail: errors
                .first()
                .map_or_else(String::new, |e| e.kind.to_string()),
        }
    })
}

fn bundle(tag: &LanguageIdentifier) -> FluentBundle<FluentResource> {
    let mut bundle = FluentBundle::new_concurrent(vec![tag.clone()]);
    // No Unicode isolation marks around placeables: every page is left-to-right today, and
    // the marks would show up in copied text.
    bundle.set_use_isolating(false);
    bundle
}

impl Catalogue {
    /// The built-in catalogues, then every `<dir>/<tag>/*.ftl` of `dir`: a file's messages
    /// override the built-in ones of the same id, a new `<tag>` adds a language.
    pub(super) fn load(dir: Option<&Path>) -> Result<Self, UiError> {
        let mut languages = Vec::new();
        for (tag, source) in BUILT_IN {
            let tag: LanguageIdentifier = tag.parse().map_err(|_| UiError::Language {
                tag: (*tag).to_owned(),
            })?;
            let mut bundle = bundle(&tag);
            let file = format!("locales/{tag}/tessera.ftl");
            bundle.add_resource_overriding(resource(&file, (*source).to_owned())?);
            languages.push(Language { tag, bundle });
        }
        let mut catalogue = Self { languages };
        if let Some(dir) = dir {
            catalogue.add_dir(dir)?;
        }
        Ok(catalogue)
    }

    fn add_dir(&mut self, dir: &Path) -> Result<(), UiError> {
        let io = |path: &Path, e: std::io::Error| UiError::Io {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let tag: LanguageIdentifier = name
                .parse()
                .map_err(|_| UiError::Language { tag: name.clone() })?;
            let mut files: Vec<_> = std::fs::read_dir(entry.path())
                .map_err(|e| io(&entry.path(), e))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
                .collect();
            files.sort();
            let index = match self.languages.iter().position(|l| l.tag == tag) {
                Some(index) => index,
                None => {
                    self.languages.push(Language {
                        bundle: bundle(&tag),
                        tag,
                    });
                    self.languages.len() - 1
                }
            };
            for path in files {
                let source = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
                let parsed = resource(&path.display().to_string(), source)?;
                self.languages[index].bundle.add_resource_overriding(parsed);
            }
        }
        Ok(())
    }

    /// The language tags, English first (OIDC Discovery `ui_locales_supported`).
    pub(super) fn tags(&self) -> Vec<String> {
        self.languages.iter().map(|l| l.tag.to_string()).collect()
    }

    /// The index of the best language for `wanted` (most preferred first; BCP 47 tags), English
    /// when none matches. Lookup strategy (RFC 4647 §3.4): `de-AT` finds `de`.
    pub(super) fn choose<'a>(&self, wanted: impl Iterator<Item = &'a str>) -> usize {
        let requested: Vec<LanguageIdentifier> = wanted.filter_map(|t| t.parse().ok()).collect();
        let available: Vec<&LanguageIdentifier> = self.languages.iter().map(|l| &l.tag).collect();
        let default = &self.languages[0].tag;
        negotiate_languages(
            &requested,
            &available,
            Some(&default),
            NegotiationStrategy::Lookup,
        )
        .first()
        .and_then(|chosen| available.iter().position(|a| a == *chosen))
        .unwrap_or(0)
    }

    /// The tag of language `index`.
    pub(super) fn tag(&self, index: usize) -> String {
        self.languages
            .get(index)
            .map_or_else(|| "en".to_owned(), |l| l.tag.to_string())
    }

    /// Message `id` in language `index` with `args`; from English when that language lacks it;
    /// the id itself when no language has it (a visible, harmless fault).
    pub(super) fn text(&self, index: usize, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        self.lookup(index, id, args)
            .unwrap_or_else(|| id.to_owned())
    }

    /// Message `id` in language `index`, else in English; `None` when neither has it.
    pub(super) fn lookup(
        &self,
        index: usize,
        id: &str,
        args: Option<&FluentArgs<'_>>,
    ) -> Option<String> {
        let chosen = self.languages.get(index).into_iter();
        for language in chosen.chain(self.languages.first()) {
            let bundle = &language.bundle;
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return Some(
                    bundle
                        .format_pattern(pattern, args, &mut errors)
                        .into_owned(),
                );
            }
        }
        None
    }

    /// The message ids of English that language `index` lacks (the built-in catalogues are
    /// complete: a unit test holds them to it).
    #[cfg(test)]
    fn missing(&self, index: usize) -> Vec<String> {
        let english = &self.languages[0].bundle;
        let other = &self.languages[index].bundle;
        BUILT_IN[0]
            .1
            .lines()
            .filter_map(|line| line.split_once(" =").map(|(id, _)| id.trim()))
            .filter(|id| !id.is_empty() && !id.starts_with('#') && english.has_message(id))
            .filter(|id| !other.has_message(id))
            .map(str::to_owned)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_languages_are_complete() {
        let catalogue = Catalogue::load(None).unwrap();
        for index in 1..catalogue.languages.len() {
            assert_eq!(catalogue.missing(index), Vec::<String>::new());
        }
    }

    #[test]
    fn lookup_falls_back_to_the_language_then_english() {
        let catalogue = Catalogue::load(None).unwrap();
        assert_eq!(catalogue.tag(catalogue.choose(["de-AT"].into_iter())), "de");
        assert_eq!(
            catalogue.tag(catalogue.choose(["fr", "de"].into_iter())),
            "de"
        );
        assert_eq!(catalogue.tag(catalogue.choose(["xx"].into_iter())), "en");
        assert_eq!(catalogue.tag(catalogue.choose(std::iter::empty())), "en");
    }

    #[test]
    fn plurals_and_arguments() {
        let catalogue = Catalogue::load(None).unwrap();
        let mut args = FluentArgs::new();
        args.set("count", 1);
        assert_eq!(
            catalogue.text(0, "account-recovery-left", Some(&args)),
            "1 unused recovery code left."
        );
        assert_eq!(catalogue.text(1, "no-such-id", None), "no-such-id");
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let err = resource("x.ftl", "a = b\n\n= broken\n".into()).unwrap_err();
        assert!(matches!(err, UiError::Catalogue { line: 3, .. }), "{err}");
    }
}
