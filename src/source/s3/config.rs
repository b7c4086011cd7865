//! Where the store is and who scour is to it: the standard AWS environment and files.
//!
//! Endpoint: `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (path-style addressing, as
//! S3-compatible servers expect), else AWS itself (virtual-host style). Region:
//! `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1`. Credentials: `AWS_ACCESS_KEY_ID` +
//! `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), else the profile `AWS_PROFILE`
//! (default `default`) of `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`), else
//! none (anonymous requests, for public buckets). Credentials are only ever used to sign;
//! nothing here formats them into a message.

use std::path::PathBuf;

use rusty_s3::{Credentials, UrlStyle};
use url::Url;

pub struct S3Config {
    pub endpoint: Url,
    pub style: UrlStyle,
    pub region: String,
    pub credentials: Option<Credentials>,
}

impl S3Config {
    pub fn from_env() -> anyhow::Result<S3Config> {
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_string());
        let (endpoint, style) = match env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL"))
        {
            Some(custom) => {
                let url = Url::parse(&custom).map_err(|e| {
                    anyhow::anyhow!(
                        "AWS_ENDPOINT_URL is not a URL ({e}): write e.g. http://127.0.0.1:9000"
                    )
                })?;
                (url, UrlStyle::Path)
            }
            None => {
                let url = Url::parse(&format!("https://s3.{region}.amazonaws.com"))
                    .map_err(|_| anyhow::anyhow!("AWS_REGION {region:?} is not a region name"))?;
                (url, UrlStyle::VirtualHost)
            }
        };
        Ok(S3Config {
            endpoint,
            style,
            region,
            credentials: credentials(),
        })
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn credentials() -> Option<Credentials> {
    if let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Some(match env("AWS_SESSION_TOKEN") {
            Some(token) => Credentials::new_with_token(key, secret, token),
            None => Credentials::new(key, secret),
        });
    }
    let file = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".aws/credentials")))?;
    let text = std::fs::read_to_string(file).ok()?;
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".to_string());
    profile_credentials(&text, &profile)
}

/// The keys of one `[profile]` section of an AWS credentials file (INI).
fn profile_credentials(text: &str, profile: &str) -> Option<Credentials> {
    let mut in_profile = false;
    let (mut key, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            in_profile = name == profile || name.strip_prefix("profile ") == Some(profile);
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((name, value)) = line.split_once('=') {
            let value = Some(value.trim().to_string());
            match name.trim() {
                "aws_access_key_id" => key = value,
                "aws_secret_access_key" => secret = value,
                "aws_session_token" => token = value,
                _ => {}
            }
        }
    }
    let (key, secret) = (key?, secret?);
    Some(match token {
        Some(token) => Credentials::new_with_token(key, secret, token),
        None => Credentials::new(key, secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_profile_only() {
        let text = "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s1\n\
                    [ci]\naws_access_key_id=AKIACI\naws_secret_access_key=s2\naws_session_token=t\n";
        let ci = profile_credentials(text, "ci").unwrap();
        assert_eq!(
            (ci.key(), ci.secret(), ci.token()),
            ("AKIACI", "s2", Some("t"))
        );
        let default = profile_credentials(text, "default").unwrap();
        assert_eq!(default.key(), "AKIADEFAULT");
        assert!(profile_credentials(text, "missing").is_none());
    }
}
