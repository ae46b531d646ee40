//! Turning file bytes into version text: size cap, binary detection, byte-order marks, UTF-8.

/// Binary detection looks at this many bytes (as git and ripgrep do).
const SNIFF_BYTES: usize = 8000;

/// Why a file of `len` bytes is too large to be read.
pub(crate) fn size_reason(len: u64, max_bytes: u64) -> Option<String> {
    (len > max_bytes).then(|| format!("larger than the {max_bytes} byte limit ({len} bytes)"))
}

/// Why a file's bytes are not a version's text.
pub(crate) fn reject_reason(bytes: &[u8], max_bytes: u64) -> Option<String> {
    if let Some(reason) = size_reason(bytes.len() as u64, max_bytes) {
        return Some(reason);
    }
    // A UTF-16 byte-order mark says what the bytes are: every ASCII character of UTF-16 text
    // holds a NUL byte, so only a NUL character after decoding marks it binary.
    if let Some((encoding, bom)) = utf16_bom(bytes) {
        let head = &bytes[bom..bytes.len().min(bom + SNIFF_BYTES)];
        let (text, _) = encoding.decode_without_bom_handling(head);
        if text.contains('\0') {
            return Some(format!(
                "binary content (NUL character in the first 8,000 bytes of {} text)",
                encoding.name()
            ));
        }
        return None;
    }
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    if head.contains(&0) {
        return Some("binary content (NUL byte in the first 8,000 bytes)".into());
    }
    None
}

/// The UTF-16 encoding a byte-order mark announces, with the mark's length.
fn utf16_bom(bytes: &[u8]) -> Option<(&'static encoding_rs::Encoding, usize)> {
    encoding_rs::Encoding::for_bom(bytes).filter(|(encoding, _)| *encoding != encoding_rs::UTF_8)
}

/// The text of a file, without its byte-order mark: UTF-16 when a BOM says so, else UTF-8.
/// Invalid sequences become U+FFFD and the returned warning says so.
pub(crate) fn decode(bytes: Vec<u8>) -> (String, Option<String>) {
    if let Some((encoding, bom)) = utf16_bom(&bytes) {
        let (text, errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        let warning = errors.then(|| format!("invalid {} replaced with U+FFFD", encoding.name()));
        return (text.into_owned(), warning);
    }
    // A UTF-8 BOM is not text: left in, it would hide the first line's heading marker.
    let bytes = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => (
            String::from_utf8_lossy(e.as_bytes()).into_owned(),
            Some("invalid UTF-8 replaced with U+FFFD".into()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        let mut bytes = vec![0xff, 0xfe];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    }

    #[test]
    fn rejects_binary_and_oversized_files() {
        assert!(reject_reason(b"ab\0c", 100).is_some());
        assert!(reject_reason(b"abcdef", 3).is_some());
        assert!(reject_reason(b"plain text", 100).is_none());
        assert!(reject_reason(b"", 100).is_none());
    }

    #[test]
    fn invalid_utf8_is_replaced_not_dropped() {
        let (text, warning) = decode(b"caf\xe9 ok".to_vec());
        assert_eq!(
            warning.as_deref(),
            Some("invalid UTF-8 replaced with U+FFFD")
        );
        assert_eq!(text, "caf\u{fffd} ok");
    }

    #[test]
    fn utf16_with_a_bom_is_text_not_binary() {
        let text = "# Terms\r\n\r\nDonnées personnelles.\r\n";
        let le = utf16le(text);
        assert!(le.contains(&0));
        assert_eq!(reject_reason(&le, 1000), None);
        assert_eq!(decode(le), (text.to_owned(), None));
        let mut be = vec![0xfe, 0xff];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(reject_reason(&be, 1000), None);
        assert_eq!(decode(be), (text.to_owned(), None));
    }

    #[test]
    fn utf16_holding_nul_characters_is_binary() {
        let bytes = utf16le("abc\0def");
        assert!(reject_reason(&bytes, 1000).unwrap().contains("UTF-16LE"));
    }

    #[test]
    fn unpaired_surrogates_are_replaced_and_reported() {
        let mut bytes = utf16le("ok ");
        bytes.extend_from_slice(&0xd800u16.to_le_bytes());
        bytes.extend_from_slice(&u16::from(b'!').to_le_bytes());
        let (text, warning) = decode(bytes);
        assert_eq!(text, "ok \u{fffd}!");
        assert_eq!(
            warning.as_deref(),
            Some("invalid UTF-16LE replaced with U+FFFD")
        );
    }

    #[test]
    fn a_utf8_bom_is_dropped() {
        assert_eq!(
            decode(b"\xef\xbb\xbf# Terms\n".to_vec()),
            ("# Terms\n".to_owned(), None)
        );
    }
}
