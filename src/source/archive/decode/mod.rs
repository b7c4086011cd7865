//! Decode layers: long runs of encoded text inside a leaf are decoded, and the decoded bytes
//! go through the whole pipeline again.
//!
//! This module is the one home of decoding in scour. The matcher's forward-encoded automaton
//! finds a secret under one known encoding (base64 at three alignments, hex, percent...); it
//! cannot see chains (base64 of gzip, base64 of base64 as in Helm release secrets, base64 of
//! UTF-16LE as in PowerShell `-EncodedCommand`) nor layouts it did not generate (base64
//! wrapped at 60 or 72 columns, indented in YAML, or with `\n` escapes in a JSON string).
//! Here each encoding has one file with a streaming run-finder and a lenient decoder,
//! registered in [`finders`]; the finders that read whole lines share one splitter
//! ([`lines::Lines`]), and the escape layers (backslash, percent) one block decoder with an
//! exact offset map ([`escaped`]). The leaf feeds every byte of its single pass to every finder
//! ([`Layers::feed`]); the finders decode as they go and keep the runs that could hold a
//! finding (at least as many decoded bytes as the shortest pattern). After the pass,
//! [`follow`] sends each decoded run through [`super::inspect`] at `depth + 1`, named
//! `<encoding>@<offset>` in the location chain, so a finding names its whole decode path
//! (`values.yaml` › `base64@120` › `base64@0` › `gzip@0`...), and chains of any depth (up to
//! the nesting limit) are followed.
//!
//! **Both modes.** Hash mode (a ledger) has no decoders of its own: its candidates are
//! extracted by the matcher from every leaf, decoded runs included, so a ledger entry is
//! found through the same layers and chains as a plaintext secret, and its finding names the
//! same decode path. Ledger entries have no forward-encoded variants in the automaton,
//! though, so in hash mode ([`Wants::single_layers`]) the finders also keep the single
//! layers they leave to the automaton in plaintext mode (short or word-like base64, one
//! level of percent-encoding). Text scour holds outside the pipeline (names, refs, strings
//! of the report) goes through the same finders in [`text_hits`].
//!
//! **Budgets.** A run keeps at most [`RUN_BUDGET`] decoded bytes and a leaf at most
//! [`LEAF_BUDGET`]; what a budget stops is a `limit-exceeded` gap naming the run, never
//! silent.
//!
//! **No double reporting.** The automaton already reports single encodings: `base64` of the
//! secret inside a base64 run is a finding of the leaf, and the same secret decoded from that
//! run would be the same occurrence again. So, before a decoded run is inspected, the hits of
//! its leaf that lie inside the run are mapped into decoded coordinates (a [`Shadow`]); a hit
//! of the decoded run's own bytes that overlaps the shadow of a hit of the same secret is
//! dropped, whatever its encoding (a JSON string escaped twice is the automaton's in the leaf
//! and, decoded once, the automaton's JSON variant again in the run: one occurrence). The
//! shadow is made from all the leaf's hits, those it dropped itself included, so it holds
//! down a chain. Anything a further layer finds (a gzip inside the run, base64 inside
//! base64) is new and kept. Two runs of one leaf can read the same bytes (a `.reg` value's
//! `\` continuations are also backslash escapes): a secret one run led to is not reported
//! again anywhere under a later run that overlaps it.
//!
//! **Nesting limit.** A leaf at the nesting limit still runs its finders, but what they find
//! is not followed: it is one `limit-exceeded` gap, never a silent stop.

mod ascii85;
mod backslash;
mod base32;
mod base64;
pub(crate) mod base85;
mod base85_tokens;
mod byte_lists;
mod container_log;
mod entities;
mod escaped;
mod git_binary;
mod hex;
mod hex_runs;
mod lines;
mod percent;
mod quoted_printable;
mod uuencode;
mod wake;
mod wide;
mod yaml_fold;

use std::cell::RefCell;

use super::{inspect, Reopen, Walk};
use crate::coverage::GapKind;
use crate::matcher::{Hit, Matcher, ScanBuffer};

