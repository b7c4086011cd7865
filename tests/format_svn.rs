//! Subversion repositories and dump files, made with `svnadmin` and `svn` themselves. FSFS
//! stores every file's text as an svndiff delta; Subversion 1.10 and later compress new
//! repositories' deltas with lz4 by default, bare lz4 blocks with no magic number, so a
//! secret whose pieces repeat nearby (here each half of it, a line before) was absent.

mod common;

use std::path::Path;

use common::{have_tool, random_token, run_tool, scan};

/// Text around the secret: each half a line before it, so lz4 copies both halves.
fn config_with(secret: &str) -> String {
    let mut text = String::new();
    for i in 0..400 {
        text.push_str(&format!("setting_{i} = value {}\n", i * 7919 % 1000));
    }
    let (first, second) = secret.split_at(secret.len() / 2);
    text.push_str(&format!("# {first}\n# {second}\napi_key = \"{secret}\"\n"));
    text
}

/// Every byte of every file under `dir`, for checking that the secret is not raw there.
fn holds_raw(dir: &Path, secret: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        if path.is_dir() {
            holds_raw(&path, secret)
        } else {
            memchr::memmem::find(&std::fs::read(&path).unwrap(), secret).is_some()
        }
    })
}

/// A repository (lz4 by default, and zlib) where the secret was committed, changed around
/// and deleted: found in the revision files' deltas, and in `svnadmin dump --deltas`.
#[test]
fn deltas_in_a_repository_and_its_dump_are_rebuilt() {
    if !have_tool("svnadmin") || !have_tool("svn") {
        return;
    }
    let secret = String::from_utf8(random_token(32)).unwrap();
    for compression in ["lz4", "zlib"] {
        let work = tempfile::tempdir().unwrap();
        let repo = work.path().join("repo");
        run_tool(work.path(), "svnadmin", &["create", "repo"]);
        let conf = repo.join("db/fsfs.conf");
        let text = std::fs::read_to_string(&conf).unwrap();
        std::fs::write(
            &conf,
            format!("{text}\n[deltification]\ncompression = {compression}\n"),
        )
        .unwrap();
        let url = format!("file://{}", repo.display());
        run_tool(work.path(), "svn", &["checkout", "-q", &url, "wc"]);
        let wc = work.path().join("wc");
        std::fs::write(wc.join("config.ini"), config_with(&secret)).unwrap();
        run_tool(&wc, "svn", &["add", "-q", "config.ini"]);
        run_tool(&wc, "svn", &["commit", "-q", "-m", "add config"]);
        let changed = config_with(&secret).replace("setting_7 ", "setting_seven ");
        std::fs::write(wc.join("config.ini"), changed).unwrap();
        run_tool(&wc, "svn", &["commit", "-q", "-m", "rename a setting"]);
        run_tool(&wc, "svn", &["rm", "-q", "config.ini"]);
        run_tool(&wc, "svn", &["commit", "-q", "-m", "remove the key"]);
        let dump = run_tool(work.path(), "svnadmin", &["dump", "-q", "--deltas", "repo"]);
        std::fs::remove_dir_all(&wc).unwrap();
        assert!(
            !holds_raw(&repo, secret.as_bytes()),
            "{compression}: the repository holds the secret raw: the test would prove nothing"
        );

        let result = scan(secret.as_bytes(), &[&repo]);
        assert_eq!(
            result.verdict(),
            "found",
            "{compression}: {:?}",
            result.gaps()
        );
        assert!(
            result.gaps().is_empty(),
            "{compression}: {:?}",
            result.gaps()
        );
        let places = result.places();
        assert!(
            places
                .iter()
                .any(|(chain, _)| chain.contains("db/revs/0/1!svndiff@")),
            "{compression}: {places:?}"
        );
        result.assert_no_leak(secret.as_bytes());

        let dumps = tempfile::tempdir().unwrap();
        std::fs::write(dumps.path().join("repo.dump"), &dump).unwrap();
        let result = scan(secret.as_bytes(), &[dumps.path()]);
        assert_eq!(result.verdict(), "found", "dump: {:?}", result.gaps());
        assert!(result.gaps().is_empty(), "dump: {:?}", result.gaps());
    }
}
