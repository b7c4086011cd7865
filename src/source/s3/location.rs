//! `s3://BUCKET[/PREFIX]`: what a store target on the command line names.

/// A bucket, and the key prefix within it that is scanned (empty: the whole bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

impl S3Location {
    /// `Some` for an `s3://` target, `None` for anything else (a local path).
    pub fn parse(target: &str) -> Option<Result<S3Location, String>> {
        let rest = target.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Some(Err(format!(
                "{target:?} names no bucket: write s3://BUCKET or s3://BUCKET/PREFIX"
            )));
        }
        Some(Ok(S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        }))
    }

    /// The name a finding or gap gives one object version.
    pub fn object_name(&self, key: &str, version_id: &str) -> String {
        if version_id == NULL_VERSION {
            format!("s3://{}/{key}", self.bucket)
        } else {
            format!("s3://{}/{key}?versionId={version_id}", self.bucket)
        }
    }

    pub fn display(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// The version id S3 gives objects written while versioning was off.
pub const NULL_VERSION: &str = "null";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_prefix() {
        let parsed = S3Location::parse("s3://logs/ci/2026/").unwrap().unwrap();
        assert_eq!(parsed.bucket, "logs");
        assert_eq!(parsed.prefix, "ci/2026/");
        let whole = S3Location::parse("s3://logs").unwrap().unwrap();
        assert_eq!(whole.prefix, "");
        assert!(S3Location::parse("s3:///x").unwrap().is_err());
        assert!(S3Location::parse("./s3").is_none());
    }

    #[test]
    fn names_versions() {
        let at = S3Location::parse("s3://b").unwrap().unwrap();
        assert_eq!(at.object_name("k/x", "null"), "s3://b/k/x");
        assert_eq!(at.object_name("k", "v1"), "s3://b/k?versionId=v1");
    }
}
