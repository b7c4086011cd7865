//! The rule files compiled into the binary, so `scour` finds its rules from any directory.
//!
//! `rules/*.toml` is the source of truth; this list only embeds them. A test fails when a
//! file in `rules/` is missing here.

/// `(file name, contents)` of every rule file, one per provider family.
pub(crate) const FILES: &[(&str, &str)] = &[
    ("ai.toml", include_str!("../../rules/ai.toml")),
    ("aws.toml", include_str!("../../rules/aws.toml")),
    ("azure.toml", include_str!("../../rules/azure.toml")),
    ("docker.toml", include_str!("../../rules/docker.toml")),
    ("gcp.toml", include_str!("../../rules/gcp.toml")),
    ("generic.toml", include_str!("../../rules/generic.toml")),
    ("github.toml", include_str!("../../rules/github.toml")),
    ("gitlab.toml", include_str!("../../rules/gitlab.toml")),
    ("heroku.toml", include_str!("../../rules/heroku.toml")),
    ("jwt.toml", include_str!("../../rules/jwt.toml")),
    ("npm.toml", include_str!("../../rules/npm.toml")),
    ("pem.toml", include_str!("../../rules/pem.toml")),
    ("pypi.toml", include_str!("../../rules/pypi.toml")),
    ("sendgrid.toml", include_str!("../../rules/sendgrid.toml")),
    ("shopify.toml", include_str!("../../rules/shopify.toml")),
    ("slack.toml", include_str!("../../rules/slack.toml")),
    ("stripe.toml", include_str!("../../rules/stripe.toml")),
    ("twilio.toml", include_str!("../../rules/twilio.toml")),
    ("uri.toml", include_str!("../../rules/uri.toml")),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_rule_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = super::FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            on_disk, embedded,
            "list every rules/*.toml in src/rules/embedded.rs"
        );
    }
}
