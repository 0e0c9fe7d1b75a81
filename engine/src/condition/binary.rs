//! `BinaryEquals`: base64-encoded bytes, compared byte for byte.

use base64::Engine;

pub(crate) fn parse(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}
