//! Reading a sparse file without reading its holes.
//!
//! A hole (a range the file system has no blocks for, found with `SEEK_DATA`/`SEEK_HOLE`)
//! reads as zeros, and no pattern is all zeros: every encoding of a secret of 8 bytes or more
//! holds a non-zero byte. So a match can touch a hole only within `keep` bytes (the longest
//! pattern plus its edge context) of the hole's ends. [`SparseReader`] hands on the first and
//! last `keep` zeros of each long hole, leaves out the middle without reading it, and records
//! each splice in [`Splices`] so hits are reported at their offsets in the file. A 1 TiB
//! file with 4 KiB of data costs a few system calls, not 1 TiB of reads.
//!
//! Where the file system cannot say (`SEEK_DATA` unsupported), everything is data and the
//! file is read in full, as any other.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::os::unix::io::AsRawFd;

use crate::matcher::Splices;

/// Holes shorter than this (beyond the `keep` zeros at each end) are read as zeros: a splice
/// per small hole would cost more than the zeros it saves.
pub const MIN_SKIP: u64 = 1 << 20;
/// Zeros handed on at each end of a hole beyond what the matcher needs, so the terminal view
/// (whose escape sequences run for at most 4 KiB) sees a hole's ends as in the full file.
const VIEW_SLACK: u64 = 64 << 10;

/// Whether the file has fewer blocks than its size needs, i.e. holes worth looking for.
pub fn has_holes(file: &File) -> bool {
    file.metadata()
        .map(|m| m.blocks().saturating_mul(512) < m.size())
        .unwrap_or(false)
}

/// Reads a file from `start`, leaving out the middle of every long hole.
pub struct SparseReader {
    file: File,
    /// Offset in the file of the next byte to hand on.
    position: u64,
    /// Offset in the handed-on stream of the next byte.
    handed_on: u64,
    keep: u64,
    region: Region,
    splices: Splices,
}

#[derive(Debug, Clone, Copy)]
enum Region {
    /// Not known yet at `position`.
    Unknown,
    /// Data up to this offset.
    Data { end: u64 },
    /// Zeros up to `end`; the file range `skip_from..skip_to` is left out.
    Hole {
        skip_from: u64,
        skip_to: u64,
        end: u64,
    },
}

impl SparseReader {
    /// `start` is where the caller has read up to; `keep` the bytes of context every match
    /// needs (`Matcher::span_needed`).
    pub fn new(file: File, start: u64, keep: usize, splices: Splices) -> SparseReader {
        SparseReader {
            file,
            position: start,
            handed_on: start,
            keep: keep as u64 + VIEW_SLACK,
            region: Region::Unknown,
            splices,
        }
    }

    /// What the file holds at `position`: data or a hole, and up to where.
    fn locate(&self) -> io::Result<Region> {
        let size = self.file.metadata()?.size();
        if self.position >= size {
            return Ok(Region::Data { end: size });
        }
        let data = match seek(&self.file, self.position, libc::SEEK_DATA) {
            Ok(data) => data,
            // No data after `position`: the rest of the file is a hole.
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => size,
            // The file system cannot tell: read everything as data.
            Err(_) => return Ok(Region::Data { end: size }),
        };
        if data > self.position {
            let end = data;
            let skip_from = self.position + self.keep;
            let skip_to = end.saturating_sub(self.keep);
            if skip_to > skip_from && skip_to - skip_from >= MIN_SKIP {
                return Ok(Region::Hole {
                    skip_from,
                    skip_to,
                    end,
                });
            }
            return Ok(Region::Hole {
                skip_from: end,
                skip_to: end,
                end,
            });
        }
        let end = seek(&self.file, self.position, libc::SEEK_HOLE).unwrap_or(size);
        Ok(Region::Data {
            end: end.max(self.position + 1),
        })
    }
}

impl Read for SparseReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.region {
                Region::Unknown => {
                    self.region = self.locate()?;
                    if let Region::Data { end } = self.region {
                        if end <= self.position {
                            // End of file (as big as it is now).
                            self.region = Region::Unknown;
                            return Ok(0);
                        }
                    }
                }
                Region::Data { end } if self.position < end => {
                    let want = out.len().min((end - self.position) as usize);
                    let n = self.file.read_at(&mut out[..want], self.position)?;
                    if n == 0 {
                        // The file is shorter than a moment ago: it ends here.
                        return Ok(0);
                    }
                    return Ok(self.advance(n));
                }
                Region::Hole {
                    skip_from,
                    skip_to,
                    end,
                } if self.position < end => {
                    if self.position == skip_from && skip_to > skip_from {
                        // Never read: zeros, too far from any non-zero byte to be in a match.
                        self.splices.record(self.handed_on, skip_to - skip_from);
                        self.position = skip_to;
                    }
                    let limit = if self.position < skip_from {
                        skip_from
                    } else {
                        end
                    };
                    let n = out.len().min((limit - self.position) as usize);
                    out[..n].fill(0);
                    return Ok(self.advance(n));
                }
                _ => self.region = Region::Unknown,
            }
        }
    }
}

