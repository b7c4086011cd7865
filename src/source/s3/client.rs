//! Signed requests to one bucket, with retries on throttling and transient errors.
//!
//! Requests are presigned with `rusty-s3` (SigV4) and sent with `ureq`. A presigned URL
//! carries the access key id and a signature, so no URL and no transport error text (which
//! may quote the URL) ever reaches a message: failures are described by status and S3 error
//! code only.

use std::io::Read;
use std::time::Duration;

use rusty_s3::{Bucket, Method, S3Action};
use url::Url;

use super::config::S3Config;

/// How long a presigned URL is valid: long enough for one request, retries included.
const SIGNED_FOR: Duration = Duration::from_secs(15 * 60);
/// Attempts per request (the first one and the retries).
const ATTEMPTS: u32 = 6;
/// First wait before a retry; doubled at each retry.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

pub struct Client {
    agent: ureq::Agent,
    bucket: Bucket,
    config: S3Config,
}

/// A request that failed, described without its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status, or `None` when no response came (connection, timeout).
    pub status: Option<u16>,
    /// The S3 error code of the response body, e.g. `AccessDenied`, `InvalidObjectState`.
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(f, "HTTP {status} {}", self.code)?,
            None => write!(f, "{}", self.code)?,
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

pub type Response = ureq::http::Response<ureq::Body>;

impl Client {
    pub fn new(config: S3Config, bucket: &str) -> anyhow::Result<Client> {
        let bucket = Bucket::new(
            config.endpoint.clone(),
            config.style,
            bucket.to_string(),
            config.region.clone(),
        )
        .map_err(|e| anyhow::anyhow!("cannot address bucket {bucket:?}: {e}"))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            // A stalled body is a transient error; a long one is not.
            .timeout_per_read(Some(Duration::from_secs(120)))
            .build()
            .into();
        Ok(Client {
            agent,
            bucket,
            config,
        })
    }

    /// A signed URL for listing (`GET` on the bucket) with `query`.
    pub fn bucket_url(&self, query: &[(&str, &str)]) -> Url {
        let mut sorted: Vec<(&str, &str)> = query.to_vec();
        sorted.sort();
        let url = self.bucket.base_url().clone();
        match &self.config.credentials {
            Some(credentials) => rusty_s3::signing::sign(
                &jiff::Timestamp::now(),
                Method::Get,
                url,
                credentials.key(),
                credentials.secret(),
                credentials.token(),
                self.bucket.region(),
                SIGNED_FOR.as_secs(),
                sorted.iter().copied(),
                std::iter::empty(),
            ),
            None => {
                let mut url = url;
                url.query_pairs_mut().extend_pairs(sorted);
                url
            }
        }
    }

    /// A signed URL for `GET` of one object version (`None`: the current one).
    pub fn object_url(&self, key: &str, version_id: Option<&str>) -> Url {
        let mut action = self
            .bucket
            .get_object(self.config.credentials.as_ref(), key);
        if let Some(version) = version_id {
            action.query_mut().insert("versionId", version.to_string());
        }
        action.sign(SIGNED_FOR)
    }

    /// Sends a `GET`, retrying throttling (503, `SlowDown`), server errors (500, 502, 504) and
    /// connection failures with exponential backoff. Any other response is returned as is.
    pub fn get(&self, url: &Url, headers: &[(&str, &str)]) -> Result<Response, Failure> {
        let mut backoff = FIRST_BACKOFF;
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(backoff);
                backoff *= 2;
            }
            let mut request = self.agent.get(url.as_str());
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            match request.call() {
                Ok(response) if is_transient(response.status().as_u16()) => {
                    last = Some(failure_of(response));
                }
                Ok(response) => return Ok(response),
                Err(error) => last = Some(transport_failure(&error)),
            }
        }
        Err(last.unwrap_or(Failure {
            status: None,
            code: "NoResponse".to_string(),
            message: String::new(),
        }))
    }
}

fn is_transient(status: u16) -> bool {
    matches!(status, 500 | 502 | 503 | 504)
}

/// The failure a non-success response describes (its S3 error code and message).
pub fn failure_of(response: Response) -> Failure {
    let status = response.status().as_u16();
    let mut body = String::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(64 * 1024)
        .read_to_string(&mut body);
    let (code, message) = parse_error_body(&body);
    Failure {
        status: Some(status),
        code: code.unwrap_or_else(|| default_code(status).to_string()),
        message: message.unwrap_or_default(),
    }
}

fn default_code(status: u16) -> &'static str {
    match status {
        403 => "AccessDenied",
        404 => "NoSuchKey",
        412 => "PreconditionFailed",
        _ => "HttpError",
    }
}

/// `<Error><Code>..</Code><Message>..</Message></Error>`; absent for HEAD-like bodies.
fn parse_error_body(body: &str) -> (Option<String>, Option<String>) {
    let Ok(document) = roxmltree::Document::parse(body) else {
        return (None, None);
    };
    let text = |name: &str| {
        document
            .descendants()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .map(str::to_string)
    };
    (text("Code"), text("Message"))
}

/// A transport error by its kind only: its text may quote the (signed) URL.
fn transport_failure(error: &ureq::Error) -> Failure {
    let code = match error {
        ureq::Error::Timeout(_) => "Timeout",
        ureq::Error::Io(_) => "ConnectionError",
        ureq::Error::HostNotFound => "HostNotFound",
        ureq::Error::ConnectionFailed => "ConnectionFailed",
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => "TlsError",
        _ => "RequestFailed",
    };
    Failure {
        status: None,
        code: code.to_string(),
        message: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_s3_error_code() {
        let body = "<?xml version=\"1.0\"?><Error><Code>InvalidObjectState</Code>\
                    <Message>The operation is not valid for the object's storage class</Message></Error>";
        let (code, message) = parse_error_body(body);
        assert_eq!(code.as_deref(), Some("InvalidObjectState"));
        assert!(message.unwrap().contains("storage class"));
        assert_eq!(parse_error_body(""), (None, None));
    }
}
