//! Prints every literal pattern scour searches for, one per line, for benchmarks that give
//! the same pattern set to `rg -F -f`. Reads the (fake, benchmark-only) secret from the
//! environment variable SCOUR_BENCH_SECRET. Patterns containing a line break (wrapped
//! base64) cannot be expressed as one `rg -f` line, and ripgrep refuses a pattern that is
//! not UTF-8 (EBCDIC): both are left out (counted on stderr).

use std::collections::BTreeSet;
use std::io::Write;

fn main() -> anyhow::Result<()> {
    let secret = std::env::var("SCOUR_BENCH_SECRET")
        .map_err(|_| anyhow::anyhow!("set SCOUR_BENCH_SECRET to a benchmark-only secret"))?;
    let mut patterns = BTreeSet::new();
    let mut multiline = 0;
    let mut not_utf8 = 0;
    for encoding in scour::matcher::encodings::all() {
        for variant in encoding.variants(secret.as_bytes()) {
            if variant.pattern.contains(&b'\n') {
                multiline += 1;
            } else if std::str::from_utf8(&variant.pattern).is_err() {
                not_utf8 += 1;
            } else {
                patterns.insert(variant.pattern.to_vec());
            }
        }
    }
    let mut out = std::io::stdout().lock();
    for pattern in &patterns {
        out.write_all(pattern)?;
        out.write_all(b"\n")?;
    }
    eprintln!(
        "{} single-line patterns written; {multiline} line-wrapped and {not_utf8} non-UTF-8 \
         patterns left out",
        patterns.len()
    );
    Ok(())
}
