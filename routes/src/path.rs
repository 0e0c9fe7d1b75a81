//! Request paths as routes read them: normalized once, the way RFC 3986 (§6.2.2: percent-decoding,
//! §5.2.4: removing dot segments) and Envoy's `normalize_path` + `merge_slashes` normalize them, so
//! that the path a route matches is the path the upstream serves.
//!
//! A path that cannot be normalized unambiguously is refused rather than guessed at: a malformed
//! `%` escape, an encoded or raw backslash (a separator on some servers, not on others), a NUL or
//! other control character, bytes that are not UTF-8, a `..` that climbs above the root, and — unless
//! the route says otherwise — an encoded slash (`%2F`) inside a segment, which one upstream decodes
//! into a separator and another keeps.

use std::borrow::Cow;

/// Why a path was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path does not start with `/`.
    #[error("the path does not start with `/`")]
    NotAbsolute,
    /// A `%` not followed by two hexadecimal digits.
    #[error("segment {segment}: `%` is not followed by two hexadecimal digits")]
    BadEscape {
        /// The segment's position, from 1.
        segment: usize,
    },
    /// A segment that decodes to bytes that are not UTF-8.
    #[error("segment {segment}: the decoded bytes are not UTF-8")]
    NotUtf8 {
        /// The segment's position, from 1.
        segment: usize,
    },
    /// A backslash, raw or encoded.
    #[error("segment {segment}: a backslash is a separator for some servers and not for others")]
    Backslash {
        /// The segment's position, from 1.
        segment: usize,
    },
    /// A NUL or another control character, raw or encoded.
    #[error("segment {segment}: a control character")]
    ControlCharacter {
        /// The segment's position, from 1.
        segment: usize,
    },
    /// `%2F` inside a segment, where the route does not accept it.
    #[error("segment {segment}: an encoded slash (`%2F`) is a separator for some servers and not for others")]
    EncodedSlash {
        /// The segment's position, from 1.
        segment: usize,
    },
    /// More `..` segments than there are segments before them.
    #[error("`..` climbs above the root")]
    AboveRoot,
}

/// A normalized path: its segments, each percent-decoded, with `.` and `..` resolved and empty
/// segments merged (a final empty segment keeps a trailing slash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizedPath<'a> {
    /// Borrowed from the raw path where decoding changed nothing (most segments, on every check).
    segments: Vec<Cow<'a, str>>,
    /// Whether a segment held an encoded slash (kept in the segment).
    encoded_slash: Option<usize>,
}

impl<'a> NormalizedPath<'a> {
    /// Normalizes a raw path (without its query).
    pub fn parse(raw: &'a str) -> Result<NormalizedPath<'a>, PathError> {
        let rest = raw.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
        let mut segments: Vec<Cow<'a, str>> = Vec::with_capacity(8);
        let mut encoded_slash = None;
        let mut trailing_slash = false;
        let mut raw_segments = rest.split('/').enumerate().peekable();
        while let Some((i, seg)) = raw_segments.next() {
            let position = i + 1;
            let last = raw_segments.peek().is_none();
            let decoded = decode_segment(seg, position)?;
            if decoded.contains('/') {
                encoded_slash.get_or_insert(position);
            }
            match decoded.as_ref() {
                "." => trailing_slash = last,
                ".." => {
                    segments.pop().ok_or(PathError::AboveRoot)?;
                    trailing_slash = last;
                }
                // Empty segments merge (`//` is `/`); a final one keeps the trailing slash.
                "" => trailing_slash = last && !segments.is_empty(),
                _ => {
                    segments.push(decoded);
                    trailing_slash = false;
                }
            }
        }
        if trailing_slash {
            segments.push(Cow::Borrowed(""));
        }
        Ok(NormalizedPath {
            segments,
            encoded_slash,
        })
    }

    /// The decoded segments.
    pub fn segments(&self) -> &[Cow<'a, str>] {
        &self.segments
    }

    /// The position of the first segment that held an encoded slash, if any.
    pub fn encoded_slash(&self) -> Option<usize> {
        self.encoded_slash
    }
}

impl std::fmt::Display for NormalizedPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/{}", self.segments.join("/"))
    }
}

