//! The module structure the code must keep (issue 9, point 7): a data model that depends on
//! nothing else in the crate, and no import cycle between the top-level modules, so each
//! stage can be read, tested and changed on its own. Both are read from the source text:
//! every `crate::X` path outside comments and string literals is an import of `X`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, without recursion on the call stack.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The code of a Rust file with comments and the contents of string and char literals
/// blanked out, so a doc link or a message naming `crate::x` is not an import.
fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(text.len(), |n| i + n);
            i = end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(text.len(), |n| i + n + 2);
            i = end;
        } else if let Some(raw) = raw_string_end(rest) {
            out.push_str("\"\"");
            i += raw;
        } else if let Some(len) = char_literal_len(rest) {
            out.push_str("' '");
            i += len;
        } else if bytes[i] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The length of a char literal (`'"'`, `'\\''`, `'\\u{7f}'`) starting `text`, if one does
/// (a lifetime such as `'a` is not one).
fn char_literal_len(text: &str) -> Option<usize> {
    let body = text.strip_prefix('\'')?;
    if let Some(escaped) = body.strip_prefix('\\') {
        let end = escaped.get(1..)?.find('\'')?;
        return Some(1 + 1 + 1 + end + 1);
    }
    let c = body.chars().next()?;
    body[c.len_utf8()..]
        .starts_with('\'')
        .then(|| 1 + c.len_utf8() + 1)
}

/// The length of a raw string literal (`r"..."`, `r#"..."#`) starting `text`, if one does.
fn raw_string_end(text: &str) -> Option<usize> {
    let after_r = text.strip_prefix('r')?;
    let hashes = after_r.len() - after_r.trim_start_matches('#').len();
    let body = after_r[hashes..].strip_prefix('"')?;
    let closing = format!("\"{}", "#".repeat(hashes));
    let end = body.find(&closing)?;
    Some(1 + hashes + 1 + end + closing.len())
}

/// Every path a file names through `crate::`, as its segments, with one level of
/// `use crate::a::{b, c::D}` groups expanded (enough to know which modules are named).
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::") {
        let start = from + at;
        from = start + "crate::".len();
        // `$crate::` in macros and `other_crate::` or `x::crate::` are not paths of this crate.
        let before = code[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == ':') {
            continue;
        }
        let rest = &code[from..];
        let (prefix, after) = segments(rest);
        match after.strip_prefix('{') {
            Some(group) => {
                let end = matching_brace(group);
                for item in split_top_level(&group[..end]) {
                    let (inner, _) = segments(item.trim());
                    let mut path = prefix.clone();
                    path.extend(inner.into_iter().filter(|s| s != "self"));
                    paths.push(path);
                }
            }
            None => paths.push(prefix),
        }
    }
    paths.retain(|path| !path.is_empty());
    paths
}

fn matching_brace(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// `a::b::C;` → `([a, b, C], ";")`; `a::{..}` → `([a], "{..}")`: the path's segments and
/// the text after them.
fn segments(text: &str) -> (Vec<String>, &str) {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            break;
        }
        rest = &rest[name.len()..];
        out.push(name);
        match rest.strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    (out, rest)
}

/// The top-level module a file under `src/` belongs to (`src/source/git/mod.rs` → `source`).
fn top_level_module(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(source_dir()).ok()?;
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    let module = first.trim_end_matches(".rs").to_string();
    (module != "lib" && module != "main").then_some(module)
}

