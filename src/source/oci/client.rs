//! HTTP to one registry (the OCI distribution API), with the docker config's credentials
//! and the Bearer token challenge. Credentials and tokens are only ever sent as headers;
//! failures are described by status and path, never by header or transport error text.

use std::time::Duration;

use base64::Engine;

use super::reference::OciTarget;

pub type Response = ureq::http::Response<ureq::Body>;

pub struct Registry {
    agent: ureq::Agent,
    base: String,
    pub repository: String,
    /// `user:password` from the docker config (never printed).
    basic: Option<String>,
    bearer: std::sync::Mutex<Option<String>>,
}

/// Media types a manifest request accepts: OCI and docker, images and indexes.
pub const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

impl Registry {
    pub fn new(target: &OciTarget) -> Registry {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .timeout_per_read(Some(Duration::from_secs(120)))
            .build()
            .into();
        Registry {
            agent,
            base: target.base_url(),
            repository: target.repository.clone(),
            basic: docker_config_auth(&target.registry),
            bearer: std::sync::Mutex::new(None),
        }
    }

    /// `GET /v2/<repo>/<path>`, answering one Bearer challenge if the registry asks.
    pub fn get(&self, path: &str, accept: Option<&str>) -> Result<Response, String> {
        let url = format!("{}/v2/{}/{path}", self.base, self.repository);
        let response = self.send(&url, accept)?;
        if response.status().as_u16() != 401 {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if !self.authenticate(&challenge) {
            return Ok(response);
        }
        self.send(&url, accept)
    }

    fn send(&self, url: &str, accept: Option<&str>) -> Result<Response, String> {
        let mut request = self.agent.get(url);
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        let bearer = self.bearer.lock().ok().and_then(|b| b.clone());
        if let Some(token) = bearer {
            request = request.header("Authorization", format!("Bearer {token}"));
        } else if let Some(basic) = &self.basic {
            let encoded = base64::engine::general_purpose::STANDARD.encode(basic);
            request = request.header("Authorization", format!("Basic {encoded}"));
        }
        request.call().map_err(|error| match error {
            ureq::Error::Timeout(_) => "the registry timed out".to_string(),
            _ => "the registry could not be reached".to_string(),
        })
    }

    /// Fetches a token for a `Bearer realm=..,service=..,scope=..` challenge.
    fn authenticate(&self, challenge: &str) -> bool {
        let Some(params) = challenge.strip_prefix("Bearer ") else {
            return false;
        };
        let value = |name: &str| {
            params.split(',').find_map(|part| {
                let (key, value) = part.trim().split_once('=')?;
                (key == name).then(|| value.trim_matches('"').to_string())
            })
        };
        let Some(realm) = value("realm") else {
            return false;
        };
        let mut request = self.agent.get(&realm);
        for name in ["service", "scope"] {
            if let Some(v) = value(name) {
                request = request.query(name, v);
            }
        }
        if let Some(basic) = &self.basic {
            let encoded = base64::engine::general_purpose::STANDARD.encode(basic);
            request = request.header("Authorization", format!("Basic {encoded}"));
        }
        let Ok(response) = request.call() else {
            return false;
        };
        if !response.status().is_success() {
            return false;
        }
        let mut body = response.into_body();
        let Ok(text) = body.read_to_string() else {
            return false;
        };
        let token = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("token")
                    .or_else(|| v.get("access_token"))
                    .and_then(|t| t.as_str().map(str::to_string))
            });
        match (token, self.bearer.lock()) {
            (Some(token), Ok(mut slot)) => {
                *slot = Some(token);
                true
            }
            _ => false,
        }
    }
}

/// `user:password` for `registry` from `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
fn docker_config_auth(registry: &str) -> Option<String> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".docker"))
        })?;
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    auth_from_config(&text, registry)
}

fn auth_from_config(text: &str, registry: &str) -> Option<String> {
    let config: serde_json::Value = serde_json::from_str(text).ok()?;
    let auths = config.get("auths")?.as_object()?;
    let entry = auths.iter().find_map(|(name, entry)| {
        let host = name
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()?;
        (host == registry).then_some(entry)
    })?;
    let encoded = entry.get("auth")?.as_str()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_registry_entry_of_a_docker_config() {
        let config = r#"{"auths": {"https://reg.example:5000/v1/": {"auth": "dXNlcjpwYXNz"},
                                    "other": {"auth": "eDp5"}}}"#;
        assert_eq!(
            auth_from_config(config, "reg.example:5000").as_deref(),
            Some("user:pass")
        );
        assert!(auth_from_config(config, "missing").is_none());
    }
}
