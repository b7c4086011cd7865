//! A stream stored as blocks that are decoded one at a time (ORC chunks, Parquet pages),
//! read as one stream: a block is decoded only once the one before it has been read.

use std::io::{self, Read};

/// Where the blocks come from.
pub(super) trait NextBlock {
    /// The next block, decoded; `None` after the last.
    fn next_block(&mut self) -> io::Result<Option<Vec<u8>>>;
}

/// The decoded blocks of `S`, one after the other.
pub(super) struct Blocks<S> {
    source: S,
    current: io::Cursor<Vec<u8>>,
}

impl<S: NextBlock> Blocks<S> {
    pub(super) fn new(source: S) -> Self {
        Blocks {
            source,
            current: io::Cursor::new(Vec::new()),
        }
    }
}

impl<S: NextBlock> Read for Blocks<S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.current.read(out)?;
            if n > 0 || out.is_empty() {
                return Ok(n);
            }
            match self.source.next_block()? {
                Some(block) => self.current = io::Cursor::new(block),
                None => return Ok(0),
            }
        }
    }
}
