//! Unsigned LEB128 varints (protobuf, ORC, LevelDB): seven bits a byte, least significant
//! first, the high bit set on every byte but the last.

/// Reads one varint off the front of `bytes`; `None` if it runs off the end or past 64 bits.
pub(super) fn leb128(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}