/// Most decoded bytes kept of one run.
pub(crate) const RUN_BUDGET: usize = 16 << 20;
/// Most decoded bytes kept of all the runs of one leaf.
pub(crate) const LEAF_BUDGET: usize = 64 << 20;
/// Decoded bytes of slack around a mapped hit (line breaks and indentation make the ratio
/// of encoded to decoded bytes uneven inside a run).
const SHADOW_SLACK: u64 = 8;

/// A streaming run-finder with its decoder: sees every byte of a leaf once, in order.
pub(crate) trait RunFinder {
    /// The next `bytes` of the leaf, starting at offset `at`.
    fn feed(&mut self, bytes: &[u8], at: u64, sink: &mut Sink);
    /// The leaf ended: a run still open is complete.
    fn finish(&mut self, sink: &mut Sink);
}

/// Every run-finder, one per encoding (the registry: adding an encoding is one file plus
/// one line here).
/// `yaml` says the leaf is named as a YAML file (see [`yaml_fold`]).
fn finders(wants: Wants, yaml: bool) -> Vec<Box<dyn RunFinder>> {
    let min_decoded = wants.min_decoded;
    vec![
        Box::new(base64::Base64Runs::new(min_decoded, wants.single_layers)),
        Box::new(hex_runs::HexRuns::new(min_decoded)),
        Box::new(byte_lists::ByteLists::new()),
        Box::new(wide::WideRuns::utf16()),
        Box::new(wide::WideRuns::utf32()),
        Box::new(lines::Lines::new(vec![
            Box::new(quoted_printable::QuotedPrintableRuns::new()),
            Box::new(hex::HexDumpRuns::new()),
            Box::new(container_log::ContainerLogRuns::new()),
            Box::new(escaped::EscapedRuns::new(backslash::escaping())),
            Box::new(escaped::EscapedRuns::new(percent::escaping(
                wants.single_layers,
            ))),
            Box::new(escaped::EscapedRuns::new(entities::escaping())),
            Box::new(yaml_fold::YamlFoldRuns::new(yaml)),
            Box::new(uuencode::UuencodeRuns::new()),
            Box::new(git_binary::GitBinaryRuns::new()),
            Box::new(ascii85::Ascii85Runs::new(min_decoded)),
            Box::new(base85_tokens::Base85Words::new(min_decoded)),
        ])),
    ]
}

/// Every encoding a decoded run can be named by (the first part of its `<encoding>@<offset>`
/// chain element), in the order of [`finders`]; listed in a ledger scan's report.
pub(crate) const ENCODINGS: &[&str] = &[
    "base64",
    "base32",
    "base32hex",
    "hex",
    "byte-list",
    "utf16",
    "utf32",
    "quoted-printable",
    "hexdump",
    "container-log",
    "backslash",
    "percent",
    "entities",
    "yaml-fold",
    "uuencode",
    "git-binary-delta-inserts",
    "ascii85",
    "ascii85-flate",
    "base85",
    "z85",
];

/// What the matcher needs the decode layers to keep.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wants {
    /// Fewest decoded bytes that could hold a finding (the shortest plaintext pattern or
    /// ledger entry).
    pub min_decoded: usize,
    /// Hash mode: ledger entries have no forward-encoded variants in the automaton, so a
    /// single layer over one (plain base64, one level of percent-encoding) is the decode
    /// layers' to see, not only chains and layouts the automaton cannot match.
    pub single_layers: bool,
    /// Some ledger entry has bytes outside printable ASCII (decoded non-ASCII may be one).
    pub non_ascii: bool,
}

impl Wants {
    pub(crate) fn of(matcher: &Matcher) -> Wants {
        let extractor = matcher.extractor();
        Wants {
            min_decoded: matcher.shortest_pattern(),
            single_layers: extractor.is_some(),
            non_ascii: extractor.is_some_and(|e| e.has_non_ascii()),
        }
    }

    /// Plaintext mode with patterns of at least `min_decoded` bytes.
    #[cfg(test)]
    pub(crate) fn plaintext(min_decoded: usize) -> Wants {
        Wants {
            min_decoded,
            single_layers: false,
            non_ascii: false,
        }
    }
}

