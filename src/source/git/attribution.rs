//! Attribution: for the objects that matched — and only for them — which commits introduced
//! them at which paths, which refs reach them, or whether only reflogs, an index, or nothing
//! at all (dangling) holds them.
//!
//! History is walked once, parents before children. Each tree is read once and remembers
//! which matching objects it holds and at which paths, so shared subtrees cost nothing the
//! second time. A `(path, object)` pair is *introduced* by a commit when no parent holds it;
//! every commit holding it descends from such a commit, so a ref reaches the object exactly
//! when it reaches one of its introducing commits. Each commit carries the set of
//! introductions it reaches (shared, not copied, along linear history), so refs and reflog
//! entries are answered by one lookup each. All commits in the object database are walked,
//! not just reachable ones, so a dangling commit is still named as the holder of a blob.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use git2::{ObjectType, Oid, Repository};

use super::objects::CommitLinks;
use super::refs::{Reflog, Tip};

/// Everything known about where one matching object lives.
#[derive(Debug, Default, Clone)]
pub(crate) struct Attributed {
    /// `(commit, path)` pairs that introduced the object (a commit message: empty path).
    pub introduced: Vec<(Oid, String)>,
    /// Number of commits whose tree holds the object (or that are the object).
    pub containing_commits: u64,
    pub refs: BTreeSet<String>,
    pub reflogs: BTreeSet<String>,
    pub index: BTreeSet<String>,
}

type Holdings = Rc<Vec<(String, Oid)>>;

/// A tree being read by [`Walker::tree_holdings`]: its entries, the next one to visit and
/// the matching objects found in it so far.
struct OpenTree {
    id: Oid,
    entries: Vec<(String, Oid, Option<ObjectType>)>,
    next: usize,
    held: Vec<(String, Oid)>,
}

impl OpenTree {
    fn add_subtree(&mut self, name: &str, holdings: &Holdings) {
        for (path, object) in holdings.iter() {
            let full = if path.is_empty() {
                name.to_string()
            } else {
                format!("{name}/{path}")
            };
            self.held.push((full, *object));
        }
    }
}

struct Walker<'r> {
    repo: &'r Repository,
    targets: &'r HashSet<Oid>,
    links: HashMap<Oid, CommitLinks>,
    trees: HashMap<Oid, Holdings>,
    problems: Vec<String>,
}

/// Starting points and the commits already parsed, for [`attribute`].
pub(crate) struct History<'a> {
    pub links: &'a HashMap<Oid, CommitLinks>,
    pub tips: &'a [Tip],
    pub reflogs: &'a [Reflog],
    pub index: &'a [(String, String, Oid)],
}

/// Attributes every object in `targets`. Problems met (a missing tree or commit) are
/// returned as text: the objects themselves were scanned, only their attribution is partial.
pub(crate) fn attribute(
    repo: &Repository,
    targets: &HashSet<Oid>,
    history: &History,
) -> (HashMap<Oid, Attributed>, Vec<String>) {
    let mut walker = Walker {
        repo,
        targets,
        links: history.links.clone(),
        trees: HashMap::new(),
        problems: Vec::new(),
    };
    let mut out: HashMap<Oid, Attributed> = targets
        .iter()
        .map(|id| (*id, Attributed::default()))
        .collect();

    let mut starts: Vec<Oid> = history.links.keys().copied().collect();
    starts.extend(
        history
            .tips
            .iter()
            .filter_map(|t| walker.peel_to_commit(t.id)),
    );
    starts.extend(history.reflogs.iter().flat_map(|r| r.ids.iter().copied()));
    let order = walker.topological(starts);

    let mut introductions: Vec<(Oid, String, Oid)> = Vec::new();
    let mut reach: HashMap<Oid, Rc<Vec<u32>>> = HashMap::new();
    for commit in &order {
        let Some(links) = walker.links.get(commit).cloned() else {
            continue;
        };
        let held = walker.commit_holdings(*commit, &links);
        let parent_links: Vec<(Oid, CommitLinks)> = links
            .parents
            .iter()
            .filter_map(|p| walker.links.get(p).cloned().map(|l| (*p, l)))
            .collect();
        let parents_held: Vec<Holdings> = parent_links
            .iter()
            .map(|(p, l)| walker.commit_holdings(*p, l))
            .collect();
        let mut own = Vec::new();
        for (path, object) in held.iter() {
            if let Some(entry) = out.get_mut(object) {
                entry.containing_commits += 1;
            }
            let inherited = parents_held
                .iter()
                .any(|p| p.iter().any(|(pp, po)| pp == path && po == object));
            if !inherited {
                own.push(introductions.len() as u32);
                introductions.push((*commit, path.clone(), *object));
            }
        }
        let reached = merge_reach(
            links.parents.iter().filter_map(|p| reach.get(p)).cloned(),
            own,
        );
        reach.insert(*commit, reached);
    }
    for (commit, path, object) in &introductions {
        if let Some(entry) = out.get_mut(object) {
            entry.introduced.push((*commit, path.clone()));
        }
    }

    for tip in history.tips {
        for object in walker.reached_from(tip.id, &reach, &introductions) {
            if let Some(entry) = out.get_mut(&object) {
                entry.refs.insert(tip.name.clone());
            }
        }
    }
    for reflog in history.reflogs {
        for id in &reflog.ids {
            for object in walker.reached_from(*id, &reach, &introductions) {
                if let Some(entry) = out.get_mut(&object) {
                    entry.reflogs.insert(reflog.name.clone());
                }
            }
        }
    }
    for (label, path, id) in history.index {
        if let Some(entry) = out.get_mut(id) {
            entry.index.insert(format!("{label}:{path}"));
        }
    }
    (out, walker.problems)
}

