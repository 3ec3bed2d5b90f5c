//! The import graph between the top-level modules of `src/` (a module's imports of another are its
//! files' `crate::x`, `$crate::x` and `crate::{x, y}` paths). Layers point one way: no module
//! imports one that imports it back, however long the way round; plumbing ([`PLUMBING`]) imports
//! nothing but plumbing; and nothing imports `app`, the top, which assembles the features.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The modules every feature may use, which use no feature: configuration, the database, times and
/// dates, the site's settings, the events channel between processes, sending mail, and the HTTP side.
const PLUMBING: &[&str] = &["bus", "config", "db", "format", "mail", "site", "web"];

/// Top-level modules: the folders and files directly under `src/` (but `lib.rs` and `main.rs`,
/// which assemble everything).
fn modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(|n| n.trim_end_matches(".rs").to_owned()))
        .filter(|n| n != "lib" && n != "main")
        .collect()
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a source text names after `crate::`.
fn named(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + 7..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
            None => vec![rest],
        };
        for name in names {
            let word: String = name.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if modules.contains(&word) {
                found.insert(word);
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_str().unwrap().trim_end_matches(".rs");
        if !modules.contains(first) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for target in named(&text, &modules) {
            if target != first {
                edges.entry(first.to_owned()).or_default().insert(target);
            }
        }
    }
    edges
}

#[test]
fn plumbing_imports_no_feature_and_nothing_imports_the_application() {
    let edges = graph();
    let mut wrong = Vec::new();
    for (from, targets) in &edges {
        for target in targets {
            if PLUMBING.contains(&from.as_str()) && !PLUMBING.contains(&target.as_str()) {
                wrong.push(format!("plumbing {from} -> feature {target}"));
            }
            if target == "app" {
                wrong.push(format!("{from} -> app"));
            }
        }
    }
    assert!(wrong.is_empty(), "layers must point one way: {wrong:?}");
}

#[test]
fn the_graph_reader_sees_grouped_and_macro_paths() {
    let modules: BTreeSet<String> = ["db", "posts", "web"].iter().map(|m| (*m).to_owned()).collect();
    let text = "use crate::{db::Exec, web::AppError};\n$crate::posts::store::x!()";
    let found: Vec<String> = named(text, &modules).into_iter().collect();
    assert_eq!(found, ["db", "posts", "web"]);
}

/// The first import cycle found among the top-level modules, as a path that returns to its start.
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut found = path[at..].to_vec();
            found.push(module.to_owned());
            return Some(found);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for next in edges.get(module).into_iter().flatten() {
            if let Some(found) = visit(next, edges, done, path) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|module| visit(module, edges, &mut done, &mut Vec::new()))
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let edges = graph();
    assert_eq!(cycle(&edges), None, "an import cycle between top-level modules: layers must point one way");
}

#[test]
fn the_cycle_finder_finds_a_long_cycle_and_passes_a_layered_graph() {
    let graph = |pairs: &[(&str, &str)]| {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in pairs {
            edges.entry((*from).to_owned()).or_default().insert((*to).to_owned());
        }
        edges
    };
    let layered = graph(&[("ideas", "posts"), ("posts", "db"), ("ideas", "db"), ("app", "ideas")]);
    assert_eq!(cycle(&layered), None);
    let circle = graph(&[("ideas", "posts"), ("posts", "timeline"), ("timeline", "ideas"), ("posts", "db")]);
    assert_eq!(cycle(&circle).map(|c| c.len()), Some(4), "ideas -> posts -> timeline -> ideas");
}

/// The README's tour of the code names every top-level module (`src/name/` or `src/name.rs`), and
/// nothing that is not one.
#[test]
fn the_readme_tours_every_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let modules = modules(&root.join("src"));
    let missing: Vec<&String> = modules
        .iter()
        .filter(|m| !readme.contains(&format!("`src/{m}/`")) && !readme.contains(&format!("`src/{m}.rs`")))
        .collect();
    assert!(missing.is_empty(), "modules the README's tour does not name: {missing:?}");
    let named: BTreeSet<String> = readme
        .match_indices("`src/")
        .filter_map(|(at, _)| {
            let rest = &readme[at + 5..];
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            (!name.is_empty() && name != "lib" && name != "main").then_some(name)
        })
        .collect();
    let gone: Vec<&String> = named.difference(&modules).collect();
    assert!(gone.is_empty(), "the README names modules that do not exist: {gone:?}");
}
