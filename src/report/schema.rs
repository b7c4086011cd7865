//! The JSON Schema of the report, generated from the report types (`schemars`), so it
//! cannot drift from what scour writes. `scour generate schema` prints it; the repository
//! ships it as `docs/report.schema.json`, and a test checks the two are the same and that
//! every report the integration tests produce validates against it.

use super::{Report, SCHEMA};

/// The report's JSON Schema (draft 2020-12), with the report's schema URI as `$id`.
pub fn json_schema() -> serde_json::Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(Report)).unwrap_or(serde_json::Value::Null);
    if let Some(object) = schema.as_object_mut() {
        object.insert("$id".into(), serde_json::Value::String(SCHEMA.to_string()));
        object.insert(
            "description".into(),
            serde_json::Value::String(
                "A scour report: verdict, findings, coverage and gaps. Generated from the \
                 report types by `scour generate schema`; fields are only added within v1."
                    .into(),
            ),
        );
    }
    schema
}

/// The schema as the file in the repository holds it: pretty JSON and a final newline.
pub fn render() -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(&json_schema()).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
