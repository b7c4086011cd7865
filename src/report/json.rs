//! The JSON report: the documented, stable schema (see README.md, "JSON report").

use super::Report;

pub fn render(report: &Report) -> anyhow::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(report)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads a report written by [`render`].
pub fn parse(bytes: &[u8]) -> anyhow::Result<Report> {
    serde_json::from_slice(bytes).map_err(|e| anyhow::anyhow!("not a scour report: {e}"))
}