/// One decoded run.
pub(crate) struct DecodedRun {
    pub encoding: &'static str,
    /// Offset of the run's first encoded byte in the leaf.
    pub offset: u64,
    /// Encoded bytes the run spans in the leaf (line breaks and indentation included).
    pub encoded_len: u64,
    pub bytes: Vec<u8>,
    /// The run decoded to more than [`RUN_BUDGET`]: only its first part is kept.
    pub truncated: bool,
    /// (decoded offset, leaf offset) where pieces of the run start, when the finder knows
    /// them (joined log entries); otherwise offsets are mapped by the run's overall ratio.
    pub map: Vec<(u64, u64)>,
}

/// Where finders hand their runs; applies the budgets.
pub(crate) struct Sink {
    wants: Wants,
    min_decoded: usize,
    kept: usize,
    runs: Vec<DecodedRun>,
    /// Runs dropped because the leaf's budget was spent: (encoding, offset, decoded bytes).
    over_budget: Vec<(&'static str, u64, usize)>,
}

impl Sink {
    /// A plaintext-mode sink (tests of single finders).
    #[cfg(test)]
    fn new(min_decoded: usize) -> Sink {
        Sink::with(Wants::plaintext(min_decoded))
    }

    fn with(wants: Wants) -> Sink {
        Sink {
            wants,
            min_decoded: wants.min_decoded,
            kept: 0,
            runs: Vec::new(),
            over_budget: Vec::new(),
        }
    }

    /// Decoded bytes a run needs to be worth inspecting.
    pub(crate) fn min_decoded(&self) -> usize {
        self.min_decoded
    }

    /// Whether single layers are to be decoded (hash mode, see [`Wants::single_layers`]).
    pub(crate) fn single_layers(&self) -> bool {
        self.wants.single_layers
    }

    /// Whether `decoded` holds [`Sink::min_decoded`] consecutive bytes of text (printable
    /// ASCII and whitespace, and bytes above 0x7f when a ledger entry has some): what a
    /// decoded entry needs. Noise (a word or a digest decoded as base64) seldom does.
    pub(crate) fn could_hold_text(&self, decoded: &[u8]) -> bool {
        let mut run = 0;
        for &byte in decoded {
            let text = byte.is_ascii_graphic()
                || matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
                || (self.wants.non_ascii && byte >= 0x80);
            run = if text { run + 1 } else { 0 };
            if run >= self.min_decoded {
                return true;
            }
        }
        false
    }

    /// Takes a decoded run if it could hold a finding and fits the leaf's budget.
    pub(crate) fn offer(&mut self, run: DecodedRun) {
        if run.bytes.len() < self.min_decoded {
            return;
        }
        if self.kept + run.bytes.len() > LEAF_BUDGET {
            self.over_budget
                .push((run.encoding, run.offset, run.bytes.len()));
            return;
        }
        self.kept += run.bytes.len();
        self.runs.push(run);
    }
}

/// What the decode layers of a leaf do with the runs they find.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Decode them and inspect what they decode to.
    Follow,
    /// The leaf is at the nesting limit: a run found is a gap.
    AtLimit,
    /// Nothing (the leaf is already a gap).
    Off,
}

/// The decode layers of one leaf: every finder, fed by the leaf's single pass.
pub(crate) struct Layers {
    finders: Vec<Box<dyn RunFinder>>,
    sink: Sink,
    position: u64,
    mode: Mode,
}

impl Layers {
    /// Layers for the leaf `chain` scanned by `matcher`.
    pub(crate) fn new(matcher: &Matcher, chain: &[String], mode: Mode) -> Layers {
        let yaml = chain.iter().any(|name| yaml_fold::is_yaml_name(name));
        let wants = Wants::of(matcher);
        Layers {
            finders: if mode == Mode::Off {
                Vec::new()
            } else {
                finders(wants, yaml)
            },
            sink: Sink::with(wants),
            position: 0,
            mode,
        }
    }

    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        for finder in &mut self.finders {
            finder.feed(bytes, self.position, &mut self.sink);
        }
        self.position += bytes.len() as u64;
    }

    fn finish(mut self) -> Sink {
        for finder in &mut self.finders {
            finder.finish(&mut self.sink);
        }
        self.sink
    }
}

