//! `scour scan oci://…` against the real distribution registry (Debian `docker-registry`)
//! on 127.0.0.1, with images pushed through its HTTP API: every tag, a multi-arch index
//! with a zstd layer, a secret in the image config (`ENV`), and a layer shared by two tags.

mod common;
mod store_support;

use std::io::Write;

use common::{random_token, scan_with_secrets};
use serde_json::json;
use sha2::{Digest, Sha256};
use store_support::{start_registry, with_retries};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

struct Pusher {
    agent: ureq::Agent,
    base: String,
    repo: String,
}

impl Pusher {
    fn new(port: u16, repo: &str) -> Pusher {
        Pusher {
            agent: ureq::Agent::new_with_defaults(),
            base: format!("http://127.0.0.1:{port}"),
            repo: repo.to_string(),
        }
    }

    /// Monolithic upload: POST for a session, PUT the bytes with their digest.
    fn blob(&self, bytes: &[u8]) -> serde_json::Value {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        let started = with_retries("start upload", || {
            self.agent
                .post(&format!("{}/v2/{}/blobs/uploads/", self.base, self.repo))
                .send_empty()
        });
        let location = started
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("upload location")
            .to_string();
        let location = if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        with_retries("upload blob", || {
            self.agent
                .put(&format!("{location}{separator}digest={digest}"))
                .header("Content-Type", "application/octet-stream")
                .send(bytes)
        });
        json!({"mediaType": "application/octet-stream", "digest": digest, "size": bytes.len()})
    }

    fn manifest(
        &self,
        reference: &str,
        media_type: &str,
        document: &serde_json::Value,
    ) -> serde_json::Value {
        let bytes = serde_json::to_vec(document).expect("json");
        with_retries("put manifest", || {
            self.agent
                .put(&format!(
                    "{}/v2/{}/manifests/{reference}",
                    self.base, self.repo
                ))
                .header("Content-Type", media_type)
                .send(&bytes[..])
        });
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
    }

    fn image(
        &self,
        reference: &str,
        config: &serde_json::Value,
        layers: &[serde_json::Value],
    ) -> serde_json::Value {
        let config = self.blob(&serde_json::to_vec(config).expect("json"));
        let mut config = config;
        config["mediaType"] = json!("application/vnd.oci.image.config.v1+json");
        self.manifest(
            reference,
            OCI_MANIFEST,
            &json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": layers}),
        )
    }
}

fn tar_of(path: &str, content: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, path, content)
        .expect("tar member");
    builder.into_inner().expect("tar")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn config(env: &[String]) -> serde_json::Value {
    json!({"architecture": "amd64", "os": "linux", "config": {"Env": env},
           "rootfs": {"type": "layers", "diff_ids": []},
           "history": [{"created_by": "/bin/sh -c #(nop) ENV ..."}]})
}

fn secret() -> Vec<u8> {
    let mut token = b"ocitok_".to_vec();
    token.extend(random_token(24));
    token
}

