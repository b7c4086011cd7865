//! Mozilla's `mozlz4` files (Firefox and Thunderbird profiles: `sessionstore.jsonlz4` and its
//! backups, `search.json.mozlz4`, `addonStartup.json.lz4`): the magic `mozLz40\0`, the
//! decoded size as 4 little-endian bytes, then one raw lz4 block. The session store holds
//! every open tab's form data and URLs, so tokens pasted into a page end up there.
//!
//! A raw lz4 block cannot be decoded as a stream, so the block is read whole and decoded
//! at once, within [`MAX_DECODED`]; a file that declares more is a gap.

use std::io::{self, Cursor, Read};

use super::compressed::Codec;

/// The file's first bytes.
pub(crate) const MAGIC: &[u8] = b"mozLz40\0";
/// Most decoded bytes held in memory (session stores are a few MiB). The decoder allocates
/// the declared size at once, so this bounds what one hostile header can make scour hold.
const MAX_DECODED: u32 = 64 << 20;

/// A codec like the compressed streams' (the driver's `impl Format for Codec` opens it),
/// whose decoder reads the one block whole.
pub(crate) static MOZLZ4: Codec = Codec {
    name: "mozlz4",
    recognise: |head| head.starts_with(MAGIC),
    decoder: |input| Ok(Box::new(Block::Pending(input))),
    single: |input| Ok(Box::new(Block::Pending(input))),
    single_exact: None,
    header_text: None,
};

/// The decoded block, decoded on the first read so that a damaged file is an error of the
/// stream (a `corrupt` gap), like any decoder's.
enum Block<'r> {
    Pending(Box<dyn Read + 'r>),
    Decoded(Cursor<Vec<u8>>),
}

fn decode(input: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = [0u8; 12];
    input.read_exact(&mut head)?;
    if !head.starts_with(MAGIC) {
        return Err(io::Error::other("not a mozlz4 file"));
    }
    let size = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
    if size > MAX_DECODED {
        return Err(io::Error::other(format!(
            "it declares {size} decoded bytes, over the {MAX_DECODED} a mozlz4 block may hold \
             in memory (limit exceeded)"
        )));
    }
    // An lz4 block is at most its decoded size plus 1/255 of it plus a few bytes: nothing
    // past that bound belongs to it.
    let mut block = Vec::new();
    input
        .take(u64::from(size) / 255 * 256 + 64)
        .read_to_end(&mut block)?;
    // lz4 expands at most 255 times: a header declaring more than its block can hold is
    // refused before anything is allocated for it.
    if u64::from(size) > block.len() as u64 * 255 + 16 {
        return Err(io::Error::other(format!(
            "it declares {size} decoded bytes, more than its {}-byte lz4 block can hold",
            block.len()
        )));
    }
    lz4_flex::block::decompress(&block, size as usize)
        .map_err(|error| io::Error::other(format!("its lz4 block is damaged: {error}")))
}

impl Read for Block<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Block::Pending(input) = self {
            let decoded = decode(input.as_mut())?;
            *self = Block::Decoded(Cursor::new(decoded));
        }
        match self {
            Block::Decoded(cursor) => cursor.read(out),
            Block::Pending(_) => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode::testing::scan_memory;
    use super::MAGIC;

    const SECRET: &[u8] = b"ghp_Q8mZt3Lw9Kd2Rs7Vx4Pn6Bc1Hj5Ty0Ue";

    fn mozlz4(text: &[u8]) -> Vec<u8> {
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&(text.len() as u32).to_le_bytes());
        file.extend_from_slice(&lz4_flex::block::compress(text));
        file
    }

    /// The secret's two halves appear apart before it, so lz4 writes it as two matches,
    /// not as a literal the raw scan would see.
    fn session_store() -> Vec<u8> {
        let (first, second) = SECRET.split_at(SECRET.len() / 2);
        let mut text = br#"{"windows":[{"tabs":[{"entries":[{"url":"https://ci.example/settings"}],"formdata":{"id":{"a":""#.repeat(20);
        for half in [first, second] {
            text.extend_from_slice(half);
            text.extend_from_slice(br#"","token":""#);
        }
        text.extend_from_slice(SECRET);
        text.extend_from_slice(br#""}}}]}]}"#);
        text
    }

    #[test]
    fn a_session_store_is_decoded() {
        let file = mozlz4(&session_store());
        assert!(memchr::memmem::find(&file, SECRET).is_none());
        let scanned = scan_memory(SECRET, "sessionstore.jsonlz4", &file);
        assert_eq!(scanned.places().len(), 1, "{:?}", scanned.places());
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
    }

    #[test]
    fn a_size_its_block_cannot_hold_is_a_gap_before_any_allocation() {
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&(60u32 << 20).to_le_bytes());
        file.extend_from_slice(&lz4_flex::block::compress(b"a short session store"));
        let scanned = scan_memory(SECRET, "sessionstore.jsonlz4", &file);
        assert!(scanned.findings.is_empty());
        assert_eq!(scanned.gaps.len(), 1, "{:?}", scanned.gaps);
        assert!(
            scanned.gaps[0].reason.contains("more than its"),
            "{:?}",
            scanned.gaps
        );
    }

    #[test]
    fn a_damaged_block_is_a_gap() {
        let mut file = mozlz4(&session_store());
        let keep = file.len() / 2;
        file.truncate(keep);
        let scanned = scan_memory(SECRET, "sessionstore.jsonlz4", &file);
        assert!(scanned.findings.is_empty());
        assert_eq!(scanned.gaps.len(), 1, "{:?}", scanned.gaps);
    }
}
