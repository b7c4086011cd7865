//! Thrift's compact protocol, as much as reading Parquet's metadata needs: walk a struct's
//! fields, read integers and list headers, skip anything else.
//!
//! Every read is bounds-checked and returns `None` on malformed bytes; skipping nested
//! values is bounded by [`MAX_NESTING`] (input-controlled nesting must not overflow the
//! stack), and every element consumes at least one byte, so a hostile count cannot loop
//! past the end of the input.

/// Compact-protocol type ids.
pub(super) const BOOL_TRUE: u8 = 1;
pub(super) const BOOL_FALSE: u8 = 2;
const I8: u8 = 3;
const I16: u8 = 4;
pub(super) const I32: u8 = 5;
pub(super) const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
pub(super) const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
pub(super) const STRUCT: u8 = 12;

/// Deepest nesting of values skipped (Parquet's metadata nests a few levels).
const MAX_NESTING: u32 = 64;

pub(super) struct Compact<'b> {
    bytes: &'b [u8],
    at: usize,
    nesting: u32,
}

impl<'b> Compact<'b> {
    pub(super) fn new(bytes: &'b [u8]) -> Self {
        Compact {
            bytes,
            at: 0,
            nesting: 0,
        }
    }

    /// Bytes read so far.
    pub(super) fn position(&self) -> usize {
        self.at
    }

    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let taken = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(taken)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// An i16, i32 or i64 (zigzag varint).
    pub(super) fn int(&mut self) -> Option<i64> {
        let raw = self.varint()?;
        Some((raw >> 1) as i64 ^ -((raw & 1) as i64))
    }

    /// Calls `field` with each field's id and type until the struct ends; `field` must read
    /// or [`Compact::skip`] the value.
    pub(super) fn each_field(
        &mut self,
        mut field: impl FnMut(&mut Self, i16, u8) -> Option<()>,
    ) -> Option<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return None;
        }
        let mut last: i16 = 0;
        loop {
            let header = self.byte()?;
            if header == 0 {
                break;
            }
            let kind = header & 0x0F;
            let delta = i16::from(header >> 4);
            last = if delta == 0 {
                i16::try_from(self.int()?).ok()?
            } else {
                last.checked_add(delta)?
            };
            field(self, last, kind)?;
        }
        self.nesting -= 1;
        Some(())
    }

    /// A list's (or set's) element count and element type.
    fn list_header(&mut self) -> Option<(usize, u8)> {
        let header = self.byte()?;
        let short = usize::from(header >> 4);
        let count = if short == 15 {
            usize::try_from(self.varint()?).ok()?
        } else {
            short
        };
        Some((count, header & 0x0F))
    }

    /// Calls `element` with the index of each struct of a list (elements of other types are
    /// skipped).
    pub(super) fn each_struct(
        &mut self,
        mut element: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        let (count, kind) = self.list_header()?;
        (0..count).try_for_each(|index| {
            if kind == STRUCT {
                element(self, index)
            } else {
                self.skip_element(kind)
            }
        })
    }

    /// Skips a field's value (a boolean field's value is in its type: no bytes).
    pub(super) fn skip(&mut self, kind: u8) -> Option<()> {
        match kind {
            BOOL_TRUE | BOOL_FALSE => Some(()),
            _ => self.skip_element(kind),
        }
    }

    /// Skips one element of a list, set or map (a boolean there is one byte).
    fn skip_element(&mut self, kind: u8) -> Option<()> {
        match kind {
            BOOL_TRUE | BOOL_FALSE | I8 => self.take(1).map(drop),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => self.take(8).map(drop),
            BINARY => {
                let len = usize::try_from(self.varint()?).ok()?;
                self.take(len).map(drop)
            }
            LIST | SET => {
                let (count, element) = self.list_header()?;
                self.nested(|thrift| (0..count).try_for_each(|_| thrift.skip_element(element)))
            }
            MAP => {
                let count = usize::try_from(self.varint()?).ok()?;
                if count == 0 {
                    return Some(());
                }
                let types = self.byte()?;
                let (key, value) = (types >> 4, types & 0x0F);
                self.nested(|thrift| {
                    (0..count).try_for_each(|_| {
                        thrift.skip_element(key)?;
                        thrift.skip_element(value)
                    })
                })
            }
            STRUCT => self.each_field(|thrift, _, kind| thrift.skip(kind)),
            _ => None,
        }
    }

    fn nested(&mut self, inner: impl FnOnce(&mut Self) -> Option<()>) -> Option<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return None;
        }
        inner(self)?;
        self.nesting -= 1;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_walked_and_unknown_values_skipped() {
        // { 1: i32 -3, 2: binary "ab", 3: list<i64>[2], 5 (long form id): true, 6: map
        // {binary: struct}[1] }
        let bytes = [
            0x15, 0x05, 0x18, 0x02, b'a', b'b', 0x19, 0x26, 0x02, 0x04, 0x01, 0x0a, 0x1b, 0x01,
            0x8c, 0x01, b'k', 0x15, 0x02, 0x00, 0x00,
        ];
        let mut thrift = Compact::new(&bytes);
        let mut seen = Vec::new();
        thrift
            .each_field(|thrift, id, kind| {
                seen.push(id);
                if id == 1 {
                    assert_eq!(thrift.int(), Some(-3));
                    return Some(());
                }
                thrift.skip(kind)
            })
            .expect("a valid struct");
        assert_eq!(seen, vec![1, 2, 3, 5, 6]);
        assert_eq!(thrift.position(), bytes.len());
    }

    #[test]
    fn truncated_and_deeply_nested_input_is_refused() {
        assert!(Compact::new(&[0x18, 0x10, b'a'])
            .each_field(|thrift, _, kind| thrift.skip(kind))
            .is_none());
        let deep = vec![0x1c; 10_000];
        assert!(Compact::new(&deep)
            .each_field(|thrift, _, kind| thrift.skip(kind))
            .is_none());
        let many = [0x19, 0xfc, 0xff, 0xff, 0xff, 0x0f];
        assert!(Compact::new(&many)
            .each_field(|thrift, _, kind| thrift.skip(kind))
            .is_none());
    }
}
