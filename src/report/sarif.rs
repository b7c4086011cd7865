//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One rule per encoding (`revoked-secret/base64`); one result per finding, located at the
//! file it is in, with the line. A finding inside an archive member or git object is
//! located at the outermost file, and its message names the whole chain and the line
//! within the innermost element. No result carries a snippet: the region is a line number
//! only, so the secret never reaches SARIF.
//!
//! **Stable across runs, without a way to confirm a guess.** Code scanning tracks an alert
//! by its rule and `partialFingerprints`. Neither may change between runs (the report's salt
//! is random per run), and neither may be computed from the secret (whoever holds the SARIF
//! could then test guesses against it). So the rule id names only the encoding, and
//! `primaryLocationLineHash` hashes the secret's *stable name* — its ledger entry id, or
//! its short name from where it was given (`env:OLD_TOKEN`, `file:secrets.txt:3`,
//! `key:old.pem`) — with the encoding, the location (URI, inner chain) and an occurrence
//! number. None of these is derived from the secret's bytes. See docs/sarif.md.
//!
//! **URIs** are relative to the repository root when the scanned PATH is inside a git work
//! tree (to the PATH otherwise), never absolute `file://` URIs. A finding in a commit or tag
//! message or a tree entry name has no file: it gets a logical location (the object id)
//! and no physical one, never a directory URI.
//!
//! A finding in a git object that a commit introduced at a path is located at that path in
//! the repository's work tree (line and column within the object); the result's
//! `properties` carry the object id and kind, the introducing commit(s) with paths,
//! reachability, refs and reflogs, so a reviewer knows which history to rewrite.
//!
//! `versionControlProvenance` names, for each scanned PATH that is the top of a git working
//! tree with an `origin` remote, the remote (credentials removed) and the commit checked out.
//!
//! Rendering is a pure function of the report: where each root sits in git was recorded when
//! the scan ran (`RootCoverage::work_tree`), so nothing here opens a repository or a file.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::Report;
use crate::model::{Finding, GitProvenance};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF document, written result by result: the run's frame is rendered with an empty
/// `results` array, and each result is serialised on its own into that place, so a report
/// with many findings never becomes one large tree of JSON values in memory (the output is
/// byte for byte what pretty-printing the whole document would give).
pub fn render(report: &Report) -> anyhow::Result<Vec<u8>> {
    let frame = serde_json::to_vec_pretty(&frame(report))?;
    let Some(at) = find(&frame, RESULTS_PLACEHOLDER) else {
        anyhow::bail!("internal error: the SARIF frame has no results array");
    };
    let mut out = Vec::with_capacity(frame.len() + report.findings.len() * 1024);
    let open = at + RESULTS_PLACEHOLDER.len() - 1;
    out.extend_from_slice(&frame[..open]);
    let rule_index = rule_indices(report);
    let mut occurrences: HashMap<String, usize> = HashMap::new();
    let uris = UriMapper::new(report);
    let mut one = Vec::new();
    for (n, finding) in report.findings.iter().enumerate() {
        let id = rule_id(finding);
        let index = rule_index.get(&id).copied().unwrap_or(0);
        let value = result(report, &uris, finding, &id, index, &mut occurrences);
        one.clear();
        serde_json::to_writer_pretty(&mut one, &value)?;
        out.extend_from_slice(if n == 0 { b"\n" } else { b",\n" });
        out.extend_from_slice(RESULT_INDENT);
        // Strings in JSON hold no raw line breaks, so every one is between tokens.
        for (line_number, line) in one.split(|&b| b == b'\n').enumerate() {
            if line_number > 0 {
                out.push(b'\n');
                out.extend_from_slice(RESULT_INDENT);
            }
            out.extend_from_slice(line);
        }
    }
    if !report.findings.is_empty() {
        out.push(b'\n');
        out.extend_from_slice(&RESULT_INDENT[..RESULT_INDENT.len() - 2]);
    }
    out.extend_from_slice(&frame[open..]);
    out.push(b'\n');
    Ok(out)
}

/// How the empty `results` array of the frame is pretty-printed (it is the only one).
const RESULTS_PLACEHOLDER: &[u8] = b"\"results\": []";