/// Hits of a leaf mapped into the coordinates of one of its decoded runs.
#[derive(Debug, Default)]
pub(crate) struct Shadow {
    chain: Vec<String>,
    /// (secret, first decoded byte, end) of each hit of the leaf inside the run.
    spans: Vec<(usize, u64, u64)>,
}

/// The decode layers' state in a [`Walk`].
#[derive(Debug, Default)]
pub(crate) struct ShadowSlot {
    /// The shadow for the decoded run being inspected, if any (set by [`follow`], taken by
    /// the run's leaf).
    shadow: RefCell<Option<Shadow>>,
    /// The secrets every leaf reported, in order (so [`follow`] knows what each run led to).
    reported: RefCell<Vec<usize>>,
    /// For each decoded run being inspected (outermost first), the secrets an earlier run
    /// over the same leaf bytes already led to: not reported again anywhere inside it.
    suppressed: RefCell<Vec<Vec<usize>>>,
}

/// A leaf reported `hits`.
pub(crate) fn reported(walk: &Walk, matcher: &Matcher, hits: &[Hit]) {
    walk.shadow
        .reported
        .borrow_mut()
        .extend(hits.iter().map(|hit| matcher.pattern(hit.pattern).secret));
}

/// Drops the hits of a decoded run's leaf that are occurrences its parent leaf already
/// reported (see the module doc). Returns whether the leaf is a decoded run (its bytes are
/// a view of bytes already counted as scanned).
pub(crate) fn drop_shadowed(
    walk: &Walk,
    chain: &[String],
    matcher: &Matcher,
    hits: &mut Vec<Hit>,
) -> bool {
    {
        let suppressed = walk.shadow.suppressed.borrow();
        if suppressed.iter().any(|secrets| !secrets.is_empty()) {
            hits.retain(|hit| {
                let secret = matcher.pattern(hit.pattern).secret;
                !suppressed.iter().any(|secrets| secrets.contains(&secret))
            });
        }
    }
    let shadow = {
        let mut slot = walk.shadow.shadow.borrow_mut();
        match slot.as_ref() {
            Some(shadow) if shadow.chain == chain => slot.take(),
            _ => None,
        }
    };
    let Some(shadow) = shadow else {
        return false;
    };
    hits.retain(|hit| {
        let secret = matcher.pattern(hit.pattern).secret;
        let (start, end) = (hit.offset, hit.offset + hit.len);
        !shadow
            .spans
            .iter()
            .any(|&(s, lo, hi)| s == secret && start < hi && lo < end)
    });
    true
}

/// Inspects `bytes`, a view of bytes already scanned (the text a PDF shows), as member
/// `chain` at `depth`: its hits at `seen` (secret, first byte, end) are occurrences the raw
/// scan already reported, and are dropped like a decoded run's shadowed hits.
pub(crate) fn inspect_view(
    walk: &Walk,
    chain: &[String],
    bytes: &[u8],
    seen: Vec<(usize, u64, u64)>,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    *walk.shadow.shadow.borrow_mut() = Some(Shadow {
        chain: chain.to_vec(),
        spans: seen,
    });
    inspect(
        walk,
        chain,
        &mut &bytes[..],
        depth,
        Reopen::Memory(bytes),
        buffer,
    );
    walk.shadow.shadow.borrow_mut().take();
}

/// How many secrets leaves have reported so far: a mark for [`reported_since`].
pub(crate) fn reported_mark(walk: &Walk) -> usize {
    walk.shadow.reported.borrow().len()
}

/// The secrets leaves reported since `mark` (each once).
pub(crate) fn reported_since(walk: &Walk, mark: usize) -> Vec<usize> {
    let mut secrets = walk.shadow.reported.borrow()[mark..].to_vec();
    secrets.sort_unstable();
    secrets.dedup();
    secrets
}

/// Inspects `bytes`, decoded from bytes whose raw scan already reported `secrets`, as
/// member `chain` at `depth`: those secrets are not reported again anywhere inside (a
/// snappy literal is the same occurrence raw and decoded; the raw one is reported).
pub(crate) fn inspect_suppressing(
    walk: &Walk,
    chain: &[String],
    bytes: &[u8],
    secrets: Vec<usize>,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    walk.shadow.suppressed.borrow_mut().push(secrets);
    inspect(
        walk,
        chain,
        &mut &bytes[..],
        depth,
        Reopen::Memory(bytes),
        buffer,
    );
    walk.shadow.suppressed.borrow_mut().pop();
}

