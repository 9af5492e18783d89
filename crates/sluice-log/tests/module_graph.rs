//! No import circles among the crate's modules.
//!
//! Reads every `src/**/*.rs`, finds the module paths each file names — `use crate::…`,
//! `use super::…`, `use self::…` (use trees expanded) and qualified `crate::…` / `super::…` paths
//! in code — resolves each to the file that defines the module, and fails when the files'
//! dependency graph has a cycle. A module and its own parent are not a circle (a `mod.rs`
//! declares and re-exports its children, a child uses its parent's types), so edges between a
//! file and its direct parent are left out; every other edge counts, siblings included.
//! Comments, string and char literals are skipped; inline `mod x { … }` blocks (tests) are
//! followed so `super::` resolves from the right place; names the crate root re-exports
//! (`crate::Error`) resolve to the module they come from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path below the crate root: `["log", "cleaner", "job"]`; the root is `[]`.
type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

/// Tokens of Rust source with comments and literals removed (only what path parsing needs).
fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_string(&chars, i + 1);
        } else if (c == 'r' || c == 'b')
            && let Some(end) = raw_string_end(&chars, i)
        {
            i = end;
        } else if c == '\'' {
            i = skip_char_or_lifetime(&chars, i);
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if chars.get(i) == Some(&'"') && (word == "b" || word == "c") {
                i = skip_string(&chars, i + 1);
            } else {
                tokens.push(Token::Ident(word));
            }
        } else if c == ':' && next == Some(':') {
            tokens.push(Token::PathSep);
            i += 2;
        } else if c.is_whitespace() {
            i += 1;
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// Index after the closing quote of a string whose body starts at `i`.
fn skip_string(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// `r"…"`, `r#"…"#`, `br"…"` starting at `i`: the index after it, or None if this is no raw string.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if chars[j] == 'b' {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if chars.get(j) != Some(&'"') {
        return None;
    }
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None; // the tail of an identifier
    }
    j += 1;
    while j < chars.len() {
        if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(j)
}

/// A char literal (`'a'`, `'\n'`, `'\''`) is skipped whole; a lifetime (`'a`) only its quote.
fn skip_char_or_lifetime(chars: &[char], i: usize) -> usize {
    if chars.get(i + 1) == Some(&'\\') {
        let mut j = i + 2;
        while j < chars.len() && chars[j] != '\'' {
            j += 1;
        }
        return j + 1;
    }
    if chars.get(i + 2) == Some(&'\'') {
        return i + 3;
    }
    i + 1
}

/// Full paths of a use tree starting at `tokens[*at]`, each with the prefix already read; stops
/// after the tree (at `,`, `}` or `;`).
fn use_tree(tokens: &[Token], at: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    loop {
        match tokens.get(*at) {
            Some(Token::Ident(name)) => {
                path.push(name.clone());
                *at += 1;
                if tokens.get(*at) == Some(&Token::Ident("as".into())) {
                    *at += 2;
                }
            }
            Some(Token::Punct('{')) => {
                *at += 1;
                loop {
                    match tokens.get(*at) {
                        Some(Token::Punct('}')) => {
                            *at += 1;
                            return;
                        }
                        Some(Token::Punct(',')) => *at += 1,
                        None => return,
                        _ => use_tree(tokens, at, &path, out),
                    }
                }
            }
            Some(Token::Punct('*')) => {
                *at += 1;
                out.push(path);
                return;
            }
            _ => {
                out.push(path);
                return;
            }
        }
        if tokens.get(*at) == Some(&Token::PathSep) {
            *at += 1;
        } else {
            out.push(path);
            return;
        }
    }
}