/// Indentation of one result: `runs` > run > `results` > result, two spaces a level.
const RESULT_INDENT: &[u8] = b"        ";

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rule_indices(report: &Report) -> HashMap<String, usize> {
    rules(report)
        .keys()
        .enumerate()
        .map(|(index, id)| (id.clone(), index))
        .collect()
}

/// Everything of the document but its results.
fn frame(report: &Report) -> Value {
    let rules = rules(report);
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": "https://github.com/scour-dev/scour",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": true,
                "startTimeUtc": report.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "endTimeUtc": report.finished_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "toolExecutionNotifications": gap_notifications(report),
            }],
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The scanned PATH"}}},
            "versionControlProvenance": version_control(report),
            "results": [],
            "properties": {"verdict": report.verdict.as_str(), "gaps": report.summary.gaps},
        }],
    })
}

fn rule_id(finding: &Finding) -> String {
    format!("revoked-secret/{}", finding.encoding)
}

/// The secret's stable name: its ledger entry id, or where the user gave it. Never computed
/// from the secret, so it cannot be used to test a guess.
fn stable_name(report: &Report, finding: &Finding) -> String {
    let given = report
        .secrets
        .iter()
        .find(|record| record.id == finding.secret)
        .and_then(|record| record.name.clone().or_else(|| record.source.clone()));
    match given {
        Some(source) => format!("given:{source}"),
        None => format!("ledger:{}", finding.secret),
    }
}

fn rules(report: &Report) -> BTreeMap<String, Value> {
    let mut rules = BTreeMap::new();
    for finding in &report.findings {
        let id = rule_id(finding);
        rules.entry(id.clone()).or_insert_with(|| {
            json!({
                "id": id,
                "name": "RevokedSecret",
                "shortDescription": {"text": format!(
                    "Revoked secret ({} encoding)", finding.encoding)},
                "fullDescription": {"text": format!(
                    "A revoked secret is still present in {} form. Remove it from the file, \
                     its history, backups and logs.",
                    finding.encoding)},
                "help": {"text": "scour found a copy of a secret that was revoked. Delete this \
                    copy (rewrite history for git objects, replace archives), then run \
                    scour again until the verdict is absent."},
                "defaultConfiguration": {"level": "error"},
                "properties": {"security-severity": "9.0", "tags": ["security", "secret"]},
            })
        });
    }
    rules
}

fn result(
    report: &Report,
    uris: &UriMapper,
    finding: &Finding,
    rule: &str,
    rule_index: usize,
    occurrences: &mut HashMap<String, usize>,
) -> Value {
    let chain = &finding.location.chain;
    let outer = chain.first().map(String::as_str).unwrap_or_default();
    let in_history = git_path(finding);
    let nested = chain.len() > 1 && in_history.is_none();
    let line = if nested {
        1
    } else {
        finding.location.line.max(1)
    };
    let mut region = json!({"startLine": line});
    if !nested {
        region["startColumn"] = json!(finding.location.column.max(1));
    }
    let artifact = match &in_history {
        Some(path) => uris.artifact(path),
        None if finding.git.is_some() => None,
        None => uris.artifact(outer),
    };
    let place = artifact
        .as_ref()
        .and_then(|a| a["uri"].as_str())
        .unwrap_or_default()
        .to_string();
    let inner: Vec<&str> = chain.iter().skip(1).map(String::as_str).collect();
    let key = hex::encode(
        &Sha256::digest(
            format!(
                "scour-sarif-v1\n{}\n{rule}\n{place}\n{}",
                stable_name(report, finding),
                inner.join("\n")
            )
            .as_bytes(),
        )[..16],
    );
    let occurrence = occurrences.entry(key.clone()).or_insert(0);
    *occurrence += 1;
    let mut message = format!(
        "Revoked secret {} found as {} ({}) in {} at line {}, column {}.",
        finding.secret,
        finding.encoding,
        finding.encoding_detail,
        finding.location.display_path(),
        finding.location.line,
        finding.location.column
    );
    if let Some(git) = &finding.git {
        message.push_str(&format!(" In history: {}.", git.describe()));
    }
    if finding.more > 0 {
        message.push_str(&format!(
            " {} more occurrence(s) of this secret here are counted but not listed.",
            finding.more
        ));
    }
    let location = match artifact {
        Some(artifact) => json!({"physicalLocation": {
            "artifactLocation": artifact,
            "region": region,
        }}),
        // A commit or tag message, or a tree entry name: no file to point at.
        None => json!({"logicalLocations": [{
            "name": finding.git.as_ref().map(|g| g.object.clone()).unwrap_or_default(),
            "kind": finding.git.as_ref().map(|g| g.kind.clone()).unwrap_or_default(),
        }]}),
    };
    let mut result = json!({
        "ruleId": rule,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {"primaryLocationLineHash": format!("{key}:{occurrence}")},
    });
    if let Some(git) = &finding.git {
        result["properties"] = git_properties(git);
    }
    if finding.more > 0 {
        result["properties"]["occurrencesNotListed"] = json!(finding.more);
    }
    result
}

