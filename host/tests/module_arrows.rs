//! The arrows between the host's modules point one way (issue #11): in
//! `host/src` and in each crate of `host/crates/*/src`, no cycle between the
//! top-level modules (`room`, `sandbox`, …; `fs`, `spool`, … of
//! arcade-archive), and none between the modules inside each directory
//! module (`sandbox/limits` and `sandbox/physics`, …). Between crates, Cargo
//! already refuses cycles, and `host/crates/*` do not depend on `host/`.
//!
//! An arrow A → B is any `crate::B…` path in A's source (a `use` or an
//! inline path, `use crate::{B, …}` groups included), or `super::B…` from a
//! module inside a directory; comments and the `#[cfg(test)] mod tests`
//! block at the end of a file are left out (tests may reach anywhere). A
//! directory module's own `mod.rs` is its parent: it names its children
//! (re-exports, factories choosing a backend), and children may use what it
//! declares; only arrows between children count inside a directory.
//!
//! To allow an arrow that would close a cycle, invert it: a trait in the
//! lower module that the upper one implements (as `node_agent::LocalNode` or
//! `ticker::Ticked`), or move the shared type down (as `clock`, or
//! `protocol::PluginRef`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every module of the tree under `src`: its path without `.rs` (`mod.rs`
/// names its directory), e.g. `archive`, `archive/fs`, `room`.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<String, PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, src, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).unwrap().with_extension("");
                let mut name = rel.to_string_lossy().replace('\\', "/");
                if let Some(dir) = name.strip_suffix("/mod") {
                    name = dir.to_string();
                }
                out.insert(name, path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The source that counts: no unit-test module, no comments.
fn code_of(source: &str) -> String {
    let source = source.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    source.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// The paths after each `prefix` (`crate::` or `super::`): `a::b::c`, and
/// for a `use crate::{a, b::c}` group each member.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let preceded_by_ident = rest[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + prefix.len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for member in inner.split(',') {
                let member = member.trim();
                if !member.is_empty() {
                    out.push(member.split("::").map(|s| s.trim().to_string()).collect());
                }
            }
            continue;
        }
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
        out.push(rest[..end].split("::").filter(|s| !s.is_empty()).map(str::to_string).collect());
    }
    out
}

/// The longest module named by a path's leading segments under `base`.
fn resolve(mods: &BTreeMap<String, PathBuf>, base: &str, segments: &[String]) -> Option<String> {
    (1..=segments.len()).rev().find_map(|n| {
        let tail = segments[..n].join("/");
        let name = if base.is_empty() { tail } else { format!("{base}/{tail}") };
        mods.contains_key(&name).then_some(name)
    })
}

/// Arrows between modules, from their sources.
fn module_graph(mods: &BTreeMap<String, PathBuf>, source_of: impl Fn(&Path) -> String) -> Graph {
    let mut graph = Graph::new();
    for (name, path) in mods {
        if name == "lib" || name == "main" {
            continue;
        }
        let code = code_of(&source_of(path));
        let is_dir_module = path.file_name().is_some_and(|f| f == "mod.rs");
        // `super::` from `a/b.rs` is `a`; from `a/b/mod.rs` it is `a` too.
        let own_dir = if is_dir_module { name.as_str() } else { name.rsplit_once('/').map_or("", |(d, _)| d) };
        let super_base = if is_dir_module { own_dir.rsplit_once('/').map_or("", |(d, _)| d) } else { own_dir };
        let mut targets = BTreeSet::new();
        for segments in paths_after(&code, "crate::") {
            targets.extend(resolve(mods, "", &segments));
        }
        for segments in paths_after(&code, "super::") {
            match resolve(mods, super_base, &segments) {
                Some(target) => targets.insert(target),
                None if !super_base.is_empty() => targets.insert(super_base.to_string()),
                None => false,
            };
        }
        targets.remove(name);
        graph.insert(name.clone(), targets);
    }
    graph
}

