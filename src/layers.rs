//! The layering rules of docs/architecture.md, checked against the source: the
//! modules' `crate::` references form no cycle, the ground floor and the leaves import nothing
//! above them, only the application root reaches `http`, the sign-in domain knows nothing of the
//! web framework, and no source file passes 500 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules that import nothing from the crate.
const LEAVES: &[&str] = &["error", "secret", "clock"];

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/store/redis/mod.rs` → `store`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// Every top-level module's file contents, keyed by module.
fn sources() -> BTreeMap<String, Vec<(PathBuf, String)>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut by_module: BTreeMap<String, Vec<(PathBuf, String)>> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        by_module
            .entry(module_of(&src, &file))
            .or_default()
            .push((file, text));
    }
    by_module
}

/// The modules each module refers to by `crate::name` outside comments.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, files) in sources() {
        let uses = graph.entry(module.clone()).or_default();
        for (_, text) in files {
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let name: String = line[i + 7..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != module {
                        uses.insert(name);
                    }
                }
            }
        }
    }
    graph
}

/// A cycle through `node`, if any (depth-first search).
fn cycle(
    graph: &BTreeMap<String, BTreeSet<String>>,
    node: &str,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|n| n == node) {
        let mut found = path[at..].to_vec();
        found.push(node.to_owned());
        return Some(found);
    }
    if done.contains(node) {
        return None;
    }
    path.push(node.to_owned());
    for next in graph.get(node).into_iter().flatten() {
        if let Some(found) = cycle(graph, next, path, done) {
            return Some(found);
        }
    }
    path.pop();
    done.insert(node.to_owned());
    None
}

#[test]
fn modules_form_no_import_cycle() {
    let graph = graph();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(found) = cycle(&graph, node, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", found.join(" -> "));
        }
    }
}

#[test]
fn lower_layers_import_nothing_above_them() {
    let graph = graph();
    for leaf in LEAVES {
        let uses = &graph[*leaf];
        assert!(uses.is_empty(), "the leaf `{leaf}` imports {uses:?}");
    }
    let store: Vec<_> = graph["store"]
        .iter()
        .filter(|m| !LEAVES.contains(&m.as_str()))
        .collect();
    assert!(store.is_empty(), "store/ imports {store:?} from above it");
    for (module, uses) in &graph {
        if !matches!(module.as_str(), "lib" | "main" | "http") {
            assert!(!uses.contains("http"), "`{module}` imports http/");
        }
    }
}

#[test]
fn the_sign_in_domain_knows_no_web_framework() {
    for (file, text) in &sources()["signin"] {
        assert!(!text.contains("actix"), "{} names actix", file.display());
    }
}

#[test]
fn no_source_file_passes_500_lines() {
    for (file, text) in sources().values().flatten() {
        let lines = text.lines().count();
        assert!(lines <= 500, "{} has {lines} lines", file.display());
    }
}
