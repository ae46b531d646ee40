//! Turning file bytes into version text: size cap, binary detection, UTF-8.

/// Why a file's bytes are not a version's text.
pub(crate) fn reject_reason(bytes: &[u8], max_bytes: u64) -> Option<String> {
    if bytes.len() as u64 > max_bytes {
        return Some(format!(
            "larger than the {} byte limit ({} bytes)",
            max_bytes,
            bytes.len()
        ));
    }
    let head = &bytes[..bytes.len().min(8000)];
    if head.contains(&0) {
        return Some("binary content (NUL byte in the first 8,000 bytes)".into());
    }
    None
}

/// The text of a file; invalid UTF-8 sequences become U+FFFD and the caller is told.
pub(crate) fn decode(bytes: Vec<u8>) -> (String, bool) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_binary_and_oversized_files() {
        assert!(reject_reason(b"ab\0c", 100).is_some());
        assert!(reject_reason(b"abcdef", 3).is_some());
        assert!(reject_reason(b"plain text", 100).is_none());
    }

    #[test]
    fn invalid_utf8_is_replaced_not_dropped() {
        let (text, lossy) = decode(b"caf\xe9 ok".to_vec());
        assert!(lossy);
        assert_eq!(text, "caf\u{fffd} ok");
    }
}
