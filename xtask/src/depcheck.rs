//! `cargo xtask test`'s layering check: the crate graph and the module layers of the engine
//! crates.
//!
//! - Crates: each workspace crate may depend (normal dependencies, as `cargo tree -e normal`
//!   shows them) only on the workspace crates [`ALLOWED`] lists for it, so the graph stays
//!   `engine-cli -> {engine-sql, engine-kafka} -> engine-core`. Dev-dependencies are exempt
//!   (end-to-end tests of a low crate may use a higher one).
//! - Modules: inside each engine crate, sibling modules (the top-level modules of the crate,
//!   the files of one directory, ...) must not import each other in a cycle; code after the
//!   first `#[cfg(test)]` of a file and test-support modules (`testing`, `test_util`) are
//!   exempt. A reference is a `crate::a::b` or `super::a` path (also inside
//!   `use crate::{..}` groups); it makes the module that holds it depend on the module it
//!   names.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::util::cargo;

/// Workspace crate -> the workspace crates it may depend on.
const ALLOWED: &[(&str, &[&str])] = &[
    ("engine-core", &[]),
    ("engine-state", &["engine-core"]),
    ("engine-kafka", &["engine-core"]),
    ("engine-sql", &["engine-core", "engine-state"]),
    (
        "engine-cli",
        &["engine-core", "engine-state", "engine-sql", "engine-kafka"],
    ),
    ("xtask", &[]),
];

/// Crates whose modules must form layers.
const LAYERED: &[&str] = &["engine-core", "engine-state", "engine-sql", "engine-kafka"];

/// Runs both checks; an error lists every violation.
pub fn check(root: &Path) -> Result<()> {
    let mut problems = check_crates(root)?;
    for name in LAYERED {
        let src = root.join(name).join("src");
        if src.is_dir() {
            problems.extend(
                module_cycles(&src)?
                    .into_iter()
                    .map(|c| format!("{name}: {c}")),
            );
        }
    }
    if problems.is_empty() {
        eprintln!("depcheck: crate graph and module layers ok");
        return Ok(());
    }
    bail!(
        "layering violations (see docs/architecture.md):\n  {}",
        problems.join("\n  ")
    )
}

/// Normal dependencies between workspace crates that [`ALLOWED`] does not allow.
fn check_crates(root: &Path) -> Result<Vec<String>> {
    let mut cmd = cargo();
    cmd.args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ])
    .current_dir(root);
    let out = cmd.output().context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let packages = meta["packages"].as_array().context("no packages")?;
    let members: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let mut problems = Vec::new();
    for p in packages {
        let name = p["name"].as_str().unwrap_or_default();
        let Some((_, allowed)) = ALLOWED.iter().find(|(n, _)| *n == name) else {
            problems.push(format!(
                "crate {name} is not in xtask's depcheck table: add its place in the layers"
            ));
            continue;
        };
        for d in p["dependencies"].as_array().into_iter().flatten() {
            let dep = d["name"].as_str().unwrap_or_default();
            let normal = d["kind"].is_null();
            if normal && members.contains(dep) && !allowed.contains(&dep) {
                problems.push(format!(
                    "crate {name} depends on {dep}; it may depend on {allowed:?} only"
                ));
            }
        }
    }
    Ok(problems)
}

/// One reference found in a file: the module path it names, and where.
struct Reference {
    target: Vec<String>,
    line: usize,
}

/// Cycles among sibling modules of the crate whose sources are in `src`, one line each.
pub fn module_cycles(src: &Path) -> Result<Vec<String>> {
    let files = module_files(src)?;
    let modules: BTreeSet<Vec<String>> = files.keys().cloned().collect();
    // parent -> child -> child -> an example reference (file:line), per sibling edge.
    let mut edges: BTreeMap<Vec<String>, BTreeMap<String, BTreeMap<String, String>>> =
        BTreeMap::new();
    for (module, path) in &files {
        let text = fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        for r in references(module, &text) {
            let Some(target) = longest_module(&modules, &r.target) else {
                continue;
            };
            let common = module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            // An ancestor or descendant is not a sibling (`mod.rs` re-exports its children).
            let (Some(from), Some(to)) = (module.get(common), target.get(common)) else {
                continue;
            };
            let shown = path.strip_prefix(src).unwrap_or(path);
            edges
                .entry(module[..common].to_vec())
                .or_default()
                .entry(from.clone())
                .or_default()
                .entry(to.clone())
                .or_insert_with(|| format!("{}:{}", shown.display(), r.line));
        }
    }
    let mut out = Vec::new();
    for (parent, graph) in &edges {
        for cycle in strongly_connected(graph) {
            let prefix = if parent.is_empty() {
                String::new()
            } else {
                format!("{}::", parent.join("::"))
            };
            let names: Vec<String> = cycle.iter().map(|m| format!("{prefix}{m}")).collect();
            let mut examples = Vec::new();
            for from in &cycle {
                for (to, at) in graph.get(from).into_iter().flatten() {
                    if cycle.contains(to) {
                        examples.push(format!("{from} -> {to} at {at}"));
                    }
                }
            }
            out.push(format!(
                "import cycle {} ({})",
                names.join(" <-> "),
                examples.join("; ")
            ));
        }
    }
    Ok(out)
}