impl SparseReader {
    fn advance(&mut self, n: usize) -> usize {
        self.position += n as u64;
        self.handed_on += n as u64;
        n
    }
}

fn seek(file: &File, offset: u64, whence: libc::c_int) -> io::Result<u64> {
    let offset = libc::off_t::try_from(offset).map_err(|_| io::Error::other("offset too large"))?;
    // SAFETY: lseek on a file descriptor this `File` owns; it only moves the file offset,
    // which this reader does not otherwise use (it reads with `pread`).
    let found = unsafe { libc::lseek(file.as_raw_fd(), offset, whence) };
    if found < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(found as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::{Hit, Matcher, ScanBuffer};
    use crate::secret::Secret;

    const SECRET: &[u8] = b"sparse-secret-7Qx2";

    fn matcher() -> Matcher {
        Matcher::new(&[Secret::new(SECRET.to_vec(), "t").unwrap()]).unwrap()
    }

    /// Scans `file` through the sparse reader as `content::scan_file` does.
    fn scan_sparse(matcher: &Matcher, file: File) -> (Vec<Hit>, u64, usize) {
        let splices = Splices::default();
        let reader = SparseReader::new(file, 0, matcher.span_needed(), splices.clone());
        let mut buffer = ScanBuffer::new();
        buffer.follow_splices(splices.clone());
        let mut handed_on = 0usize;
        let outcome = matcher.scan_reader(reader, &mut buffer, &mut |b| handed_on += b.len());
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        let mut hits = outcome.hits;
        buffer.restore_offsets(&mut hits);
        hits.sort_by_key(|h| (h.offset, h.pattern));
        (hits, outcome.bytes, handed_on)
    }

    fn places(hits: &[Hit]) -> Vec<(u64, u64, u64, usize)> {
        hits.iter()
            .map(|h| (h.offset, h.line, h.column, h.pattern))
            .collect()
    }

    /// A file of holes and data, with the secret (raw and as UTF-16, whose zero bytes run
    /// into the holes) next to hole edges and on lines that a hole splits.
    fn holey_file(
        dir: &std::path::Path,
        size: u64,
        writes: &[(u64, Vec<u8>)],
    ) -> std::path::PathBuf {
        let path = dir.join("holey.img");
        let file = File::create(&path).unwrap();
        file.set_len(size).unwrap();
        for (at, bytes) in writes {
            file.write_all_at(bytes, *at).unwrap();
        }
        path
    }

    #[test]
    fn holes_are_left_out_and_hits_keep_their_file_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let utf16: Vec<u8> = SECRET.iter().flat_map(|&b| [b, 0]).collect();
        let mb = 1u64 << 20;
        let writes = vec![
            (
                0,
                b"first line\nkey=".iter().chain(SECRET).copied().collect(),
            ),
            // Ends right where a hole starts: its last zero byte is the hole's first.
            (
                20 * mb - utf16.len() as u64 + 1,
                utf16[..utf16.len() - 1].to_vec(),
            ),
            // Starts right after a hole, on the line the hole is part of.
            (40 * mb, SECRET.to_vec()),
            (
                40 * mb + 100,
                b"\nnext ".iter().chain(SECRET).copied().collect(),
            ),
            (64 * mb - 4096, SECRET.to_vec()),
        ];
        let size = 64 * mb;
        let path = holey_file(dir.path(), size, &writes);
        let matcher = matcher();
        let dense = std::fs::read(&path).unwrap();
        let mut expected = matcher.scan_slice(&dense);
        expected.sort_by_key(|h| (h.offset, h.pattern));
        assert!(
            expected.len() >= 5,
            "the fixture holds five matches: {expected:?}"
        );

        let file = File::open(&path).unwrap();
        if !has_holes(&file) {
            eprintln!("skipped: this file system does not make sparse files");
            return;
        }
        let (hits, bytes, handed_on) = scan_sparse(&matcher, file);
        assert_eq!(places(&hits), places(&expected));
        assert_eq!(bytes, size, "holes count as scanned");
        assert!(
            (handed_on as u64) < size / 4,
            "the holes' middles were handed on: {handed_on} bytes"
        );
    }

    #[test]
    fn a_terabyte_of_holes_costs_no_reads() {
        let dir = tempfile::tempdir().unwrap();
        let size = 1u64 << 40;
        let at = size - 4096;
        let Ok(file) = File::create(dir.path().join("tb.img")) else {
            return;
        };
        if file.set_len(size).is_err() {
            eprintln!("skipped: this file system cannot hold a 1 TiB sparse file");
            return;
        }
        file.write_all_at(SECRET, at).unwrap();
        let matcher = matcher();
        let started = std::time::Instant::now();
        let (hits, bytes, handed_on) =
            scan_sparse(&matcher, File::open(dir.path().join("tb.img")).unwrap());
        assert_eq!(places(&hits), [(at, 1, at + 1, 0)]);
        assert_eq!(bytes, size);
        assert!(handed_on < 1 << 20, "{handed_on} bytes handed on");
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }
}
