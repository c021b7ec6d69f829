//! The hosted pages' settings: templates, catalogues, branding and scope descriptions, checked
//! here for their shape (files are read by `crate::ui` at start-up).

use super::{invalid, ConfigError, RawSettings};
use crate::ui::{Color, PageSettings, ThemeSettings};

/// The longest `product_name`, in characters.
const MAX_PRODUCT_NAME: usize = 60;

impl RawSettings {
    /// The pages' settings: `product_name` of 1 to 60 characters without control characters
    /// (empty: unset), `primary_color` as `#rrggbb`, `scope_descriptions` keyed by scopes
    /// (RFC 6749 §3.3 scope-tokens).
    pub(super) fn page_settings(&self) -> Result<PageSettings, ConfigError> {
        let product_name = self.product_name.as_deref().filter(|n| !n.is_empty());
        if let Some(name) = product_name {
            let length = name.chars().count();
            if name.trim().is_empty()
                || length > MAX_PRODUCT_NAME
                || name.chars().any(char::is_control)
            {
                return Err(invalid(
                    "product_name",
                    "TESSERA_PRODUCT_NAME",
                    "must be 1 to 60 characters without control characters",
                ));
            }
        }
        let primary_color = match self.primary_color.as_deref().filter(|c| !c.is_empty()) {
            Some(text) => Some(Color::parse(text).ok_or_else(|| {
                invalid(
                    "primary_color",
                    "TESSERA_PRIMARY_COLOR",
                    format!(
                        "{} is not a colour: use #rrggbb, e.g. #1f5fbf",
                        crate::error::quoted(text)
                    ),
                )
            })?),
            None => None,
        };
        if let Some(scope) = self
            .scope_descriptions
            .keys()
            .find(|s| !crate::client_policy_check::scope_token(s))
        {
            return Err(invalid(
                "scope_descriptions",
                "TESSERA_SCOPE_DESCRIPTIONS",
                format!(
                    "{} is no scope: a scope is printable ASCII without space, `\"` and `\\` (RFC 6749 §3.3 scope-token)",
                    crate::error::quoted(scope)
                ),
            ));
        }
        Ok(PageSettings {
            templates_dir: self.templates_dir.clone(),
            locales_dir: self.locales_dir.clone(),
            theme: ThemeSettings {
                product_name: product_name.map(str::to_owned),
                logo_file: self.logo_file.clone(),
                primary_color,
                css_file: self.css_file.clone(),
            },
            scope_descriptions: self.scope_descriptions.clone(),
        })
    }
}
