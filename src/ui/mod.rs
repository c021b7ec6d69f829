//! The hosted pages' presentation, HTTP-free: the templates ([`templates`]: minijinja, built
//! in, overridable from `templates_dir`), the words in each language ([`catalogue`]: Fluent,
//! built in for English and German, extended or overridden from `locales_dir`), and the choice
//! of a page's language: `ui_locales` of the authorization request (OIDC Core §3.1.2.1) first,
//! then `Accept-Language` (RFC 9110 §12.5.4), then English.
//!
//! Templates name their words by message id: `{{ t("login-title") }}`, with arguments as
//! keywords (`{{ t("login-lead", client=client_name) }}`); the code names notices and errors by
//! id too, so every word of every page lives in the catalogues.

mod catalogue;
mod scopes;
mod templates;
mod theme;

use std::path::PathBuf;
use std::sync::Arc;

use fluent_bundle::{FluentArgs, FluentValue};
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, State};

use catalogue::Catalogue;
pub use scopes::ScopeDescription;
pub use theme::{Color, Logo, ThemeSettings};

/// What the operator configures for the pages.
#[derive(Debug, Clone, Default)]
pub struct PageSettings {
    /// Files replacing the built-in templates of the same name (setting `templates_dir`).
    pub templates_dir: Option<PathBuf>,
    /// `<language tag>/*.ftl` catalogues adding or overriding words (setting `locales_dir`).
    pub locales_dir: Option<PathBuf>,
    /// Product name, logo, primary colour, stylesheet.
    pub theme: ThemeSettings,
    /// Descriptions of the operator's scopes on the consent page, by scope (setting
    /// `scope_descriptions`); they replace built-in ones of the same scope.
    pub scope_descriptions: std::collections::BTreeMap<String, ScopeDescription>,
}

/// Why the pages could not be loaded at start-up; each names the file (and line) to fix.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// A template does not compile or render.
    #[error("template {file}, line {line}: {detail}")]
    Template {
        /// The file (or built-in template) at fault.
        file: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// A file in `templates_dir` that is no template of tessera's.
    #[error("templates_dir: {file} overrides no template; the templates are: {known}")]
    UnknownTemplate {
        /// The file.
        file: String,
        /// The names a file may have.
        known: String,
    },
    /// A Fluent catalogue with a syntax error.
    #[error("catalogue {file}, line {line}: {detail}")]
    Catalogue {
        /// The file at fault.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// A directory of `locales_dir` that is no language tag (BCP 47, e.g. `fr` or `pt-BR`).
    #[error("locales_dir: `{tag}` is not a language tag (BCP 47, e.g. fr or pt-BR)")]
    Language {
        /// The directory name.
        tag: String,
    },
    /// A page setting (`logo_file`, `css_file`, `scope_descriptions`) that cannot be used.
    #[error("configuration key `{key}` (env {env}): {problem}")]
    Setting {
        /// The key as written in the TOML file.
        key: &'static str,
        /// The environment variable that sets it.
        env: &'static str,
        /// What is wrong and what is accepted.
        problem: String,
    },
    /// A directory or file that cannot be read.
    #[error("cannot read {path}: {detail}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        detail: String,
    },
}

/// A page setting's key and environment variable, for [`UiError::Setting`].
#[derive(Clone, Copy)]
struct Setting {
    key: &'static str,
    env: &'static str,
}

impl Setting {
    const LOGO_FILE: Self = Self {
        key: "logo_file",
        env: "TESSERA_LOGO_FILE",
    };
    const CSS_FILE: Self = Self {
        key: "css_file",
        env: "TESSERA_CSS_FILE",
    };
    const SCOPE_DESCRIPTIONS: Self = Self {
        key: "scope_descriptions",
        env: "TESSERA_SCOPE_DESCRIPTIONS",
    };

    fn refused(self, problem: String) -> UiError {
        UiError::Setting {
            key: self.key,
            env: self.env,
            problem,
        }
    }
}

/// The language a page is rendered in: an index into the catalogue, chosen by [`Ui::language`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Language(usize);

/// Templates, catalogues and branding, loaded once at start-up; cheap to share.
pub struct Ui {
    env: Environment<'static>,
    catalogue: Arc<Catalogue>,
    theme: theme::Theme,
}

/// The page's language in a template function: `lang_index` of the render context.
fn page_language(state: &State) -> usize {
    state
        .lookup("lang_index")
        .and_then(|v| usize::try_from(v).ok())
        .unwrap_or(0)
}

/// `t(id, **args)` in a template: message `id` in the page's language (`lang_index` of the
/// render context). An undefined id (a notice a page did not get) is the empty string.
fn translate(catalogue: &Catalogue, state: &State, id: &Value, kwargs: Kwargs) -> Value {
    let Some(id) = id.as_str() else {
        return Value::from("");
    };
    let index = page_language(state);
    let mut args = FluentArgs::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name).unwrap_or_default();
        let value = match value.as_i64() {
            Some(n) => FluentValue::from(n),
            None => FluentValue::from(value.to_string()),
        };
        args.set(name.to_owned(), value);
    }
    Value::from(catalogue.text(index, id, Some(&args)))
}

