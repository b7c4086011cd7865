//! Measures libgit2 (`git2`) against gitoxide (`gix-odb` + `gix-object`) on the two jobs
//! scour gives a git library, for docs/git.md: reading every object of a database, and the
//! attribution walk (every commit reachable from the refs, every tree entry of each commit,
//! each tree read once). Usage: `cargo run --release --example git_readers -- GIT_DIR [RUNS]`.
//! Prints the best of RUNS (default 5) for each library; both must see the same counts.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use gix_object::{Find, FindExt};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let git_dir = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: git_readers GIT_DIR [RUNS]"))?;
    let runs: usize = args.next().map_or(Ok(5), |n| n.parse())?;
    let git_dir = Path::new(&git_dir);
    let repo = git2::Repository::open_bare(git_dir).or_else(|_| git2::Repository::open(git_dir))?;
    let tips = ref_tips(&repo)?;
    let objects_dir = repo.path().join("objects");

    let (ids, time) = best(runs, || all_ids_git2(&repo));
    println!(
        "list ids      git2 {:>9.1} ms  {} objects",
        ms(time),
        ids?.len()
    );
    let (ids_gix, time) = best(runs, || all_ids_gix(&objects_dir));
    let ids_gix = ids_gix?;
    println!(
        "list ids      gix  {:>9.1} ms  {} objects",
        ms(time),
        ids_gix.len()
    );

    let (bytes, time) = best(runs, || read_all_git2(&repo, &ids_gix));
    println!("read all      git2 {:>9.1} ms  {} bytes", ms(time), bytes?);
    let (bytes, time) = best(runs, || read_all_gix(&objects_dir, &ids_gix));
    println!("read all      gix  {:>9.1} ms  {} bytes", ms(time), bytes?);

    let (walk, time) = best(runs, || walk_git2(&repo, &tips));
    let (commits, entries) = walk?;
    println!(
        "history walk  git2 {:>9.1} ms  {commits} commits, {entries} tree entries",
        ms(time)
    );
    let (walk, time) = best(runs, || walk_gix(&objects_dir, &tips));
    let (commits, entries) = walk?;
    println!(
        "history walk  gix  {:>9.1} ms  {commits} commits, {entries} tree entries",
        ms(time)
    );
    Ok(())
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1000.0
}

/// The result of the fastest of `runs` runs, and its time.
fn best<T>(runs: usize, mut job: impl FnMut() -> T) -> (T, Duration) {
    let mut fastest = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let value = job();
        let time = started.elapsed();
        if fastest.as_ref().is_none_or(|(_, best)| time < *best) {
            fastest = Some((value, time));
        }
    }
    fastest.expect("at least one run")
}

fn ref_tips(repo: &git2::Repository) -> anyhow::Result<Vec<git2::Oid>> {
    let mut tips = Vec::new();
    for reference in repo.references()? {
        if let Ok(commit) = reference?.peel_to_commit() {
            tips.push(commit.id());
        }
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

fn all_ids_git2(repo: &git2::Repository) -> anyhow::Result<Vec<git2::Oid>> {
    let mut ids = Vec::new();
    repo.odb()?.foreach(|id| {
        ids.push(*id);
        true
    })?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn open_gix(objects_dir: &Path) -> anyhow::Result<gix_odb::Handle> {
    let mut handle = gix_odb::at(objects_dir)?;
    // GIX_PACK_CACHE=none|capped (default: capped, as scour's object scan uses).
    match std::env::var("GIX_PACK_CACHE").as_deref() {
        Ok("none") => handle.unset_pack_cache(),
        _ => handle
            .set_pack_cache(|| Box::new(gix_pack::cache::lru::MemoryCappedHashmap::new(64 << 20))),
    }
    Ok(handle)
}

fn all_ids_gix(objects_dir: &Path) -> anyhow::Result<Vec<gix_hash::ObjectId>> {
    let store = gix_odb::Store::at_opts(
        objects_dir.to_path_buf(),
        &mut std::iter::empty(),
        gix_odb::store::init::Options::default(),
    )?;
    let mut ids: Vec<gix_hash::ObjectId> = store.iter()?.filter_map(Result::ok).collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn read_all_git2(repo: &git2::Repository, ids: &[gix_hash::ObjectId]) -> anyhow::Result<u64> {
    let odb = repo.odb()?;
    let mut bytes = 0;
    for id in ids {
        let object = odb.read(git2::Oid::from_bytes(id.as_bytes())?)?;
        bytes += object.data().len() as u64;
    }
    Ok(bytes)
}

fn read_all_gix(objects_dir: &Path, ids: &[gix_hash::ObjectId]) -> anyhow::Result<u64> {
    let handle = open_gix(objects_dir)?;
    let mut buffer = Vec::new();
    let mut bytes = 0;
    for id in ids {
        let object = handle
            .try_find(id, &mut buffer)
            .map_err(|e| anyhow::anyhow!("{id}: {e}"))?
            .ok_or_else(|| anyhow::anyhow!("{id} missing"))?;
        bytes += object.data.len() as u64;
    }
    Ok(bytes)
}

/// Every commit reachable from `tips`, and every entry of every distinct tree they hold.
fn walk_git2(repo: &git2::Repository, tips: &[git2::Oid]) -> anyhow::Result<(u64, u64)> {
    let mut walk = repo.revwalk()?;
    for tip in tips {
        walk.push(*tip)?;
    }
    let (mut commits, mut entries) = (0, 0);
    let mut seen_trees: HashSet<git2::Oid> = HashSet::new();
    for id in walk {
        let commit = repo.find_commit(id?)?;
        commits += 1;
        let mut pending = vec![commit.tree_id()];
        while let Some(tree_id) = pending.pop() {
            if !seen_trees.insert(tree_id) {
                continue;
            }
            let tree = repo.find_tree(tree_id)?;
            for entry in tree.iter() {
                entries += 1;
                if entry.kind() == Some(git2::ObjectType::Tree) {
                    pending.push(entry.id());
                }
            }
        }
    }
    Ok((commits, entries))
}

fn walk_gix(objects_dir: &Path, tips: &[git2::Oid]) -> anyhow::Result<(u64, u64)> {
    let handle = open_gix(objects_dir)?;
    let mut buffer = Vec::new();
    let mut tree_buffer = Vec::new();
    let (mut commits, mut entries) = (0, 0);
    let mut seen_commits: HashSet<gix_hash::ObjectId> = HashSet::new();
    let mut seen_trees: HashSet<gix_hash::ObjectId> = HashSet::new();
    let mut pending_commits: Vec<gix_hash::ObjectId> = tips
        .iter()
        .map(|tip| gix_hash::ObjectId::try_from(tip.as_bytes()))
        .collect::<Result<_, _>>()?;
    while let Some(id) = pending_commits.pop() {
        if !seen_commits.insert(id) {
            continue;
        }
        let commit = handle.find_commit(&id, &mut buffer)?;
        commits += 1;
        pending_commits.extend(commit.parents());
        let mut pending = vec![commit.tree()];
        while let Some(tree_id) = pending.pop() {
            if !seen_trees.insert(tree_id) {
                continue;
            }
            let tree = handle.find_tree_iter(&tree_id, &mut tree_buffer)?;
            for entry in tree {
                let entry = entry?;
                entries += 1;
                if entry.mode.is_tree() {
                    pending.push(entry.oid.to_owned());
                }
            }
        }
    }
    Ok((commits, entries))
}