/// Inspects every decoded run of a leaf (after the leaf's own pass, so `buffer` is free),
/// and records what the budgets stopped. Returns the leaf ranges the runs interpreted.
pub(crate) fn follow(
    walk: &Walk,
    chain: &[String],
    layers: Layers,
    leaf_hits: &[Hit],
    depth: u32,
    buffer: &mut ScanBuffer,
) -> Vec<(u64, u64)> {
    let mode = layers.mode;
    let sink = layers.finish();
    let matcher = walk.ctx.recorder.matcher();
    if mode == Mode::AtLimit {
        too_deep_to_follow(walk, chain, &sink, depth);
        return Vec::new();
    }
    for &(encoding, offset, bytes) in &sink.over_budget {
        walk.gap(
            GapKind::LimitExceeded,
            chain.to_vec(),
            format!(
                "a {encoding} run at byte {offset} of {} decodes to {bytes} bytes, past the \
                 {LEAF_BUDGET} bytes decoded per file; it was not decoded, only its encoded \
                 text was scanned",
                crate::findings::display_chain(chain)
            ),
        );
    }
    let mut covered = Vec::new();
    // Secrets each run led to, over the leaf bytes it spans: two layers reading the same
    // bytes (a `.reg` value's continuations are also backslash escapes) find one occurrence,
    // reported by the first.
    let mut siblings: Vec<(usize, u64, u64)> = Vec::new();
    let min_decoded = sink.min_decoded();
    for run in sink.runs {
        let mut child = chain.to_vec();
        child.push(format!("{}@{}", run.encoding, run.offset));
        if run.truncated {
            walk.gap(
                GapKind::LimitExceeded,
                child.clone(),
                format!(
                    "the {} run at byte {} of {} decodes to more than {RUN_BUDGET} bytes; only \
                     the first {RUN_BUDGET} were decoded and scanned",
                    run.encoding,
                    run.offset,
                    crate::findings::display_chain(chain)
                ),
            );
        }
        let run_end = run.offset + run.encoded_len;
        let mut suppressed: Vec<usize> = siblings
            .iter()
            .filter(|&&(_, lo, hi)| lo < run_end && run.offset < hi)
            .map(|&(secret, _, _)| secret)
            .collect();
        suppressed.dedup();
        walk.shadow.suppressed.borrow_mut().push(suppressed);
        *walk.shadow.shadow.borrow_mut() = Some(Shadow {
            spans: shadow_spans(matcher, &run, leaf_hits),
            chain: child.clone(),
        });
        let reported_before = walk.shadow.reported.borrow().len();
        inspect(
            walk,
            &child,
            &mut &run.bytes[..],
            depth + 1,
            Reopen::Memory(&run.bytes),
            buffer,
        );
        // Raw deflate has no header for the pipeline to recognise: a decoded run that is
        // exactly one raw deflate stream (a SAML HTTP-Redirect request, `pako.deflateRaw`
        // payloads) is inflated and inspected one layer further.
        if depth + 2 < walk.limits().max_depth {
            if let Some((inflated, truncated)) = raw_deflate(&run.bytes, min_decoded) {
                let mut deeper = child.clone();
                deeper.push("deflate@0".to_string());
                if truncated {
                    walk.gap(
                        GapKind::LimitExceeded,
                        deeper.clone(),
                        format!(
                            "a raw deflate stream decoded from {} inflates to more than \
                             {RUN_BUDGET} bytes; only the first {RUN_BUDGET} were scanned",
                            crate::findings::display_chain(&child)
                        ),
                    );
                }
                inspect(
                    walk,
                    &deeper,
                    &mut &inflated[..],
                    depth + 2,
                    Reopen::Memory(&inflated),
                    buffer,
                );
            }
        }
        walk.shadow.shadow.borrow_mut().take();
        walk.shadow.suppressed.borrow_mut().pop();
        let mut led_to: Vec<usize> = walk.shadow.reported.borrow()[reported_before..].to_vec();
        led_to.sort_unstable();
        led_to.dedup();
        siblings.extend(
            led_to
                .into_iter()
                .map(|secret| (secret, run.offset, run_end)),
        );
        covered.push((run.offset, run_end));
    }
    covered
}

