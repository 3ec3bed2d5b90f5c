//! The import graph between the top-level modules of `src/`. Two rules hold outright: plumbing
//! ([`PLUMBING`]) imports nothing but plumbing, and nothing imports `app`, the top, which assembles
//! the features. Between features the graph is held to a ratchet: each module's imports of other
//! top-level modules (`crate::x`, `$crate::x`, `crate::{x, y}`) must be in `ALLOWED` below, and every
//! entry there must still exist, so a new coupling fails and a removed one fails until the list is
//! shortened. The target is no two features importing each other; `two_way_pairs` counts how far
//! there is to go.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The modules every feature may use, which use no feature: configuration, the database, times and
/// dates, the site's settings, and the HTTP side.
const PLUMBING: &[&str] = &["config", "db", "format", "site", "web"];

/// Today's edges, module -> the modules it imports.
const ALLOWED: &[(&str, &[&str])] = &[
    ("accounts", &["audit", "config", "db", "format", "site", "web"]),
    (
        "admin",
        &["accounts", "audit", "config", "db", "format", "live", "moderation", "posts", "privacy", "site", "web"],
    ),
    (
        "app",
        &[
            "accounts",
            "admin",
            "communities",
            "follows",
            "ideas",
            "live",
            "moderation",
            "notifications",
            "posts",
            "privacy",
            "profiles",
            "search",
            "site",
            "topics",
            "web",
        ],
    ),
    ("audit", &["db"]),
    ("communities", &["accounts", "db", "live", "moderation", "notifications", "posts", "timeline", "web"]),
    ("follows", &["accounts", "db", "live", "notifications", "timeline", "web"]),
    (
        "ideas",
        &["accounts", "audit", "communities", "db", "format", "moderation", "notifications", "posts", "search", "web"],
    ),
    ("live", &["accounts", "communities", "db", "notifications", "timeline", "web"]),
    ("moderation", &["accounts", "audit", "db", "format", "ideas", "live", "notifications", "posts", "web"]),
    ("notifications", &["accounts", "db", "format", "ideas", "posts", "web"]),
    ("polls", &["db"]),
    (
        "posts",
        &[
            "accounts",
            "communities",
            "db",
            "format",
            "live",
            "moderation",
            "notifications",
            "polls",
            "site",
            "timeline",
            "web",
        ],
    ),
    (
        "privacy",
        &[
            "accounts",
            "communities",
            "db",
            "follows",
            "format",
            "ideas",
            "moderation",
            "notifications",
            "polls",
            "posts",
            "topics",
            "web",
        ],
    ),
    ("profiles", &["accounts", "db", "format", "posts", "site", "web"]),
    ("search", &["accounts", "config", "db", "format", "ideas", "posts", "web"]),
    ("seed", &["db", "follows"]),
    ("site", &["config", "db", "format"]),
    ("timeline", &["db", "live", "posts"]),
    ("topics", &["accounts", "db", "posts", "timeline", "web"]),
    ("web", &["config", "db", "format", "site"]),
];

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
fn module_imports_change_only_by_updating_the_ratchet() {
    let edges = graph();
    let allowed: BTreeMap<String, BTreeSet<String>> =
        ALLOWED.iter().map(|(from, to)| ((*from).to_owned(), to.iter().map(|t| (*t).to_owned()).collect())).collect();
    let mut new = Vec::new();
    let mut gone = Vec::new();
    for (from, targets) in &edges {
        for target in targets {
            if !allowed.get(from).is_some_and(|a| a.contains(target)) {
                new.push(format!("{from} -> {target}"));
            }
        }
    }
    for (from, targets) in &allowed {
        for target in targets {
            if !edges.get(from).is_some_and(|e| e.contains(target)) {
                gone.push(format!("{from} -> {target}"));
            }
        }
    }
    assert!(new.is_empty(), "new imports between top-level modules (layers must point one way): {new:?}");
    assert!(gone.is_empty(), "these imports are gone: remove them from ALLOWED so they stay gone: {gone:?}");
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

/// How many pairs of top-level modules import each other (today's figure is in ALLOWED's history).
#[test]
fn two_way_pairs() {
    let edges = graph();
    let pairs: Vec<(String, String)> = edges
        .iter()
        .flat_map(|(a, targets)| targets.iter().map(move |b| (a.clone(), b.clone())))
        .filter(|(a, b)| a < b && edges.get(b).is_some_and(|back| back.contains(a)))
        .collect();
    eprintln!("{} pairs of modules import each other: {pairs:?}", pairs.len());
    assert!(pairs.len() <= 9, "more two-way imports than the 9 of 2026-12-03 (28 before issue 21): {pairs:?}");
}