fn merge_reach(parents: impl Iterator<Item = Rc<Vec<u32>>>, own: Vec<u32>) -> Rc<Vec<u32>> {
    let parents: Vec<Rc<Vec<u32>>> = parents.filter(|p| !p.is_empty()).collect();
    if own.is_empty() && parents.len() == 1 {
        return parents[0].clone();
    }
    let mut all = own;
    for p in &parents {
        all.extend(p.iter().copied());
    }
    all.sort_unstable();
    all.dedup();
    Rc::new(all)
}

impl Walker<'_> {
    fn links_of(&mut self, id: Oid) -> Option<CommitLinks> {
        if let Some(links) = self.links.get(&id) {
            return Some(links.clone());
        }
        let commit = self.repo.find_commit(id).ok()?;
        let links = CommitLinks {
            tree: commit.tree_id(),
            parents: commit.parent_ids().collect(),
        };
        self.links.insert(id, links.clone());
        Some(links)
    }

    /// Commits reachable from `starts`, every parent before its children.
    fn topological(&mut self, starts: Vec<Oid>) -> Vec<Oid> {
        let mut order = Vec::new();
        let mut visited = HashSet::new();
        let mut stack: Vec<(Oid, bool)> = starts.into_iter().map(|id| (id, false)).collect();
        while let Some((id, expanded)) = stack.pop() {
            if expanded {
                order.push(id);
                continue;
            }
            if !visited.insert(id) {
                continue;
            }
            let Some(links) = self.links_of(id) else {
                continue;
            };
            stack.push((id, true));
            for parent in links.parents {
                if !visited.contains(&parent) {
                    stack.push((parent, false));
                }
            }
        }
        order
    }

    fn commit_holdings(&mut self, commit: Oid, links: &CommitLinks) -> Holdings {
        let tree = self.tree_holdings(links.tree);
        if !self.targets.contains(&commit) {
            return tree;
        }
        let mut all = (*tree).clone();
        all.push((String::new(), commit));
        Rc::new(all)
    }

    /// The matching objects inside a tree, with their paths. Read once per tree. Iterative
    /// (an explicit stack of open trees), so a tree nested thousands of levels deep, as git
    /// allows, cannot overflow the thread's stack.
    fn tree_holdings(&mut self, tree_id: Oid) -> Holdings {
        if let Some(known) = self.trees.get(&tree_id) {
            return known.clone();
        }
        let mut open = vec![self.open_tree(tree_id)];
        loop {
            let Some(frame) = open.last_mut() else {
                return Rc::new(Vec::new());
            };
            if let Some((name, id, kind)) = frame.entries.get(frame.next).cloned() {
                frame.next += 1;
                if kind != Some(ObjectType::Tree) {
                    if self.targets.contains(&id) {
                        frame.held.push((name, id));
                    }
                } else if let Some(known) = self.trees.get(&id).cloned() {
                    frame.add_subtree(&name, &known);
                } else {
                    let child = self.open_tree(id);
                    open.push(child);
                }
                continue;
            }
            let Some(done) = open.pop() else {
                return Rc::new(Vec::new());
            };
            let held = Rc::new(done.held);
            self.trees.insert(done.id, held.clone());
            let Some(parent) = open.last_mut() else {
                return held;
            };
            let name = parent.entries[parent.next - 1].0.clone();
            parent.add_subtree(&name, &held);
        }
    }

    /// Reads one tree's entries, starting its holdings with the tree itself if it matched.
    fn open_tree(&mut self, tree_id: Oid) -> OpenTree {
        let mut frame = OpenTree {
            id: tree_id,
            entries: Vec::new(),
            next: 0,
            held: Vec::new(),
        };
        if self.targets.contains(&tree_id) {
            frame.held.push((String::new(), tree_id));
        }
        match self.repo.find_tree(tree_id) {
            Ok(tree) => {
                frame.entries = tree
                    .iter()
                    .map(|e| {
                        (
                            String::from_utf8_lossy(e.name_bytes()).into_owned(),
                            e.id(),
                            e.kind(),
                        )
                    })
                    .collect();
            }
            Err(error) => self
                .problems
                .push(format!("tree {tree_id}: {}", error.message())),
        }
        frame
    }

    fn peel_to_commit(&mut self, mut id: Oid) -> Option<Oid> {
        for _ in 0..16 {
            let object = self.repo.find_object(id, None).ok()?;
            match object.kind() {
                Some(ObjectType::Commit) => return Some(id),
                Some(ObjectType::Tag) => id = object.as_tag()?.target_id(),
                _ => return None,
            }
        }
        None
    }

    /// The matching objects reachable from one starting id (a commit, a tag, a tree or a
    /// blob, as refs may point at any of them).
    fn reached_from(
        &mut self,
        mut id: Oid,
        reach: &HashMap<Oid, Rc<Vec<u32>>>,
        introductions: &[(Oid, String, Oid)],
    ) -> Vec<Oid> {
        let mut found = Vec::new();
        for _ in 0..16 {
            if self.targets.contains(&id) {
                found.push(id);
            }
            if let Some(reached) = reach.get(&id) {
                found.extend(reached.iter().map(|&i| introductions[i as usize].2));
                return found;
            }
            let Ok(object) = self.repo.find_object(id, None) else {
                return found;
            };
            match object.kind() {
                Some(ObjectType::Tag) => match object.as_tag() {
                    Some(tag) => id = tag.target_id(),
                    None => return found,
                },
                Some(ObjectType::Tree) => {
                    drop(object);
                    found.extend(self.tree_holdings(id).iter().map(|(_, o)| *o));
                    return found;
                }
                _ => return found,
            }
        }
        found
    }
}
