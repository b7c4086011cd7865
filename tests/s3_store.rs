//! `scour scan s3://…` against a real S3 server (moto) on 127.0.0.1: every version,
//! delete markers, archives inside objects, archive storage classes, changed objects,
//! the `current` opt-out, and credentials that never reach any output.

mod common;
mod store_support;

use std::sync::OnceLock;

use common::{random_token, scan_with_secrets};
use store_support::{python, start_moto, Server};

const ACCESS_KEY: &str = "AKIASCOURTESTKEY0001";
const SECRET_KEY: &str = "scourTestSecretAccessKeyDoNotLeak0123456";

/// One moto server for the whole test binary; the environment points scour at it.
fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let server = start_moto()?;
            std::env::set_var("AWS_ENDPOINT_URL", endpoint_of(server.port));
            std::env::set_var("AWS_ACCESS_KEY_ID", ACCESS_KEY);
            std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
            std::env::set_var("AWS_REGION", "us-east-1");
            Some(server)
        })
        .as_ref()
}

fn endpoint_of(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// Seeds a bucket with boto3. `SECRET` is in the environment, never in the script text.
fn seed(bucket: &str, secret: &[u8], body: &str) {
    let server = server().expect("server");
    let script = format!(
        "import boto3, gzip, io, os, tarfile\n\
         s3 = boto3.client('s3', endpoint_url=os.environ['EP'], region_name='us-east-1',\n\
             aws_access_key_id='x', aws_secret_access_key='y')\n\
         secret = os.environ['SECRET'].encode()\n\
         bucket = '{bucket}'\n\
         s3.create_bucket(Bucket=bucket)\n{body}"
    );
    let secret = String::from_utf8(secret.to_vec()).expect("ascii secret");
    python(
        &script,
        &[("EP", &endpoint_of(server.port)), ("SECRET", &secret)],
    );
}

fn secret() -> Vec<u8> {
    let mut token = b"s3tok_".to_vec();
    token.extend(random_token(24));
    token
}

fn heads(scan: &common::Scan) -> Vec<String> {
    scan.findings()
        .iter()
        .map(|f| {
            f["location"]["chain"][0]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn assert_no_credentials(scan: &common::Scan) {
    for credential in [ACCESS_KEY, SECRET_KEY] {
        common::assert_no_window(&scan.output.stdout, credential.as_bytes(), "stdout");
        common::assert_no_window(&scan.output.stderr, credential.as_bytes(), "stderr");
        common::assert_no_window(&scan.report_bytes, credential.as_bytes(), "report");
    }
}

const VERSIONED: &str = "\
s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={'Status': 'Enabled'})
s3.put_object(Bucket=bucket, Key='app/config.env', Body=b'TOKEN=' + secret + b'\\n')
s3.put_object(Bucket=bucket, Key='app/config.env', Body=b'TOKEN=rotated\\n')
s3.put_object(Bucket=bucket, Key='old/deleted.txt', Body=b'key: ' + secret)
s3.delete_object(Bucket=bucket, Key='old/deleted.txt')
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w:gz') as tar:
    data = b'export API_TOKEN=' + secret + b'\\n'
    info = tarfile.TarInfo('srv/app/.env'); info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
assert secret not in buf.getvalue()
s3.put_object(Bucket=bucket, Key='backups/app.tar.gz', Body=buf.getvalue())
s3.put_object(Bucket=bucket, Key='clean.txt', Body=b'nothing here')
";

#[test]
fn every_version_is_read_including_those_behind_delete_markers() {
    if server().is_none() {
        return;
    }
    let secret = secret();
    seed("versioned", &secret, VERSIONED);
    let scan = scan_with_secrets(&[&secret], &[], &["--threads", "2", "s3://versioned"]);
    assert_eq!(
        scan.verdict(),
        "found",
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    let heads = heads(&scan);
    assert!(heads
        .iter()
        .any(|h| h.starts_with("s3://versioned/app/config.env?versionId=")));
    assert!(heads
        .iter()
        .any(|h| h.starts_with("s3://versioned/old/deleted.txt?versionId=")));
    let in_tar = scan.places();
    assert!(
        in_tar
            .iter()
            .any(|(p, _)| p.contains("backups/app.tar.gz") && p.ends_with("srv/app/.env")),
        "{in_tar:?}"
    );
    assert_eq!(scan.findings().len(), 3, "{heads:?}");
    let store = &scan.findings()[0]["store"];
    assert_eq!(store["store"], "s3");
    assert!(store["version_id"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(store["etag"].as_str().is_some_and(|e| e.contains('"')));
    assert!(store["last_modified"]
        .as_str()
        .is_some_and(|t| t.starts_with("20")));
    let root = &scan.report["coverage"]["roots"][0];
    assert_eq!(root["kind"], "s3-bucket");
    assert_eq!(root["store"]["versions_mode"], "all");
    assert_eq!(root["store"]["objects"], 4);
    assert_eq!(root["store"]["versions"], 5);
    assert_eq!(root["store"]["delete_markers"], 1);
    assert_eq!(root["digest"]["binds"], "store-manifest");
    assert_eq!(scan.report["scan"]["s3_versions"], "all");
    assert!(scan.gaps().is_empty(), "{:?}", scan.gaps());
    scan.assert_no_leak(&secret);
    assert_no_credentials(&scan);
}

#[test]
fn current_versions_only_when_asked_and_the_report_says_so() {
    if server().is_none() {
        return;
    }
    let secret = secret();
    seed("current", &secret, VERSIONED);
    let scan = scan_with_secrets(
        &[&secret],
        &[],
        &["--s3-versions", "current", "s3://current"],
    );
    // Only the tarball's copy is current; the old version and the deleted key are not read.
    let heads = heads(&scan);
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("s3://current/backups/app.tar.gz"),
        "{heads:?}"
    );
    assert_eq!(scan.report["scan"]["s3_versions"], "current");
    assert_eq!(
        scan.report["coverage"]["roots"][0]["store"]["versions_mode"],
        "current"
    );
}

#[test]
fn a_clean_prefix_is_absent_with_no_gaps() {
    if server().is_none() {
        return;
    }
    let secret = secret();
    seed(
        "cleanbucket",
        &secret,
        "\
s3.put_object(Bucket=bucket, Key='clean/a.txt', Body=b'hello')
s3.put_object(Bucket=bucket, Key='clean/b.txt', Body=b'world')
s3.put_object(Bucket=bucket, Key='dirty/c.txt', Body=secret)
",
    );
    let scan = scan_with_secrets(&[&secret], &[], &["s3://cleanbucket/clean/"]);
    assert_eq!(scan.verdict(), "absent", "{:?}", scan.report);
    assert_eq!(scan.code(), 0);
    assert_eq!(scan.report["coverage"]["roots"][0]["store"]["versions"], 2);
    assert_no_credentials(&scan);
}

#[test]
fn archive_storage_class_objects_are_gaps_not_absent() {
    if server().is_none() {
        return;
    }
    let secret = secret();
    seed(
        "frozen",
        &secret,
        "\
s3.put_object(Bucket=bucket, Key='cold.bin', Body=b'unknown', StorageClass='DEEP_ARCHIVE')
s3.put_object(Bucket=bucket, Key='warm.txt', Body=b'fine')
",
    );
    let scan = scan_with_secrets(&[&secret], &[], &["s3://frozen"]);
    assert_eq!(scan.verdict(), "incomplete");
    let gaps = scan.gaps();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["kind"], "archived");
    assert!(gaps[0]["chain"][0]
        .as_str()
        .unwrap()
        .starts_with("s3://frozen/cold.bin"));
    assert_no_credentials(&scan);
}

#[test]
fn a_missing_bucket_is_a_gap() {
    if server().is_none() {
        return;
    }
    let scan = scan_with_secrets(&[&secret()], &[], &["s3://no-such-bucket"]);
    assert_eq!(scan.verdict(), "incomplete");
    assert_eq!(scan.gaps()[0]["kind"], "walk-error");
    assert_no_credentials(&scan);
}

#[test]
fn an_object_overwritten_between_listing_and_reading_is_a_changed_gap() {
    use scour::source::s3::{client::Client, config::S3Config, listing, location::S3Location};
    if server().is_none() {
        return;
    }
    let secret = secret();
    seed(
        "racy",
        &secret,
        "s3.put_object(Bucket=bucket, Key='k.txt', Body=b'first')\n",
    );
    let location = S3Location::parse("s3://racy").unwrap().unwrap();
    let client = Client::new(S3Config::from_env().unwrap(), "racy").unwrap();
    let listed = listing::list(&client, &location, listing::VersionsMode::All);
    assert_eq!(listed.versions.len(), 1);
    // Unversioned: the overwrite replaces the `null` version, with a new ETag.
    seed(
        "racy",
        &secret,
        "s3.put_object(Bucket=bucket, Key='k.txt', Body=secret)\n",
    );

    let scour_secret = scour::secret::Secret::new(secret.clone(), "test").unwrap();
    let matcher = scour::matcher::Matcher::new(std::slice::from_ref(&scour_secret)).unwrap();
    let recorder = scour::scan::recorder::Recorder::new(
        &matcher,
        vec!["s".into()],
        vec![scour::coverage::RootCoverage::default()],
        scour::scan::progress::Progress::new(false),
        Default::default(),
    );
    let ctx = scour::source::Context {
        recorder: &recorder,
        root: 0,
    };
    let options = scour::source::s3::S3Options {
        versions: listing::VersionsMode::All,
        threads: 1,
        shard: scour::scan::shard::Shard::WHOLE,
    };
    scour::source::s3::scan_listed(ctx, &client, &location, &options, listed);
    let (findings, coverage) = recorder.finish();
    // The new bytes were not read as if they were the listed version.
    assert!(findings.is_empty());
    let gaps: Vec<_> = coverage.gaps().collect();
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].kind, scour::coverage::GapKind::Changed);
}

#[test]
fn shards_of_a_bucket_partition_its_versions() {
    if server().is_none() {
        return;
    }
    let secret = secret();
    seed("sharded", &secret, VERSIONED);
    let salt = "00112233445566778899aabbccddeeff";
    let mut found = 0;
    let mut read = 0;
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let scan = scan_with_secrets(
            &[&secret],
            &[],
            &["--shard", &shard, "--salt", salt, "s3://sharded"],
        );
        found += scan.findings().len();
        read += scan.report["coverage"]["roots"][0]["store"]["units_read"]
            .as_u64()
            .unwrap();
        assert_eq!(scan.report["coverage"]["roots"][0]["store"]["versions"], 5);
    }
    assert_eq!(found, 3);
    assert_eq!(read, 5);
}

#[test]
fn a_cached_sweep_reuses_unchanged_versions_and_reads_new_ones() {
    if server().is_none() {
        return;
    }
    let secret = secret();
    seed(
        "cachedbucket",
        &secret,
        "\
s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={'Status': 'Enabled'})
s3.put_object(Bucket=bucket, Key='a.txt', Body=b'one')
s3.put_object(Bucket=bucket, Key='b.txt', Body=b'two')
",
    );
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let first = scan_with_secrets(&[&secret], &[], &["--cache", dir, "s3://cachedbucket"]);
    assert_eq!(first.verdict(), "absent");
    assert_eq!(first.report["cache"]["units_recorded"], 2);
    let second = scan_with_secrets(&[&secret], &[], &["--cache", dir, "s3://cachedbucket"]);
    assert_eq!(second.report["cache"]["units_reused"], 2);
    assert_eq!(second.report["summary"]["files_scanned"], 0);
    // A new version is a new unit: read, and found.
    seed(
        "cachedbucket",
        &secret,
        "s3.put_object(Bucket=bucket, Key='a.txt', Body=secret)\n",
    );
    let third = scan_with_secrets(&[&secret], &[], &["--cache", dir, "s3://cachedbucket"]);
    assert_eq!(third.verdict(), "found");
    assert_eq!(third.report["cache"]["units_reused"], 2);
    assert_no_credentials(&third);
}