/// The bytes `run` inflates to, if the whole run (but for a few bytes of padding) is one
/// raw deflate stream that ends cleanly and yields at least `min_decoded` bytes, and no
/// format recognises the run itself; and whether the output stopped at [`RUN_BUDGET`]
/// (then the stream is deflate beyond doubt, and not read to its end). Text runs (most
/// decoded base64) are passed over at once: a raw deflate stream's first bytes are not all
/// printable.
fn raw_deflate(run: &[u8], min_decoded: usize) -> Option<(Vec<u8>, bool)> {
    use std::io::Read;
    let head = &run[..run.len().min(64)];
    let text = head
        .iter()
        .all(|&b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if run.len() < 8
        || text
        || super::format::recognise(head, super::format::Place::Inside).is_some()
    {
        return None;
    }
    let mut decoder = flate2::bufread::DeflateDecoder::new(run);
    let mut inflated = Vec::new();
    (&mut decoder)
        .take(RUN_BUDGET as u64)
        .read_to_end(&mut inflated)
        .ok()?;
    let truncated = inflated.len() >= RUN_BUDGET;
    let consumed = decoder.total_in() as usize;
    let whole = consumed + 8 >= run.len() && consumed <= run.len();
    ((whole || truncated) && inflated.len() >= min_decoded.max(1)).then_some((inflated, truncated))
}

/// A leaf at the nesting limit holds encoded runs: they are not decoded, and that is a gap.
fn too_deep_to_follow(walk: &Walk, chain: &[String], sink: &Sink, depth: u32) {
    let mut encodings: Vec<&str> = sink.runs.iter().map(|run| run.encoding).collect();
    encodings.extend(sink.over_budget.iter().map(|&(encoding, _, _)| encoding));
    if encodings.is_empty() {
        return;
    }
    let count = encodings.len();
    encodings.sort_unstable();
    encodings.dedup();
    walk.fail(
        GapKind::LimitExceeded,
        chain,
        format!(
            "{count} encoded run(s) ({}) start inside it, {depth} levels deep, at the nesting \
             limit (--archive-max-depth {}); they were not decoded",
            encodings.join(", "),
            walk.limits().max_depth
        ),
    );
}

/// The leaf's hits inside `run`, in the run's decoded coordinates.
fn shadow_spans(matcher: &Matcher, run: &DecodedRun, hits: &[Hit]) -> Vec<(usize, u64, u64)> {
    let decoded = run.bytes.len().max(1) as f64;
    let ratio = run.encoded_len.max(1) as f64 / decoded;
    let run_end = run.offset + run.encoded_len;
    let mapped = |hit: &Hit| {
        let piece = run.map.partition_point(|&(_, leaf)| leaf <= hit.offset);
        let (decoded, leaf) = run.map[piece.checked_sub(1)?];
        let from = decoded + (hit.offset - leaf);
        Some((
            matcher.pattern(hit.pattern).secret,
            from.saturating_sub(SHADOW_SLACK),
            from + hit.len + SHADOW_SLACK,
        ))
    };
    hits.iter()
        .filter(|hit| hit.offset < run_end && run.offset < hit.offset + hit.len)
        .filter_map(|hit| {
            if !run.map.is_empty() {
                return mapped(hit);
            }
            let from = hit.offset.saturating_sub(run.offset) as f64 / ratio;
            let to = (hit.offset + hit.len).saturating_sub(run.offset) as f64 / ratio;
            Some((
                matcher.pattern(hit.pattern).secret,
                (from as u64).saturating_sub(SHADOW_SLACK),
                to.ceil() as u64 + SHADOW_SLACK,
            ))
        })
        .collect()
}

/// Most layers [`text_hits`] decodes on top of each other.
const TEXT_DEPTH: usize = 3;

/// A hit in a text held in memory, and the layers it was decoded through (outermost first;
/// none: seen as it is).
#[derive(Debug, Clone)]
pub(crate) struct TextHit {
    pub hit: Hit,
    pub layers: Vec<&'static str>,
}

/// Every hit in a short text scour holds outside the content pipeline (a file or ref name,
/// a symlink target, a string of the report about to be written). In hash mode the same
/// decode layers as the pipeline's are applied (up to [`TEXT_DEPTH`] deep), since ledger
/// entries have no forward-encoded variants: a ledger hit inside a decoded run is placed
/// on the whole encoded run (its `offset` and `len` in `bytes`), and one that overlaps a
/// hit already seen of the same entry is the same occurrence. Plaintext mode needs none:
/// the automaton matches the encodings of a secret.
pub(crate) fn text_hits(matcher: &Matcher, bytes: &[u8]) -> Vec<TextHit> {
    let mut hits: Vec<TextHit> = matcher
        .scan_slice(bytes)
        .into_iter()
        .map(|hit| TextHit {
            hit,
            layers: Vec::new(),
        })
        .collect();
    let wants = Wants::of(matcher);
    if wants.single_layers && bytes.len() >= wants.min_decoded {
        let mut found = Vec::new();
        decoded_text_hits(matcher, wants, bytes, 0, &mut found);
        for (place, mut text_hit) in found {
            let (start, end) = (place.0, place.0 + place.1);
            let seen = hits.iter().any(|other| {
                other.hit.pattern == text_hit.hit.pattern
                    && other.hit.offset < end
                    && start < other.hit.offset + other.hit.len
            });
            if seen {
                continue;
            }
            let before = &bytes[..(start as usize).min(bytes.len())];
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |n| n + 1);
            text_hit.hit.offset = start;
            text_hit.hit.len = end - start;
            text_hit.hit.line = 1 + memchr::memchr_iter(b'\n', before).count() as u64;
            text_hit.hit.column = (before.len() - line_start) as u64 + 1;
            hits.push(text_hit);
        }
    }
    hits
}

