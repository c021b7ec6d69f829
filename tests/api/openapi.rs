//! `openapi.yaml` and the served routes describe the same API.

use crate::helpers::{served_routes, Backend, TestApp};

const SPEC: &str = include_str!("../../openapi.yaml");
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// (path, methods) of the spec's `paths:` object: path keys are indented by exactly two
/// spaces, operations by exactly four.
fn spec_operations() -> Vec<(String, Vec<String>)> {
    let mut operations: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_paths = false;
    for line in SPEC.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_paths = line.trim_end() == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        let line = line.trim_end();
        if let Some(key) = line.strip_prefix("  ") {
            if !key.starts_with(' ') && key.ends_with(':') {
                let path = key
                    .trim_end_matches(':')
                    .trim_matches(|c| c == '"' || c == '\'');
                operations.push((path.to_owned(), Vec::new()));
                continue;
            }
        }
        if let Some(key) = line.strip_prefix("    ") {
            if let Some(method) = key.strip_suffix(':') {
                if METHODS.contains(&method) {
                    operations
                        .last_mut()
                        .expect("an operation under a path")
                        .1
                        .push(method.to_owned());
                }
            }
        }
    }
    operations
}

#[test]
fn every_route_is_documented_with_its_method() {
    let spec = spec_operations();
    // The parser sees the spec (a broken parser must not make the checks below vacuous).
    assert!(
        spec.iter()
            .any(|(p, m)| p == "/oauth2/token" && m.iter().any(|m| m == "post")),
        "the parser found the spec's paths: {spec:?}"
    );
    let mut undocumented = Vec::new();
    for (name, method, path) in served_routes() {
        let documented = spec.iter().any(|(p, methods)| {
            p == path && methods.iter().any(|m| m.eq_ignore_ascii_case(method))
        });
        if !documented {
            undocumented.push(format!("{method} {path} ({name})"));
        }
    }
    assert!(
        undocumented.is_empty(),
        "served but not in openapi.yaml: {undocumented:?}"
    );
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    // With the optional files configured, so that their routes answer (404 without them).
    let dir = tempfile::tempdir().unwrap();
    let (logo, css) = (dir.path().join("logo.svg"), dir.path().join("theme.css"));
    std::fs::write(&logo, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    std::fs::write(&css, "h1 { color: CanvasText; }").unwrap();
    let app = TestApp::spawn_with(Backend::Redis, move |raw| {
        raw.logo_file = Some(logo);
        raw.css_file = Some(css);
    })
    .await;
    let spec = spec_operations();
    assert!(!spec.is_empty());
    let mut missing = Vec::new();
    for (path, methods) in &spec {
        assert!(!methods.is_empty(), "{path} has no operation");
        for method in methods {
            let method =
                reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            // Path templates get a sample value.
            let concrete: String = path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "example"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let status = app
                .http
                .request(method.clone(), app.url(&concrete))
                .header("content-type", "application/x-www-form-urlencoded")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            // The documented method itself must be routed: neither 404 nor 405.
            if status == 404 || status == 405 {
                missing.push(format!("{method} {path} -> {status}"));
            }
        }
    }
    assert!(missing.is_empty(), "documented but not served: {missing:?}");
}