/// Every `.rs` file below `src` by module path (`a/b.rs` and `a/b/mod.rs` are `["a", "b"]`);
/// the crate root (`lib.rs`, `main.rs`), `bin/` and test-support modules are left out.
fn module_files(src: &Path) -> Result<BTreeMap<Vec<String>, PathBuf>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "bin") || dir != src {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src)?.with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let root_file = parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main");
            // Test support (`testing`, `test_util`, `tests`) may reach anywhere, as test code.
            let test_support = parts
                .last()
                .is_some_and(|p| matches!(p.as_str(), "testing" | "test_util" | "tests"));
            if parts.is_empty() || root_file || test_support {
                continue;
            }
            out.insert(parts, path);
        }
    }
    Ok(out)
}

/// The module-path references of a file's non-test code.
fn references(module: &[String], text: &str) -> Vec<Reference> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = Vec::new();
    for (i, raw) in code.lines().enumerate() {
        // Comments and doc links are not imports.
        let line = raw.split("//").next().unwrap_or_default();
        for (anchor, base) in [("crate::", Vec::new()), ("super::", parent(module))] {
            let mut rest = line;
            while let Some(at) = rest.find(anchor) {
                let before = rest[..at].chars().next_back();
                rest = &rest[at + anchor.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                for path in expand(rest) {
                    let mut target = base.clone();
                    target.extend(path);
                    out.push(Reference {
                        target,
                        line: i + 1,
                    });
                }
            }
        }
    }
    // `use crate::{\n a::b,\n c,\n};` spans lines: expand groups over the whole text too.
    for (anchor, base) in [("crate::{", Vec::new()), ("super::{", parent(module))] {
        let mut offset = 0;
        while let Some(at) = code[offset..].find(anchor) {
            let start = offset + at;
            let line = code[..start].matches('\n').count() + 1;
            for path in expand(&code[start + anchor.len() - 1..]) {
                let mut target = base.clone();
                target.extend(path);
                out.push(Reference { target, line });
            }
            offset = start + anchor.len();
        }
    }
    out
}

/// The parent module path (`super`).
fn parent(module: &[String]) -> Vec<String> {
    module[..module.len().saturating_sub(1)].to_vec()
}

/// The paths at the start of `text`: `a::b::C` gives one, `{a::b, c::{d, e}}` several.
fn expand(text: &str) -> Vec<Vec<String>> {
    let text = text.trim_start();
    if let Some(body) = text.strip_prefix('{') {
        let mut depth = 1;
        let mut end = body.len();
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        return split_top_level(&body[..end])
            .into_iter()
            .flat_map(expand)
            .collect();
    }
    let mut path = Vec::new();
    let mut rest = text;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            break;
        }
        rest = &rest[ident.len()..];
        path.push(ident);
        match rest.strip_prefix("::") {
            Some(r) if r.starts_with('{') => {
                return expand(r)
                    .into_iter()
                    .map(|tail| path.iter().cloned().chain(tail).collect())
                    .collect();
            }
            Some(r) => rest = r,
            None => break,
        }
    }
    if path.is_empty() { vec![] } else { vec![path] }
}

/// `a, b::{c, d}, e` -> `["a", "b::{c, d}", "e"]`.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// The longest prefix of `path` that is a module of the crate.
fn longest_module(modules: &BTreeSet<Vec<String>>, path: &[String]) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
}

/// The strongly connected sets of two or more nodes (Tarjan's algorithm).
fn strongly_connected(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<Vec<String>> {
    struct Search<'a> {
        graph: &'a BTreeMap<String, BTreeMap<String, String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, v: &'a str) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            for w in self.graph.get(v).into_iter().flat_map(|m| m.keys()) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(lw));
                } else if self.stack.contains(&w) {
                    let iw = self.index[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(iw));
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.push(component);
                }
            }
        }
    }
    let mut s = Search {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            s.visit(v);
        }
    }
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn a_cycle_between_top_level_modules_is_found_with_where() {
        let d = tree(&[
            ("lib.rs", "pub mod a; pub mod b;"),
            ("a.rs", "use crate::b::B;\n"),
            ("b/mod.rs", "pub mod c;\n"),
            ("b/c.rs", "use crate::{\n    a::A,\n};\n"),
        ]);
        let cycles = module_cycles(d.path()).unwrap();
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert!(cycles[0].contains("a <-> b"), "{}", cycles[0]);
        assert!(cycles[0].contains("b -> a at b/c.rs:1"), "{}", cycles[0]);
    }

    #[test]
    fn siblings_through_super_tests_and_comments() {
        let d = tree(&[
            ("x/mod.rs", "pub mod p; pub mod q; pub use p::P;"),
            ("x/p.rs", "use super::q::Q;\n"),
            (
                "x/q.rs",
                "// use super::p::P;\n#[cfg(test)]\nmod tests { use super::super::p::P; }\n",
            ),
        ]);
        assert!(module_cycles(d.path()).unwrap().is_empty());
        fs::write(d.path().join("x/q.rs"), "use super::{p::P, q};\n").unwrap();
        let cycles = module_cycles(d.path()).unwrap();
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert!(cycles[0].contains("x::p <-> x::q"), "{}", cycles[0]);
    }

    #[test]
    fn parents_and_children_are_not_siblings() {
        let d = tree(&[
            ("m/mod.rs", "pub mod k; use crate::m::k::K;"),
            ("m/k.rs", "use super::Shared; use crate::m::Other;"),
        ]);
        assert!(module_cycles(d.path()).unwrap().is_empty());
    }

    #[test]
    fn the_workspace_is_layered() {
        let root = crate::util::workspace_root().unwrap();
        for name in LAYERED {
            let src = root.join(name).join("src");
            if src.is_dir() {
                assert_eq!(module_cycles(&src).unwrap(), Vec::<String>::new(), "{name}");
            }
        }
    }
}
