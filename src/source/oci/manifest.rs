//! Reading a manifest document: an index (a multi-arch list of manifests) or an image
//! (a config blob and layers), in OCI or docker media types.

use serde_json::Value;

/// One blob an image refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub digest: String,
    pub size: u64,
    pub media_type: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Document {
    Index(Vec<Descriptor>),
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
}

pub fn parse(bytes: &[u8]) -> Result<Document, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the manifest is not JSON: {e}"))?;
    if let Some(manifests) = value.get("manifests").and_then(Value::as_array) {
        return manifests
            .iter()
            .map(descriptor)
            .collect::<Result<_, _>>()
            .map(Document::Index);
    }
    let config = value
        .get("config")
        .ok_or("the manifest is neither an index nor an image (no `manifests`, no `config`)")?;
    let layers = value
        .get("layers")
        .and_then(Value::as_array)
        .map(|layers| layers.iter().map(descriptor).collect::<Result<Vec<_>, _>>())
        .transpose()?
        .unwrap_or_default();
    Ok(Document::Image {
        config: descriptor(config)?,
        layers,
    })
}

fn descriptor(value: &Value) -> Result<Descriptor, String> {
    let digest = value
        .get("digest")
        .and_then(Value::as_str)
        .filter(|d| d.starts_with("sha256:") && d.len() == 71)
        .ok_or("a descriptor has no sha256 digest")?;
    Ok(Descriptor {
        digest: digest.to_string(),
        size: value.get("size").and_then(Value::as_u64).unwrap_or(0),
        media_type: value
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_indexes_and_images() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let index = format!(r#"{{"manifests":[{{"digest":"{digest}","size":5}}]}}"#);
        assert!(matches!(parse(index.as_bytes()).unwrap(), Document::Index(m) if m.len() == 1));
        let image = format!(
            r#"{{"config":{{"digest":"{digest}","size":2}},"layers":[{{"digest":"{digest}","size":9,"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd"}}]}}"#
        );
        let Document::Image { layers, .. } = parse(image.as_bytes()).unwrap() else {
            panic!("not an image");
        };
        assert_eq!(layers[0].size, 9);
        assert!(parse(b"{}").is_err());
        assert!(parse(br#"{"config":{"digest":"md5:x"}}"#).is_err());
    }
}