/// Every `crate::`, `super::` and `self::` path of a file, as written, each with the inline
/// module (relative to the file) it appears in.
fn referenced_paths(tokens: &[Token]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut found = Vec::new();
    // Inline modules open at brace depth: (name, depth of its body).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let here: Vec<String> = inline.iter().map(|(name, _)| name.clone()).collect();
        match &tokens[i] {
            Token::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Token::Punct('}') => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Punct('{'))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    depth += 1;
                    inline.push((name.clone(), depth));
                    i += 3;
                } else {
                    i += 1;
                }
            }
            Token::Ident(word) if word == "use" => {
                i += 1;
                if tokens.get(i) == Some(&Token::PathSep) {
                    i += 1; // `use ::std::…`: an extern path
                }
                let mut paths = Vec::new();
                use_tree(tokens, &mut i, &[], &mut paths);
                for path in paths {
                    if ["crate", "super", "self"].contains(&path[0].as_str()) {
                        found.push((path, here.clone()));
                    }
                }
            }
            Token::Ident(word)
                if ["crate", "super"].contains(&word.as_str())
                    && tokens.get(i + 1) == Some(&Token::PathSep)
                    && !(i > 0 && tokens[i - 1] == Token::PathSep) =>
            {
                let mut path = vec![word.clone()];
                i += 1;
                while tokens.get(i) == Some(&Token::PathSep) {
                    match tokens.get(i + 1) {
                        Some(Token::Ident(name)) => {
                            path.push(name.clone());
                            i += 2;
                        }
                        _ => break,
                    }
                }
                found.push((path, here));
            }
            _ => i += 1,
        }
    }
    found
}

/// The module a file defines: `src/lib.rs` -> [], `src/a/mod.rs` -> [a], `src/a/b.rs` -> [a, b].
fn module_of(src: &Path, file: &Path) -> ModPath {
    let relative = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.strip_suffix(".rs").expect("a .rs file").to_string();
    if stem != "mod" && !(parts.is_empty() && stem == "lib") {
        parts.push(stem);
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file module a path names: the longest prefix of it that is a known module, after
/// resolving names the crate root re-exports.
fn resolve(
    path: &[String],
    modules: &BTreeSet<ModPath>,
    root_exports: &BTreeMap<String, ModPath>,
) -> ModPath {
    if let Some(first) = path.first()
        && !modules.contains(&vec![first.clone()])
        && let Some(module) = root_exports.get(first)
    {
        return module.clone();
    }
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|prefix| modules.contains(prefix))
        .unwrap_or_default()
}

/// A path as written (`crate::…`, `super::…`, `self::…`) from module `from`, made absolute.
fn absolute(path: &[String], from: &[String]) -> ModPath {
    let mut base: Vec<String> = from.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        _ => {
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "super" => {
                        base.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
    }
    base.extend(rest.iter().cloned());
    base
}

/// One is the direct parent module of the other.
fn parent_and_child(a: &[String], b: &[String]) -> bool {
    (a.len() + 1 == b.len() && b.starts_with(a)) || (b.len() + 1 == a.len() && a.starts_with(b))
}

/// The dependency graph of the crate's files: module -> modules it names.
fn module_graph(src: &Path) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<ModPath> = files.iter().map(|f| module_of(src, f)).collect();
    let root_source = std::fs::read_to_string(src.join("lib.rs")).expect("read lib.rs");
    let mut root_exports = BTreeMap::new();
    let root_tokens = tokenize(&root_source);
    let mut i = 0;
    while i < root_tokens.len() {
        if root_tokens[i] == Token::Ident("use".into()) {
            i += 1;
            let mut paths = Vec::new();
            use_tree(&root_tokens, &mut i, &[], &mut paths);
            for path in paths {
                let name = path.last().expect("a use path has a name").clone();
                let module = resolve(&path, &modules, &BTreeMap::new());
                root_exports.insert(name, module);
            }
        } else {
            i += 1;
        }
    }
    let mut graph: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for file in &files {
        let from = module_of(src, file);
        let source = std::fs::read_to_string(file).expect("read source");
        let edges = graph.entry(from.clone()).or_default();
        for (path, inline) in referenced_paths(&tokenize(&source)) {
            let mut here = from.clone();
            here.extend(inline);
            let target = resolve(&absolute(&path, &here), &modules, &root_exports);
            if target != from && !parent_and_child(&from, &target) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// A cycle of the graph, as the nodes along it (first repeated at the end), if there is one.
fn find_cycle<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        InProgress,
        Done,
    }
    fn visit<N: Ord + Clone>(
        node: &N,
        graph: &BTreeMap<N, BTreeSet<N>>,
        marks: &mut BTreeMap<N, Mark>,
        stack: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::InProgress) => {
                let start = stack.iter().position(|n| n == node).expect("on the stack");
                let mut cycle = stack[start..].to_vec();
                cycle.push(node.clone());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::InProgress);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut marks, &mut Vec::new()))
}

