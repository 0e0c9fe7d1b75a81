//! Bounds on XML from outside, checked on the text before a parser sees it.
//!
//! roxmltree (the reader of SAML documents and of the IAM API's answers) parses nested elements by
//! recursion, so a document of a few thousand nested elements would overflow the stack and abort
//! the process: every reader of XML it did not write runs [`nested_within`] first.

/// The deepest element nesting the readers allow: SAML metadata and responses, and the IAM API's
/// answers, are about ten deep.
pub const MAX_XML_DEPTH: usize = 64;

/// Whether the elements of `text` nest at most `max` deep, by a scan of the text alone. roxmltree
/// parses nested elements by recursion, so a document of a few thousand nested elements from a
/// caller would overflow the stack and abort the process: this runs first. It follows XML's lexical
/// rules only as far as depth needs (comments, CDATA, processing instructions and declarations
/// skipped, quoted attribute values honoured); anything it misreads the parser then refuses.
pub fn nested_within(text: &str, max: usize) -> bool {
    let b = text.as_bytes();
    let find = |from: usize, pat: &[u8]| -> usize {
        b.get(from..)
            .and_then(|rest| rest.windows(pat.len()).position(|w| w == pat))
            .map_or(b.len(), |p| from + p + pat.len())
    };
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = find(i + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            i = find(i + 9, b"]]>");
        } else if rest.starts_with(b"<?") {
            i = find(i + 2, b"?>");
        } else if rest.starts_with(b"<!") {
            i = find(i + 2, b">");
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            i = find(i + 2, b">");
        } else {
            let mut j = i + 1;
            let mut quote = None;
            while j < b.len() {
                let c = b[j];
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == b'"' || c == b'\'' => quote = Some(c),
                    None if c == b'>' => break,
                    None => {}
                }
                j += 1;
            }
            if b.get(j.wrapping_sub(1)) != Some(&b'/') {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            i = j + 1;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_without_parsing() {
        assert!(nested_within(
            "<a><b/><c x='>' y=\"<d>\"><!-- <e><e> --><![CDATA[<f>]]><?p <g>?></c></a>",
            2
        ));
        assert!(!nested_within("<a><b><c></c></b></a>", 2));
        assert!(nested_within("<a><b><c></c></b></a>", 3));
        let deep = format!("{}{}", "<x>".repeat(100_000), "</x>".repeat(100_000));
        assert!(!nested_within(&deep, MAX_XML_DEPTH));
    }
}