#[test]
fn every_tag_index_config_and_layer_is_read_and_shared_layers_once() {
    let Some(registry) = start_registry() else {
        return;
    };
    let secret = secret();
    let text = String::from_utf8(secret.clone()).unwrap();
    let push = Pusher::new(registry.port, "team/app");

    let shared_layer = gzip(&tar_of("app/.env", format!("TOKEN={text}\n").as_bytes()));
    let zstd_layer = zstd::encode_all(&tar_of("etc/token", &secret)[..], 3).unwrap();
    let clean_layer = gzip(&tar_of("bin/tool", b"no secret here"));
    // zstd keeps short literals as they are, so only the gzip layer hides the secret; the
    // zstd finding is shown to come from decoding by its path inside the layer's tar.
    assert!(
        memchr::memmem::find(&shared_layer, &secret).is_none(),
        "sample holds the secret raw"
    );
    let mut shared = push.blob(&shared_layer);
    shared["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+gzip");
    let mut zstd_desc = push.blob(&zstd_layer);
    zstd_desc["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+zstd");
    let mut clean = push.blob(&clean_layer);
    clean["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+gzip");

    // v1: the secret in the config (ENV) and in the shared layer; v2: the shared layer only.
    push.image(
        "v1",
        &config(&[format!("API_TOKEN={text}")]),
        &[clean.clone(), shared.clone()],
    );
    push.image("v2", &config(&["PATH=/bin".into()]), &[shared.clone()]);
    // multi: an index whose arm64 image has the zstd layer.
    let amd = push.image("amd", &config(&[]), &[clean.clone()]);
    let arm = push.image("arm", &config(&["A=1".into()]), &[zstd_desc.clone()]);
    push.manifest(
        "multi",
        OCI_INDEX,
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [amd, arm]}),
    );

    let target = format!("oci://127.0.0.1:{}/team/app", registry.port);
    let scan = scan_with_secrets(&[&secret], &[], &["--threads", "2", &target]);
    assert_eq!(
        scan.verdict(),
        "found",
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    let findings = scan.findings();
    let by_role = |role: &str| -> Vec<&serde_json::Value> {
        findings
            .iter()
            .filter(|f| f["store"]["role"] == role)
            .collect()
    };
    let config_hits = by_role("config");
    assert_eq!(config_hits.len(), 1, "{findings:?}");
    assert_eq!(config_hits[0]["store"]["tags"], json!(["v1"]));
    let layer_hits = by_role("layer");
    assert_eq!(
        layer_hits.len(),
        2,
        "the shared layer once, the zstd layer once: {findings:?}"
    );
    let shared_hit = layer_hits
        .iter()
        .find(|f| f["store"]["digest"] == shared["digest"])
        .expect("shared layer finding");
    assert_eq!(shared_hit["store"]["tags"], json!(["v1", "v2"]));
    assert_eq!(
        shared_hit["location"]["chain"]
            .as_array()
            .unwrap()
            .last()
            .unwrap(),
        "app/.env"
    );
    let zstd_hit = layer_hits
        .iter()
        .find(|f| f["store"]["digest"] == zstd_desc["digest"])
        .expect("zstd layer finding");
    assert_eq!(
        zstd_hit["location"]["chain"]
            .as_array()
            .unwrap()
            .last()
            .unwrap(),
        "etc/token"
    );
    assert!(zstd_hit["store"]["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("multi")));
    assert!(zstd_hit["store"]["manifests"]
        .as_array()
        .unwrap()
        .contains(&arm["digest"]));
    assert!(scan.gaps().is_empty(), "{:?}", scan.gaps());
    let root = &scan.report["coverage"]["roots"][0];
    assert_eq!(root["kind"], "oci-repository");
    assert_eq!(root["digest"]["binds"], "store-manifest");
    scan.assert_no_leak(&secret);

    // One tag only: v2 has just the shared layer.
    let one = scan_with_secrets(&[&secret], &[], &[&format!("{target}:v2")]);
    assert_eq!(one.findings().len(), 1);
    assert_eq!(one.findings()[0]["store"]["role"], "layer");
}

#[test]
fn a_clean_repository_is_absent_and_a_missing_one_is_a_gap() {
    let Some(registry) = start_registry() else {
        return;
    };
    let push = Pusher::new(registry.port, "clean");
    let mut layer = push.blob(&gzip(&tar_of("a.txt", b"hello")));
    layer["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+gzip");
    push.image("latest", &config(&[]), &[layer]);
    let secret = secret();
    let clean = scan_with_secrets(
        &[&secret],
        &[],
        &[&format!("oci://127.0.0.1:{}/clean", registry.port)],
    );
    assert_eq!(clean.verdict(), "absent", "{:?}", clean.report);
    assert_eq!(clean.code(), 0);
    let missing = scan_with_secrets(
        &[&secret],
        &[],
        &[&format!("oci://127.0.0.1:{}/nothing", registry.port)],
    );
    assert_eq!(missing.verdict(), "incomplete");
}