/// The hits of [`text_hits`] in a string of the report, and, in hash mode, those of each of
/// its `/`-separated parts: a path's names. (`/` is a base64 character, so base64 in a
/// file name is otherwise read as the tail of one run with the directories before it, at
/// the wrong alignment.)
pub(crate) fn report_text_hits(matcher: &Matcher, bytes: &[u8]) -> Vec<Hit> {
    let mut hits: Vec<Hit> = text_hits(matcher, bytes)
        .into_iter()
        .map(|text_hit| text_hit.hit)
        .collect();
    if matcher.extractor().is_none() || memchr::memchr(b'/', bytes).is_none() {
        return hits;
    }
    let mut start = 0;
    for part in bytes.split(|&b| b == b'/') {
        for mut hit in text_hits(matcher, part).into_iter().map(|t| t.hit) {
            hit.offset += start as u64;
            let seen = hits.iter().any(|other| {
                other.pattern == hit.pattern
                    && other.offset < hit.offset + hit.len
                    && hit.offset < other.offset + other.len
            });
            if !seen {
                hits.push(hit);
            }
        }
        start += part.len() + 1;
    }
    hits
}

/// Ledger hits of the runs decoded from `bytes`, each with the (offset, length) in `bytes`
/// of the outermost run that holds it.
fn decoded_text_hits(
    matcher: &Matcher,
    wants: Wants,
    bytes: &[u8],
    depth: usize,
    found: &mut Vec<((u64, u64), TextHit)>,
) {
    let mut finders = finders(wants, false);
    let mut sink = Sink::with(wants);
    for finder in &mut finders {
        finder.feed(bytes, 0, &mut sink);
    }
    for finder in &mut finders {
        finder.finish(&mut sink);
    }
    for run in sink.runs {
        let place = (run.offset, run.encoded_len);
        for hit in matcher.scan_slice(&run.bytes) {
            if hit.ledger.is_some() {
                let layers = vec![run.encoding];
                found.push((place, TextHit { hit, layers }));
            }
        }
        if depth + 1 < TEXT_DEPTH {
            let mut inner = Vec::new();
            decoded_text_hits(matcher, wants, &run.bytes, depth + 1, &mut inner);
            found.extend(inner.into_iter().map(|(_, mut text_hit)| {
                text_hit.layers.insert(0, run.encoding);
                (place, text_hit)
            }));
        }
    }
}

#[cfg(test)]
pub(crate) mod testing;