fn show(module: &[String]) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

#[test]
fn the_crate_modules_import_each_other_without_circles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    // The parser must see the imports at all: a graph with no edges would pass vacuously.
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    assert!(
        edges > 30,
        "only {edges} module edges found: is the parser broken?"
    );
    let log_open = vec!["log".to_string(), "open".to_string()];
    assert!(
        graph[&log_open].contains(&vec!["segment".to_string()]),
        "log::open names crate::segment"
    );
    if let Some(cycle) = find_cycle(&graph) {
        let shown: Vec<String> = cycle.iter().map(|m| show(m)).collect();
        panic!("import circle: {}", shown.join(" -> "));
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle_and_only_a_cycle() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    let acyclic = graph(&[("a", "b"), ("b", "c"), ("a", "c"), ("d", "c")]);
    assert_eq!(find_cycle(&acyclic), None);
    let cyclic = graph(&[("a", "b"), ("b", "c"), ("c", "d"), ("d", "b")]);
    assert_eq!(
        find_cycle(&cyclic),
        Some(vec!["b".to_string(), "c".into(), "d".into(), "b".into()])
    );
    let two = graph(&[("x", "y"), ("y", "x")]);
    assert!(find_cycle(&two).is_some());
}

#[test]
fn paths_are_read_from_use_trees_and_code_but_not_from_comments_or_strings() {
    let source = r#"
        use crate::a::{b::{self, C}, d as e};
        use super::sibling::Thing;
        // use crate::commented::Out;
        /* crate::blocked::Out */
        fn f() { let s = "crate::quoted::Out"; let c = '"'; crate::qualified::g(); }
        mod tests { use super::*; }
    "#;
    let found: Vec<(String, String)> = referenced_paths(&tokenize(source))
        .into_iter()
        .map(|(path, inline)| (path.join("::"), inline.join("::")))
        .collect();
    let expect = |path: &str, inline: &str| (path.to_string(), inline.to_string());
    assert_eq!(
        found,
        vec![
            expect("crate::a::b::self", ""),
            expect("crate::a::b::C", ""),
            expect("crate::a::d", ""),
            expect("super::sibling::Thing", ""),
            expect("crate::qualified::g", ""),
            expect("super", "tests"),
        ]
    );
}

#[test]
fn sibling_imports_count_and_parent_child_ones_do_not() {
    let m = |s: &str| -> ModPath { s.split("::").map(String::from).collect() };
    assert!(parent_and_child(&m("log"), &m("log::cleaner")));
    assert!(parent_and_child(
        &m("log::cleaner::job"),
        &m("log::cleaner")
    ));
    assert!(!parent_and_child(&m("log::open"), &m("log::read")));
    assert!(!parent_and_child(&m("log"), &m("log::cleaner::job")));
    assert_eq!(
        absolute(&m("super::swap::recover"), &m("log::cleaner::job")),
        m("log::cleaner::swap::recover")
    );
    assert_eq!(
        absolute(&m("super::Segment"), &m("segment::lookup::tests")),
        m("segment::lookup::Segment")
    );
    assert_eq!(
        absolute(&m("crate::records::batch"), &m("log")),
        m("records::batch")
    );
}
