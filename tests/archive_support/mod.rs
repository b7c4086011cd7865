//! Builders for archive fixtures, made in the tests with the same crates scour reads with
//! (never downloaded), so every run plants fresh random secrets.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use serde_json::Value;

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 6);
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

/// A GNU tar of `(name, content)` members (long names get GNU long-name records).
pub fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, content) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *content).unwrap();
    }
    builder.into_inner().unwrap()
}

pub fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in members {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Text with the secret on line `line` (1-based) after `prefix`.
pub fn text_with(secret: &[u8], line: usize, prefix: &str) -> Vec<u8> {
    let mut text = Vec::new();
    for i in 1..line {
        text.extend_from_slice(format!("ordinary line {i}\n").as_bytes());
    }
    text.extend_from_slice(prefix.as_bytes());
    text.extend_from_slice(secret);
    text.extend_from_slice(b"\nafter\n");
    text
}

pub fn gap_kinds(gaps: &[Value]) -> Vec<String> {
    gaps.iter()
        .map(|g| g["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

pub fn archives(report: &Value) -> Vec<Value> {
    report["coverage"]["roots"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["archives"].as_array().cloned().unwrap_or_default())
        .collect()
}
