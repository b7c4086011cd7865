//! Why an object version could not be read, as a gap kind and a reason a person can act on.

use super::client::Failure;
use crate::coverage::GapKind;

/// Storage classes whose objects must be restored before they can be read.
const ARCHIVE_CLASSES: [&str; 3] = ["GLACIER", "DEEP_ARCHIVE", "GLACIER_IR_ARCHIVE"];

/// The gap for a `GET` of a version (listed with `storage_class`) that failed with `failure`.
pub fn classify(failure: &Failure, storage_class: &str) -> (GapKind, String) {
    let archived = ARCHIVE_CLASSES.contains(&storage_class);
    match (failure.status, failure.code.as_str()) {
        (_, "InvalidObjectState") => (
            GapKind::Archived,
            format!(
                "it is in the {storage_class} storage class and not restored ({failure}): restore \
                 it (`aws s3api restore-object`) and scan again"
            ),
        ),
        (Some(403), _) if archived => (
            GapKind::Archived,
            format!(
                "it is in the archive storage class {storage_class} ({failure}): restore it and \
                 scan again"
            ),
        ),
        (Some(403), _) => (
            GapKind::PermissionDenied,
            format!("access denied ({failure}): grant s3:GetObject and s3:GetObjectVersion"),
        ),
        (Some(400), _) if mentions_customer_key(failure) => (
            GapKind::Encrypted,
            format!(
                "it is encrypted with a customer-provided key (SSE-C) ({failure}): scour \
                 cannot read it without that key"
            ),
        ),
        (Some(412), _) => (
            GapKind::Changed,
            "its ETag changed between listing and reading (it was overwritten): scan again"
                .to_string(),
        ),
        (Some(404), _) => (
            GapKind::Vanished,
            format!("it was deleted between listing and reading ({failure})"),
        ),
        _ => (
            GapKind::ReadError,
            format!("it could not be read ({failure}), even after retries"),
        ),
    }
}

fn mentions_customer_key(failure: &Failure) -> bool {
    let message = failure.message.to_ascii_lowercase();
    message.contains("encrypt") || message.contains("customer")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: u16, code: &str, message: &str) -> Failure {
        Failure {
            status: Some(status),
            code: code.to_string(),
            message: message.to_string(),
        }
    }

    #[test]
    fn archive_classes_need_a_restore() {
        let (kind, reason) = classify(
            &failure(403, "InvalidObjectState", "not valid for the storage class"),
            "DEEP_ARCHIVE",
        );
        assert_eq!(kind, GapKind::Archived);
        assert!(reason.contains("DEEP_ARCHIVE") && reason.contains("restore"));
        // A server that answers only "403" for a Glacier object still gets an archive gap.
        let (kind, _) = classify(&failure(403, "AccessDenied", ""), "GLACIER");
        assert_eq!(kind, GapKind::Archived);
    }

    #[test]
    fn other_failures_by_their_cause() {
        let kind = |f: Failure| classify(&f, "STANDARD").0;
        assert_eq!(
            kind(failure(403, "AccessDenied", "")),
            GapKind::PermissionDenied
        );
        assert_eq!(
            kind(failure(
                400,
                "InvalidRequest",
                "The object was stored using a form of Server Side Encryption. The correct \
                 parameters must be provided to retrieve the object."
            )),
            GapKind::Encrypted
        );
        assert_eq!(
            kind(failure(412, "PreconditionFailed", "")),
            GapKind::Changed
        );
        assert_eq!(kind(failure(404, "NoSuchVersion", "")), GapKind::Vanished);
        assert_eq!(kind(failure(503, "SlowDown", "")), GapKind::ReadError);
    }
}