/// Where a secret in a git object sits in a checkout: the repository's work tree joined with
/// the object's path in the first commit that introduced it. `None` for anything else (a
/// commit message, an object no commit names, a repository inside an archive).
fn git_path(finding: &Finding) -> Option<String> {
    let git = finding.git.as_ref()?;
    if finding.location.chain.first() != Some(&git.repository) {
        return None;
    }
    // Only a blob is a file at a path; a commit, tag or tree has no file to point at.
    if git.kind != "blob" {
        return None;
    }
    let path = &git.commits.first()?.path;
    if path.is_empty() {
        return None;
    }
    let repository = git.repository.trim_end_matches('/');
    // `REPO/.git` has its work tree at `REPO`; a bare repository has none, so its paths are
    // shown under the repository itself.
    let tree = match repository.strip_suffix(".git") {
        Some(parent) if parent.is_empty() || parent.ends_with('/') => parent.trim_end_matches('/'),
        _ => repository,
    };
    Some(if tree.is_empty() {
        path.clone()
    } else {
        format!("{tree}/{path}")
    })
}

/// The git facts of a result, for reviewers and tools: no secret bytes, only ids and names.
fn git_properties(git: &GitProvenance) -> Value {
    let mut properties = json!({
        "gitRepository": git.repository,
        "gitObject": git.object,
        "gitObjectKind": git.kind,
        "reachability": git.reachability,
        "containingCommits": git.containing_commits,
        "refs": git.refs,
        "reflogs": git.reflogs,
        "commits": git.commits.iter().map(|c| json!({"commit": c.commit, "path": c.path})).collect::<Vec<_>>(),
    });
    if let Some(first) = git.commits.first() {
        properties["commit"] = json!(first.commit);
    }
    if !git.index.is_empty() {
        properties["index"] = json!(git.index);
    }
    properties
}

/// Turns report paths into URIs relative to the repository root (or the scanned PATH).
struct UriMapper {
    /// Each root as the report names it, and the prefix of its paths below the repository
    /// work tree that holds it (empty when the root is the work tree, or in none).
    roots: Vec<(String, String, bool)>,
}

impl UriMapper {
    fn new(report: &Report) -> UriMapper {
        let roots = report
            .coverage
            .roots
            .iter()
            .map(|root| {
                let prefix = root
                    .work_tree
                    .as_ref()
                    .and_then(|tree| tree.prefix.clone())
                    .unwrap_or_default();
                let is_file = root.kind != "directory";
                (root.root.trim_end_matches('/').to_string(), prefix, is_file)
            })
            .collect();
        UriMapper { roots }
    }

    /// The artifact location of `path`, relative; `None` only if there is nothing to name.
    fn artifact(&self, path: &str) -> Option<Value> {
        for (base, prefix, is_file) in &self.roots {
            let Some(rest) = path.strip_prefix(base.as_str()) else {
                continue;
            };
            let relative = match rest.strip_prefix('/') {
                Some(relative) if !relative.is_empty() => format!("{prefix}{relative}"),
                // The root itself is the file: its name below the repository (or its name).
                _ if rest.is_empty() && *is_file => {
                    let name = std::path::Path::new(base)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())?;
                    if prefix.is_empty() {
                        name
                    } else {
                        prefix.trim_end_matches('/').to_string()
                    }
                }
                // A directory itself is never an artifact.
                _ if rest.is_empty() => return None,
                _ => continue,
            };
            return Some(json!({"uri": encode_uri_path(&relative), "uriBaseId": "%SRCROOT%"}));
        }
        // Not under any root (cannot happen for paths the scan reached): never absolute.
        let relative = path.trim_start_matches('/');
        (!relative.is_empty())
            .then(|| json!({"uri": encode_uri_path(relative), "uriBaseId": "%SRCROOT%"}))
    }
}

fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Gaps are what makes a verdict incomplete; SARIF carries them as warnings of the run.
fn gap_notifications(report: &Report) -> Vec<Value> {
    report
        .coverage
        .gaps()
        .map(|gap| {
            json!({
                "level": "warning",
                "message": {"text": format!("[{}] {}", gap.kind, gap.reason)},
            })
        })
        .collect()
}

/// The repository and commit of each scanned PATH that is a git working tree with a remote,
/// as the scan recorded them.
fn version_control(report: &Report) -> Vec<Value> {
    report
        .coverage
        .roots
        .iter()
        .filter(|root| root.kind == "directory")
        .filter_map(|root| {
            let checkout = root.work_tree.as_ref()?.checkout.as_ref()?;
            let mut entry = json!({
                "repositoryUri": checkout.remote,
                "revisionId": checkout.revision,
                "mappedTo": {"uriBaseId": "%SRCROOT%"},
            });
            if let Some(branch) = &checkout.branch {
                entry["branch"] = json!(branch);
            }
            Some(entry)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Checkout, Coverage, Location, RootCoverage, Verdict, WorkTree};
    use crate::report::{ScanRecord, SecretRecord};

    /// A report naming roots that do not exist on this machine: everything SARIF shows about
    /// git must come from the report itself.
    fn report_about_absent_roots() -> Report {
        let root = |name: &str, work_tree| RootCoverage {
            root: format!("/nonexistent/{name}"),
            kind: "directory".to_string(),
            work_tree,
            ..RootCoverage::default()
        };
        let finding = Finding {
            secret: "abcd".to_string(),
            encoding: "raw".to_string(),
            encoding_detail: "as given".to_string(),
            location: Location {
                chain: vec!["/nonexistent/repo/src/app/config.py".to_string()],
                offset: 10,
                line: 2,
                column: 3,
                within: None,
            },
            mode: Default::default(),
            git: None,
            more: 0,
            store: None,
        };
        let now = chrono::Utc::now();
        Report::new(
            Verdict::Found,
            now,
            now,
            crate::secret::Salt::random(),
            vec![SecretRecord {
                id: "abcd".to_string(),
                fingerprint: "ab".repeat(32),
                source: None,
                name: Some("env:OLD".to_string()),
            }],
            ScanRecord {
                paths: vec!["/nonexistent/repo/src".to_string()],
                excludes: Vec::new(),
                respect_gitignore: false,
                follows_symlinks: false,
                opens_special_files: false,
                encodings: vec!["raw".to_string()],
                patterns: 1,
                threads: 1,
                shard: None,
                content_digests: false,
                allow_opaque: false,
                s3_versions: None,
            },
            vec![finding],
            Coverage {
                roots: vec![
                    root(
                        "repo/src",
                        Some(WorkTree {
                            prefix: Some("src/".to_string()),
                            checkout: None,
                        }),
                    ),
                    root(
                        "top",
                        Some(WorkTree {
                            prefix: Some(String::new()),
                            checkout: Some(Checkout {
                                remote: "https://git.example.com/o/r.git".to_string(),
                                revision: "1".repeat(40),
                                branch: Some("main".to_string()),
                            }),
                        }),
                    ),
                ],
            },
        )
    }

    #[test]
    fn uris_and_version_control_come_from_the_report_alone() {
        let sarif: Value = serde_json::from_slice(&render(&report_about_absent_roots()).unwrap())
            .expect("SARIF is JSON");
        let run = &sarif["runs"][0];
        assert_eq!(
            run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "src/app/config.py",
            "relative to the work tree, as recorded at scan time"
        );
        let provenance = &run["versionControlProvenance"];
        assert_eq!(provenance.as_array().map(Vec::len), Some(1));
        assert_eq!(
            provenance[0]["repositoryUri"],
            "https://git.example.com/o/r.git"
        );
        assert_eq!(provenance[0]["revisionId"], "1".repeat(40).as_str());
        assert_eq!(provenance[0]["branch"], "main");
    }
}
