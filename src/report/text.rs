//! The text report: a summary a person can act on, findings grouped by place, and a
//! compact coverage table (per root: files, bytes, repositories, archives, skipped, gaps;
//! then gaps by kind) so what was and was not read can be seen at a glance.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Report;
use crate::model::{display_chain, Verdict};

struct Palette {
    color: bool,
}

impl Palette {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

pub fn render(report: &Report, color: bool) -> String {
    let palette = Palette { color };
    let mut out = String::new();
    let verdict = match report.verdict {
        Verdict::Found => palette.paint("1;31", "FOUND"),
        Verdict::Incomplete => palette.paint("1;33", "INCOMPLETE"),
        Verdict::Absent => palette.paint("1;32", "ABSENT"),
    };
    let s = &report.summary;
    let _ = writeln!(
        out,
        "scour {}: {verdict} — {} finding(s), {} gap(s); {} file(s), {} byte(s) scanned",
        report.tool.version, s.findings, s.gaps, s.files_scanned, s.bytes_scanned
    );
    let ids: Vec<&str> = report.secrets.iter().map(|r| r.id.as_str()).collect();
    if !ids.is_empty() || report.ledger.is_none() {
        let _ = writeln!(out, "secrets (salted fingerprint ids): {}", ids.join(", "));
    }

    if !report.findings.is_empty() {
        let _ = writeln!(out, "\nFindings");
        let mut by_place: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for finding in &report.findings {
            let place = finding.location.display_path();
            let l = &finding.location;
            let mut line = format!(
                "line {}, column {} (byte {}): secret {} as {} ({})",
                l.line,
                l.column,
                l.offset,
                finding.secret,
                finding.encoding,
                finding.encoding_detail
            );
            if let Some(git) = &finding.git {
                line.push_str(&format!("\n      {}", git.describe()));
            }
            if finding.more > 0 {
                line.push_str(&format!(
                    "\n    ... and {} more occurrence(s) of secret {} here, counted but not listed",
                    finding.more, finding.secret
                ));
            }
            by_place.entry(place).or_default().push(line);
        }
        for (place, lines) in by_place {
            let _ = writeln!(out, "  {}", palette.paint("1", &place));
            for line in lines {
                let _ = writeln!(out, "    {line}");
            }
        }
    }

    let gaps: Vec<_> = report.coverage.gaps().collect();
    if !gaps.is_empty() {
        let _ = writeln!(out, "\nGaps (not fully scanned, so absence is not proven)");
        for gap in gaps {
            let _ = writeln!(
                out,
                "  [{}] {}: {}",
                gap.kind,
                display_chain(&gap.chain),
                gap.reason
            );
        }
    }

    out.push_str(&coverage_table(report));
    let options = &report.scan;
    if !options.excludes.is_empty() || options.respect_gitignore {
        let _ = writeln!(
            out,
            "  narrowed by the user: excludes {:?}, respect gitignore: {}",
            options.excludes, options.respect_gitignore
        );
    }
    if let Some(ledger) = &report.ledger {
        let _ = writeln!(
            out,
            "\nLedger {} ({} entries, sha256 {}; {} rules)",
            ledger.path, ledger.entries, ledger.sha256, ledger.rules
        );
        let _ = writeln!(out, "  hash mode cannot see:");
        for limit in &ledger.cannot_see {
            let _ = writeln!(out, "  - {limit}");
        }
    }
    let _ = writeln!(out, "\n{}", meaning(report.verdict));
    if report.ledger.is_some() && report.verdict == Verdict::Absent {
        let _ = writeln!(
            out,
            "Ledger entries were looked for by hash: absent within the limits listed under Ledger."
        );
    }
    if let Some(shard) = report.scan.shard {
        let _ = writeln!(
            out,
            "This covers only shard {shard} of the work: merge every shard with `scour merge` \
             before relying on it."
        );
    }
    out
}

fn meaning(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Found => "The secret still lives in the places above: remove it there (and from history, backups and logs) and scan again.",
        Verdict::Incomplete => "Nothing was found, but the gaps above were not scanned: absence is NOT proven. Fix the gaps and scan again.",
        Verdict::Absent => "No encoding of any secret was found anywhere in the coverage above, and nothing in it was left unscanned.",
    }
}

/// The coverage of every root as a table, then the gaps counted by kind.
fn coverage_table(report: &Report) -> String {
    let mut rows = vec![[
        "root".to_string(),
        "kind".to_string(),
        "files".to_string(),
        "bytes".to_string(),
        "git repos".to_string(),
        "archives".to_string(),
        "skipped".to_string(),
        "gaps".to_string(),
    ]];
    for root in &report.coverage.roots {
        let skipped: u64 = root.skipped.values().map(|s| s.count).sum();
        rows.push([
            root.root.clone(),
            root.kind.clone(),
            root.files_scanned.to_string(),
            human_bytes(root.bytes_scanned),
            root.repositories.len().to_string(),
            root.archives.len().to_string(),
            skipped.to_string(),
            root.gaps.len().to_string(),
        ]);
    }
    let mut widths = [0usize; 8];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::from("\nCoverage\n");
    for row in &rows {
        let mut line = String::from(" ");
        for (index, (cell, width)) in row.iter().zip(widths).enumerate() {
            // Names left, numbers right.
            if index < 2 {
                let _ = write!(line, " {cell:<width$}");
            } else {
                let _ = write!(line, " {cell:>width$}");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for root in &report.coverage.roots {
        for repository in &root.repositories {
            let _ = writeln!(out, "  {}: {}", root.root, repository.describe());
        }
        for (reason, skipped) in &root.skipped {
            if skipped.count > 0 {
                let _ = writeln!(out, "  {}: skipped {} {reason}", root.root, skipped.count);
            }
        }
    }
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for gap in report.coverage.gaps() {
        *by_kind.entry(gap.kind.to_string()).or_default() += 1;
    }
    if !by_kind.is_empty() {
        let counts: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(out, "  gaps by kind: {}", counts.join(", "));
    }
    out
}

fn human_bytes(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_are_short() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(2048), "2.00 KiB");
    }
}