impl Ui {
    /// Loads the built-in templates and catalogues with the operator's overrides and branding.
    ///
    /// # Errors
    /// [`UiError`] naming the file and line of a template or catalogue that does not compile,
    /// or the setting whose file cannot be used.
    pub fn load(settings: &PageSettings) -> Result<Self, UiError> {
        let catalogue = Arc::new(Catalogue::load(settings.locales_dir.as_deref())?);
        let theme = theme::Theme::load(&settings.theme)?;
        let mut env = Environment::new();
        // A value a page did not get renders empty, also behind a dot (`factors.totp`), so an
        // operator's template may use fewer or more values than the built-in one.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        let words = catalogue.clone();
        env.add_function(
            "t",
            move |state: &State, id: Value, kwargs: Kwargs| -> Result<Value, minijinja::Error> {
                Ok(translate(&words, state, &id, kwargs))
            },
        );
        let scopes = scopes::Describer::new(&settings.scope_descriptions, catalogue.clone())?;
        env.add_function(
            "describe_scope",
            move |state: &State, scope: &str| -> Result<Value, minijinja::Error> {
                Ok(scopes.describe(page_language(state), scope).into())
            },
        );
        templates::load(&mut env, settings.templates_dir.as_deref())?;
        Ok(Self {
            env,
            catalogue,
            theme,
        })
    }

    /// The stylesheet `/assets/tessera.css`: the built-in one with the primary colour.
    pub fn stylesheet(&self) -> bytes::Bytes {
        self.theme.stylesheet.text.clone()
    }

    /// The WebAuthn script `/assets/passkey.js`.
    pub fn passkey_script(&self) -> bytes::Bytes {
        self.theme.passkey_script.text.clone()
    }

    /// The operator's stylesheet `/assets/theme.css` (setting `css_file`).
    pub fn custom_stylesheet(&self) -> Option<bytes::Bytes> {
        self.theme.css.as_ref().map(|sheet| sheet.text.clone())
    }

    /// The operator's logo `/assets/logo` (setting `logo_file`).
    pub fn logo(&self) -> Option<&Logo> {
        self.theme.logo.as_ref()
    }

    /// The language for a page: the first of `ui_locales` (space-separated tags, OIDC Core
    /// §3.1.2.1) that the catalogue has, else the first of `accept_language` (RFC 9110
    /// §12.5.4, by quality), else English.
    pub fn language(&self, ui_locales: Option<&str>, accept_language: Option<&str>) -> Language {
        let from_header = accept_language
            .map(fluent_langneg::accepted_languages::parse)
            .unwrap_or_default()
            .into_iter()
            .map(|tag| tag.to_string())
            .collect::<Vec<_>>();
        let wanted = ui_locales
            .unwrap_or_default()
            .split_whitespace()
            .chain(from_header.iter().map(String::as_str));
        Language(self.catalogue.choose(wanted))
    }

    /// The BCP 47 tag of `language` (`lang` of the page, `Content-Language`).
    pub fn tag(&self, language: Language) -> String {
        self.catalogue.tag(language.0)
    }

    /// The languages offered, English first (OIDC Discovery `ui_locales_supported`).
    pub fn tags(&self) -> Vec<String> {
        self.catalogue.tags()
    }

    /// Renders template `name` in `language` with `context`, which gets `lang` (the tag),
    /// `product` (the product name) and the URLs `theme.stylesheet`, `theme.passkey_script`,
    /// `theme.css` and `theme.logo` (the last two absent without the operator's files), each
    /// with `?v=` of its content so that a changed file is fetched anew.
    ///
    /// # Errors
    /// A template that fails at render time (an operator's override using a value wrongly).
    pub fn render(
        &self,
        name: &str,
        language: Language,
        context: Value,
    ) -> Result<String, minijinja::Error> {
        let product = match &self.theme.product_name {
            Some(name) => name.clone(),
            None => self.catalogue.text(language.0, "product", None),
        };
        let theme = &self.theme;
        let theme = minijinja::context! {
            stylesheet => format!("/assets/tessera.css?v={}", theme.stylesheet.version),
            passkey_script => format!("/assets/passkey.js?v={}", theme.passkey_script.version),
            css => theme.css.as_ref().map(|c| format!("/assets/theme.css?v={}", c.version)),
            logo => theme.logo.as_ref().map(|l| format!("/assets/logo?v={}", l.version)),
        };
        let context = minijinja::context! {
            lang => self.tag(language),
            lang_index => language.0,
            product,
            theme,
            ..context
        };
        self.env.get_template(name)?.render(context)
    }
}