/// Percent-decodes one segment strictly; borrowed when it holds no escape.
fn decode_segment(seg: &str, segment: usize) -> Result<Cow<'_, str>, PathError> {
    let bytes = seg.as_bytes();
    if !bytes.contains(&b'%') {
        // Nothing to decode: the same refusals, without copying.
        for &b in bytes {
            allowed(b, segment)?;
        }
        return Ok(Cow::Borrowed(seg));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let byte = if b == b'%' {
            let hex = |j: usize| {
                bytes
                    .get(j)
                    .and_then(|c| char::from(*c).to_digit(16))
                    .ok_or(PathError::BadEscape { segment })
            };
            let v = hex(i + 1)? * 16 + hex(i + 2)?;
            i += 3;
            u8::try_from(v).map_err(|_| PathError::BadEscape { segment })?
        } else {
            i += 1;
            b
        };
        out.push(allowed(byte, segment)?);
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| PathError::NotUtf8 { segment })
}

/// A segment's byte (raw or decoded), or why it is refused: a backslash, or a control character.
fn allowed(byte: u8, segment: usize) -> Result<u8, PathError> {
    match byte {
        b'\\' => Err(PathError::Backslash { segment }),
        0..=0x1f | 0x7f => Err(PathError::ControlCharacter { segment }),
        _ => Ok(byte),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str) -> Result<String, PathError> {
        NormalizedPath::parse(raw).map(|p| p.to_string())
    }

    #[test]
    fn dot_segments_and_slashes_normalize_as_envoy_does() {
        for (raw, want) in [
            ("/", "/"),
            ("/home/alice/notes.txt", "/home/alice/notes.txt"),
            ("/home/alice/../bob/notes.txt", "/home/bob/notes.txt"),
            ("/home/alice/./notes.txt", "/home/alice/notes.txt"),
            ("/home/alice/%2E%2E/bob/notes.txt", "/home/bob/notes.txt"),
            ("/home/alice/%2e/notes.txt", "/home/alice/notes.txt"),
            ("/home//alice///notes.txt", "/home/alice/notes.txt"),
            ("/home/alice/", "/home/alice/"),
            ("/home/alice/.", "/home/alice/"),
            ("/home/alice/bob/..", "/home/alice/"),
            ("/a%20b/%7Euser", "/a b/~user"),
            ("/caf%C3%A9", "/café"),
        ] {
            assert_eq!(norm(raw).as_deref(), Ok(want), "{raw}");
        }
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for (raw, err) in [
            ("home", PathError::NotAbsolute),
            ("/a/%zz", PathError::BadEscape { segment: 2 }),
            ("/a/%2", PathError::BadEscape { segment: 2 }),
            ("/a/%", PathError::BadEscape { segment: 2 }),
            ("/a/%FF", PathError::NotUtf8 { segment: 2 }),
            ("/a\\..\\b", PathError::Backslash { segment: 1 }),
            ("/a/%5C../b", PathError::Backslash { segment: 2 }),
            ("/a/%00", PathError::ControlCharacter { segment: 2 }),
            ("/a/b%0Ac", PathError::ControlCharacter { segment: 2 }),
            ("/..", PathError::AboveRoot),
            ("/a/../../etc/passwd", PathError::AboveRoot),
            ("/%2E%2E/x", PathError::AboveRoot),
        ] {
            assert_eq!(norm(raw), Err(err), "{raw}");
        }
    }

    #[test]
    fn encoded_slashes_stay_in_their_segment_and_are_reported() {
        let p = NormalizedPath::parse("/home/alice/..%2Fbob%2Fnotes.txt").unwrap();
        assert_eq!(p.segments(), ["home", "alice", "../bob/notes.txt"]);
        assert_eq!(p.encoded_slash(), Some(3));
        // `..%2F` is not a dot segment: only a whole `..` is.
        assert!(NormalizedPath::parse("/a/b")
            .unwrap()
            .encoded_slash()
            .is_none());
    }

    proptest::proptest! {
        /// A segment with no escape is read in place, one with escapes decoded: the two readings
        /// agree, refusals included, whichever characters are written escaped (except `/`).
        #[test]
        fn escaped_or_not_a_path_reads_the_same(
            raw in "/([a-z.~_ \\\\\\x00\\x1f\\x7féa-]{0,6}/?){0,6}",
            escape in proptest::collection::vec(proptest::bool::ANY, 64),
        ) {
            let mut encoded = String::new();
            for (i, c) in raw.chars().enumerate() {
                if c != '/' && escape[i % escape.len()] {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        encoded.push_str(&format!("%{b:02X}"));
                    }
                } else {
                    encoded.push(c);
                }
            }
            let plain = NormalizedPath::parse(&raw).map(|p| p.to_string());
            let decoded = NormalizedPath::parse(&encoded).map(|p| p.to_string());
            proptest::prop_assert_eq!(plain, decoded, "{:?} / {:?}", raw, encoded);
        }
    }
}
