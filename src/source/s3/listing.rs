//! Listing a bucket: every object version (ListObjectVersions), or only current objects
//! (ListObjectsV2), page by page until the store says the listing is complete.

use super::client::{failure_of, Client, Failure};
use super::location::{S3Location, NULL_VERSION};

/// Which versions a scan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum VersionsMode {
    /// Every version: current, noncurrent, and those behind delete markers.
    #[default]
    All,
    /// Only each key's current version (recorded in the report: old versions unread).
    Current,
}

impl VersionsMode {
    pub fn name(self) -> &'static str {
        match self {
            VersionsMode::All => "all",
            VersionsMode::Current => "current",
        }
    }
}

/// One object version as the listing gave it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListedVersion {
    pub key: String,
    pub version_id: String,
    pub etag: String,
    pub size: u64,
    pub last_modified: String,
    pub storage_class: String,
    pub is_latest: bool,
}

/// Everything one listing returned.
#[derive(Debug, Default)]
pub struct Listing {
    pub versions: Vec<ListedVersion>,
    pub delete_markers: u64,
    /// Why the listing stopped before its end, if it did: everything after is unlisted.
    pub incomplete: Option<Failure>,
}

/// Lists every page of `location` in `mode`.
pub fn list(client: &Client, location: &S3Location, mode: VersionsMode) -> Listing {
    let mut listing = Listing::default();
    let mut markers: Vec<(&'static str, String)> = Vec::new();
    loop {
        let mut query: Vec<(&str, &str)> = vec![("prefix", location.prefix.as_str())];
        match mode {
            VersionsMode::All => query.push(("versions", "")),
            VersionsMode::Current => query.push(("list-type", "2")),
        }
        query.extend(markers.iter().map(|(name, value)| (*name, value.as_str())));
        let url = client.bucket_url(&query);
        let page = match client.get(&url, &[]) {
            Ok(response) if response.status().is_success() => {
                let mut body = String::new();
                let read = std::io::Read::read_to_string(
                    &mut response.into_body().into_reader(),
                    &mut body,
                );
                match read {
                    Ok(_) => parse_page(&body),
                    Err(_) => Err("the listing response broke off".to_string()),
                }
                .map_err(|message| Failure {
                    status: Some(200),
                    code: "MalformedListing".to_string(),
                    message,
                })
            }
            Ok(response) => Err(failure_of(response)),
            Err(failure) => Err(failure),
        };
        let page = match page {
            Ok(page) => page,
            Err(failure) => {
                listing.incomplete = Some(failure);
                return listing;
            }
        };
        listing.versions.extend(page.versions);
        listing.delete_markers += page.delete_markers;
        if !page.truncated {
            return listing;
        }
        markers = page.next_markers;
        if markers.is_empty() {
            listing.incomplete = Some(Failure {
                status: Some(200),
                code: "MalformedListing".to_string(),
                message: "a truncated page gave no marker to continue from".to_string(),
            });
            return listing;
        }
    }
}

#[derive(Debug, Default)]
struct Page {
    versions: Vec<ListedVersion>,
    delete_markers: u64,
    truncated: bool,
    next_markers: Vec<(&'static str, String)>,
}

/// One `ListVersionsResult` or `ListBucketResult` page.
fn parse_page(body: &str) -> Result<Page, String> {
    let document =
        roxmltree::Document::parse(body).map_err(|e| format!("the listing is not XML: {e}"))?;
    let root = document.root_element();
    let child_text = |node: roxmltree::Node, name: &str| -> Option<String> {
        node.children()
            .find(|c| c.has_tag_name(name))
            .map(|c| c.text().unwrap_or_default().to_string())
    };
    let mut page = Page {
        truncated: child_text(root, "IsTruncated").as_deref() == Some("true"),
        ..Page::default()
    };
    for node in root.children().filter(|n| n.is_element()) {
        match node.tag_name().name() {
            "Version" | "Contents" => {
                let key = child_text(node, "Key").ok_or("a listed object has no key")?;
                let size = child_text(node, "Size")
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| format!("object {key:?} has no valid size"))?;
                page.versions.push(ListedVersion {
                    version_id: child_text(node, "VersionId")
                        .unwrap_or_else(|| NULL_VERSION.to_string()),
                    etag: child_text(node, "ETag").unwrap_or_default(),
                    size,
                    last_modified: child_text(node, "LastModified").unwrap_or_default(),
                    storage_class: child_text(node, "StorageClass")
                        .unwrap_or_else(|| "STANDARD".to_string()),
                    is_latest: child_text(node, "IsLatest").is_none_or(|v| v == "true"),
                    key,
                });
            }
            "DeleteMarker" => page.delete_markers += 1,
            _ => {}
        }
    }
    let markers = [
        ("key-marker", "NextKeyMarker"),
        ("version-id-marker", "NextVersionIdMarker"),
        ("continuation-token", "NextContinuationToken"),
    ];
    for (query, element) in markers {
        if let Some(value) = child_text(root, element).filter(|v| !v.is_empty()) {
            page.next_markers.push((query, value));
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_delete_markers_and_markers() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><IsTruncated>true</IsTruncated>
  <NextKeyMarker>k2</NextKeyMarker><NextVersionIdMarker>v9</NextVersionIdMarker>
  <DeleteMarker><Key>k1</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest></DeleteMarker>
  <Version><Key>k1</Key><VersionId>v2</VersionId><IsLatest>false</IsLatest>
    <ETag>"abc"</ETag><Size>12</Size><LastModified>2026-01-01T00:00:00Z</LastModified>
    <StorageClass>GLACIER</StorageClass></Version>
</ListVersionsResult>"#;
        let page = parse_page(body).unwrap();
        assert!(page.truncated);
        assert_eq!(page.delete_markers, 1);
        assert_eq!(page.versions.len(), 1);
        let version = &page.versions[0];
        assert_eq!(
            (version.key.as_str(), version.version_id.as_str()),
            ("k1", "v2")
        );
        assert_eq!((version.size, version.is_latest), (12, false));
        assert_eq!(version.storage_class, "GLACIER");
        assert_eq!(
            page.next_markers,
            vec![
                ("key-marker", "k2".to_string()),
                ("version-id-marker", "v9".to_string())
            ]
        );
    }

    #[test]
    fn a_page_without_sizes_is_refused() {
        let body = "<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>";
        assert!(parse_page(body).is_err());
    }
}
