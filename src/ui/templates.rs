//! The page templates (minijinja, HTML auto-escaped): the built-in `templates/*.html`, each
//! replaced by the file of the same name in `templates_dir` when the operator provides one.
//! Every template is compiled, and rendered once, at start-up, so a broken override stops the
//! server with its file and line instead of failing a user's sign-in.

use std::path::Path;

use minijinja::Environment;

use super::UiError;

/// The built-in templates: (name, source).
const BUILT_IN: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("mfa.html", include_str!("../../templates/mfa.html")),
    ("consent.html", include_str!("../../templates/consent.html")),
    ("scopes.html", include_str!("../../templates/scopes.html")),
    (
        "client_logo.html",
        include_str!("../../templates/client_logo.html"),
    ),
    ("device.html", include_str!("../../templates/device.html")),
    (
        "device_approve.html",
        include_str!("../../templates/device_approve.html"),
    ),
    ("logout.html", include_str!("../../templates/logout.html")),
    ("message.html", include_str!("../../templates/message.html")),
    ("account.html", include_str!("../../templates/account.html")),
];

/// The template names (for the operator's error message).
fn names() -> String {
    BUILT_IN
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn template_error(file: &str, e: &minijinja::Error) -> UiError {
    UiError::Template {
        file: file.to_owned(),
        line: e.line().unwrap_or(0),
        detail: e
            .detail()
            .map_or_else(|| e.kind().to_string(), str::to_owned),
    }
}

/// Adds the templates to `env`: the built-in ones, each replaced by `<dir>/<name>` when that
/// file exists. A file in `dir` that names no built-in template is refused (a typo would
/// otherwise be ignored silently).
pub(super) fn load(env: &mut Environment<'static>, dir: Option<&Path>) -> Result<(), UiError> {
    let mut sources: Vec<(String, String, String)> = BUILT_IN
        .iter()
        .map(|(name, source)| {
            let file = format!("templates/{name} (built in)");
            ((*name).to_owned(), file, (*source).to_owned())
        })
        .collect();
    if let Some(dir) = dir {
        let io = |path: &Path, e: std::io::Error| UiError::Io {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            if !path.is_file() {
                continue;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some(slot) = sources.iter_mut().find(|(n, _, _)| *n == name) else {
                return Err(UiError::UnknownTemplate {
                    file: path.display().to_string(),
                    known: names(),
                });
            };
            slot.2 = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            slot.1 = path.display().to_string();
        }
    }
    for (name, file, source) in &sources {
        env.add_template_owned(name.clone(), source.clone())
            .map_err(|e| template_error(file, &e))?;
    }
    // A template that compiles may still fail when rendered (an `extends` of a missing
    // template, a call of an unknown filter): render each once with an empty context.
    for (name, file, _) in &sources {
        env.get_template(name)
            .and_then(|t| t.render(minijinja::context! {}))
            .map_err(|e| template_error(file, &e))?;
    }
    Ok(())
}