/// The graph seen at one level: top-level modules (`dir` empty), or the
/// children of directory `dir` (arrows between them only).
fn level(graph: &Graph, dir: &str) -> Graph {
    let key = |name: &str| -> Option<String> {
        let rest = if dir.is_empty() { name } else { name.strip_prefix(dir)?.strip_prefix('/')? };
        Some(rest.split('/').next()?.to_string())
    };
    let mut out = Graph::new();
    for (from, targets) in graph {
        let Some(a) = key(from) else { continue };
        for to in targets {
            if let Some(b) = key(to)
                && a != b
            {
                out.entry(a.clone()).or_default().insert(b);
            }
        }
    }
    out
}

/// One cycle of `graph`, if it has any, as the modules along it.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, done: &mut BTreeSet<String>, path: &mut Vec<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

fn cycles_in(mods: &BTreeMap<String, PathBuf>, graph: &Graph) -> Vec<String> {
    let dirs: BTreeSet<String> =
        std::iter::once(String::new()).chain(mods.keys().filter(|m| mods[*m].ends_with("mod.rs")).cloned()).collect();
    dirs.iter()
        .filter_map(|dir| {
            find_cycle(&level(graph, dir))
                .map(|cycle| format!("{}: {}", if dir.is_empty() { "src" } else { dir }, cycle.join(" → ")))
        })
        .collect()
}

/// `host/src` and every `host/crates/*/src`, by crate directory name.
fn crate_sources() -> BTreeMap<String, PathBuf> {
    let host = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = BTreeMap::from([("host".to_string(), host.join("src"))]);
    for entry in std::fs::read_dir(host.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("src").is_dir() {
            out.insert(dir.file_name().unwrap().to_string_lossy().into_owned(), dir.join("src"));
        }
    }
    out
}

#[test]
fn the_modules_of_every_host_crate_have_no_cycle() {
    let crates = crate_sources();
    assert!(crates.contains_key("archive") && crates.contains_key("cluster"), "read the tree: {:?}", crates.keys());
    let mut cycles = Vec::new();
    for (name, src) in &crates {
        let mods = modules(src);
        let graph = module_graph(&mods, |path| std::fs::read_to_string(path).unwrap());
        // The reader sees real arrows (a check that sees none would always pass).
        match name.as_str() {
            "host" => assert!(graph["room/actor"].contains("sandbox"), "{graph:?}"),
            "archive" => assert!(graph["fs"].contains("segment"), "{graph:?}"),
            "cluster" => assert!(graph["matching"].contains("matchmaking"), "{graph:?}"),
            _ => {}
        }
        cycles.extend(cycles_in(&mods, &graph).into_iter().map(|cycle| format!("{name}: {cycle}")));
    }
    assert!(
        cycles.is_empty(),
        "module cycles (invert one arrow of each; see this file's header):\n{}",
        cycles.join("\n")
    );
}

#[test]
fn a_cycle_is_found_at_the_top_and_inside_a_directory_and_comments_and_tests_do_not_count() {
    let files: BTreeMap<&str, &str> = BTreeMap::from([
        ("a.rs", "use crate::b::Thing;\n"),
        ("b.rs", "// crate::a in a comment\nfn f() { crate::c::g() }\n#[cfg(test)]\nmod tests { use crate::a; }\n"),
        ("c.rs", "use crate::{d, a::X};\n"),
        ("d/mod.rs", "mod e;\nmod f;\npub use e::E;\n"),
        ("d/e.rs", "use super::f::F;\n"),
        ("d/f.rs", "use super::e::E;\n"),
    ]);
    let mods: BTreeMap<String, PathBuf> = files
        .keys()
        .map(|f| (f.trim_end_matches(".rs").trim_end_matches("/mod").to_string(), PathBuf::from(f)))
        .collect();
    let graph = module_graph(&mods, |path| files[path.to_str().unwrap()].to_string());
    assert_eq!(graph["b"], BTreeSet::from(["c".to_string()]), "comments and the test module do not count");
    let cycles = cycles_in(&mods, &graph);
    assert_eq!(cycles.len(), 2, "{cycles:?}");
    assert!(cycles[0].starts_with("src: a → b → c → a"), "{cycles:?}");
    assert!(cycles[1].starts_with("d: e → f → e"), "{cycles:?}");
}