/// Modules re-exported under another top-level module for code that still names them
/// there: `pub use crate::source::{bounds, recorder};` in `src/scan/mod.rs` makes
/// `crate::scan::recorder` an alias of `crate::source::recorder`. A path through an alias is
/// an import of the module that defines the item, not of the one that re-exports it.
fn module_aliases() -> BTreeMap<(String, String), String> {
    let mut aliases = BTreeMap::new();
    for file in rust_files(&source_dir()) {
        let Some(owner) = top_level_module(&file) else {
            continue;
        };
        let is_module_root = file.ends_with(format!("{owner}/mod.rs"))
            || file.ends_with(format!("{owner}.rs"))
            || file.parent() == Some(&source_dir());
        if !is_module_root {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        for statement in code.split(';') {
            let Some(used) = statement.trim().strip_prefix("pub use crate::") else {
                continue;
            };
            let wrapped = format!("crate::{used}");
            for path in crate_paths(&wrapped) {
                // Only a module (lower-case last segment) re-exported whole is an alias.
                let is_module = path
                    .last()
                    .is_some_and(|n| n.chars().next().is_some_and(|c| c.is_lowercase()));
                if path.len() >= 2 && is_module && path[0] != owner {
                    let name = path.last().unwrap().clone();
                    aliases.insert((owner.clone(), name), path[0].clone());
                }
            }
        }
    }
    aliases
}

/// Which top-level modules each top-level module imports, with one file per edge as the
/// example to show when a cycle is found.
fn module_graph() -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let aliases = module_aliases();
    let mut graph: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for file in rust_files(&source_dir()) {
        let Some(from) = top_level_module(&file) else {
            continue;
        };
        let node = graph.entry(from.clone()).or_default();
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        for path in crate_paths(&code) {
            let Some(first) = path.first() else { continue };
            let to = path
                .get(1)
                .and_then(|second| aliases.get(&(first.clone(), second.clone())))
                .unwrap_or(first)
                .clone();
            if to != from && to != "self" && to != "super" {
                node.entry(to).or_insert_with(|| file.clone());
            }
        }
    }
    graph
}

#[test]
fn the_data_model_imports_nothing_else_from_the_crate() {
    let model = source_dir().join("model");
    let files = rust_files(&model);
    assert!(files.len() >= 5, "src/model/ holds the data model");
    let mut offending = Vec::new();
    for file in &files {
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        for path in crate_paths(&code) {
            if path.first().map(String::as_str) != Some("model") {
                offending.push(format!("{}: crate::{}", file.display(), path.join("::")));
            }
        }
        for line in code.lines() {
            let line = line.trim();
            // `super::super::x` could climb out of the model; plain `super::` stays inside.
            assert!(
                !line.contains("super::super::"),
                "{}: {line}: the model names its own modules through crate::model",
                file.display()
            );
        }
    }
    assert!(
        offending.is_empty(),
        "the data model must depend on nothing else in the crate (move the type into \
         src/model/ and re-export it at its old path instead):\n{}",
        offending.join("\n")
    );
}

#[test]
fn the_top_level_modules_form_no_import_cycle() {
    let graph = module_graph();
    assert!(graph.contains_key("model") && graph.contains_key("source"));
    // Depth-first search with an explicit stack; a back edge is a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
    for start in graph.keys() {
        if marks.contains_key(start.as_str()) {
            continue;
        }
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(start, successors(&graph, start))];
        marks.insert(start, Mark::Open);
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            let Some(to) = next.pop() else {
                marks.insert(node, Mark::Done);
                stack.pop();
                continue;
            };
            match marks.get(to) {
                Some(Mark::Done) => {}
                Some(Mark::Open) => {
                    let at = stack.iter().position(|(n, _)| *n == to).unwrap();
                    let mut cycle: Vec<&str> = stack[at..].iter().map(|(n, _)| *n).collect();
                    cycle.push(to);
                    let why: Vec<String> = cycle
                        .windows(2)
                        .map(|pair| {
                            format!(
                                "  {} -> {} (e.g. {})",
                                pair[0],
                                pair[1],
                                graph[pair[0]][pair[1]].display()
                            )
                        })
                        .collect();
                    panic!(
                        "import cycle between top-level modules: {}\n{}\nmove the shared type \
                         down (into src/model/ if it is data) instead",
                        cycle.join(" -> "),
                        why.join("\n")
                    );
                }
                None => {
                    marks.insert(to, Mark::Open);
                    stack.push((to, successors(&graph, to)));
                }
            }
        }
    }
}

fn successors<'g>(
    graph: &'g BTreeMap<String, BTreeMap<String, PathBuf>>,
    node: &str,
) -> Vec<&'g str> {
    graph
        .get(node)
        .map(|edges| edges.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn the_graph_reader_sees_imports_and_ignores_comments_and_strings() {
    let code = code_only(
        "use crate::model::{Finding, gaps::GapKind};\n// crate::scan::run\n\
         let q = '\"'; let e = '\\''; fn g<'a>(x: &'a str) {}\n\
         let s = \"crate::report\"; let r = r#\"crate::cli\"#; x::crate::no; $crate::m;\n\
         fn f(r: &crate::source::recorder::Recorder) {}",
    );
    let named: BTreeSet<String> = crate_paths(&code).iter().map(|p| p.join("::")).collect();
    let expected: BTreeSet<String> = [
        "model::Finding",
        "model::gaps::GapKind",
        "source::recorder::Recorder",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(named, expected);
}
