//! The log's record framing: a 12-byte header — the payload's length (u32, little-endian),
//! the CRC-32 of those four bytes, the CRC-32 of the payload — then the payload, one JSON
//! [`Change`](crate::store::change::Change).
//!
//! The header's own checksum tells a length that was damaged from one that was cut short, so
//! a flipped bit in the middle of the log is never taken for the end of it. A torn tail — what a
//! crash can leave of the last write — is the one damage that is expected: fewer bytes than a
//! header, a length past the end of the file, a payload whose checksum fails and that ends
//! exactly at the end of the file, or nothing but zeros. Anything else is corruption.

/// Bytes before each payload.
pub const HEADER: usize = 12;

/// Appends the frame of `payload` to `out`; `None` for a payload of 4 GiB or more.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let length = u32::try_from(payload.len()).ok()?.to_le_bytes();
    out.extend_from_slice(&length);
    out.extend_from_slice(&crc32fast::hash(&length).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    Some(())
}

/// A log read to its end.
#[derive(Debug)]
pub struct Scanned<'a> {
    /// Each whole record: its offset and its payload.
    pub records: Vec<(u64, &'a [u8])>,
    /// Where the whole records end: the log is cut here before anything is appended.
    pub valid: u64,
    /// Whether bytes past `valid` were a torn tail.
    pub torn: bool,
}

/// Corruption: the byte offset of the record that is bad, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Corrupt {
    pub offset: u64,
    pub why: &'static str,
}

fn word(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

/// Splits `log` into its records, accepting a torn tail only.
pub fn scan(log: &[u8]) -> Result<Scanned<'_>, Corrupt> {
    let mut records = Vec::new();
    let mut at = 0usize;
    let torn = loop {
        let rest = &log[at..];
        if rest.is_empty() {
            break false;
        }
        let offset = at as u64;
        if rest.len() < HEADER {
            break true;
        }
        let length = word(rest, 0);
        if crc32fast::hash(&rest[..4]) != word(rest, 4) {
            if rest.iter().all(|&b| b == 0) {
                break true;
            }
            return Err(Corrupt {
                offset,
                why: "the record's header fails its checksum",
            });
        }
        let end = HEADER + length as usize;
        if end > rest.len() {
            break true;
        }
        let payload = &rest[HEADER..end];
        if crc32fast::hash(payload) != word(rest, 8) {
            if end == rest.len() {
                break true;
            }
            return Err(Corrupt {
                offset,
                why: "the record fails its checksum and more records follow it",
            });
        }
        if payload.is_empty() {
            return Err(Corrupt {
                offset,
                why: "the record is empty",
            });
        }
        records.push((offset, payload));
        at += end;
    };
    Ok(Scanned {
        records,
        valid: at as u64,
        torn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            encode(p, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn every_cut_of_the_last_record_keeps_the_ones_before() {
        let whole = log(&[b"{\"a\":1}", b"{\"b\":2}"]);
        let first = HEADER + 7;
        for cut in first..whole.len() {
            let scanned = scan(&whole[..cut]).unwrap();
            assert_eq!(scanned.records.len(), 1, "cut at {cut}");
            assert_eq!(scanned.valid, first as u64);
            assert_eq!(scanned.torn, cut > first);
        }
        assert_eq!(scan(&whole).unwrap().records.len(), 2);
    }

    #[test]
    fn damage_before_the_end_is_corruption_with_its_offset() {
        let whole = log(&[b"{\"a\":1}", b"{\"b\":2}", b"{\"c\":3}"]);
        let second = HEADER + 7;
        let mut payload = whole.clone();
        payload[second + HEADER + 2] ^= 1;
        assert_eq!(scan(&payload).unwrap_err().offset, second as u64);
        let mut header = whole.clone();
        header[second] ^= 0x40;
        assert_eq!(scan(&header).unwrap_err().offset, second as u64);
        // The same damage to the last record is a torn tail.
        let mut last = whole.clone();
        let end = last.len();
        last[end - 1] ^= 1;
        assert_eq!(scan(&last).unwrap().records.len(), 2);
        // Zeros after the records (a crash after the file grew) are a torn tail too.
        let mut zeros = whole;
        zeros.extend_from_slice(&[0; 40]);
        assert_eq!(scan(&zeros).unwrap().records.len(), 3);
    }
}
