//! IAM wildcard patterns: `*` (any run of characters, possibly empty) and `?` (exactly one character).
//!
//! Matching never backtracks: the pattern is split at its stars into segments; the first segment is
//! anchored at the start, the last at the end, and each middle segment is found leftmost after the
//! previous one. Leftmost placement is always safe for globs, so each byte of input is examined a
//! bounded number of times per segment. Star-free, question-free segments are found with `memchr`'s
//! substring search, which is linear; a segment with `?` is tried at each candidate start, bounded by
//! the segment's length.

use std::fmt;

/// One element of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    /// Literal text (may contain `*` or `?` produced by `${*}`/`${?}` or by variable values).
    Lit(String),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters.
    Star,
}

/// Parses pattern text into tokens (no policy variables: `$` is literal here).
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut lit = String::new();
    for c in text.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    tokens.push(Token::Lit(std::mem::take(&mut lit)));
                }
                tokens.push(if c == '*' { Token::Star } else { Token::One });
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        tokens.push(Token::Lit(lit));
    }
    tokens
}

/// A segment: the tokens between two stars.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Segment {
    toks: Vec<SegTok>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SegTok {
    Lit(Box<str>),
    One,
}

/// A compiled wildcard pattern.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// Exactly `*`: matches everything.
    Any,
    /// No wildcard at all.
    Exact(Box<str>),
    /// `segments[0]` is the prefix, the last is the suffix; stars sit between consecutive segments.
    Glob {
        segments: Vec<Segment>,
        has_star: bool,
    },
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.kind)
    }
}

impl Pattern {
    /// Compiles pattern text where `*` and `?` are wildcards.
    pub(crate) fn new(text: &str) -> Self {
        Self::from_tokens(&tokenize(text))
    }

    /// Compiles an already tokenized pattern.
    pub(crate) fn from_tokens(tokens: &[Token]) -> Self {
        let mut segments = vec![Segment { toks: Vec::new() }];
        let mut has_star = false;
        let mut has_one = false;
        for t in tokens {
            match t {
                Token::Star => {
                    has_star = true;
                    segments.push(Segment { toks: Vec::new() });
                }
                Token::One => {
                    has_one = true;
                    if let Some(s) = segments.last_mut() {
                        s.toks.push(SegTok::One);
                    }
                }
                Token::Lit(l) => {
                    if let Some(s) = segments.last_mut() {
                        // Merge adjacent literals so substring search sees them whole.
                        if let Some(SegTok::Lit(prev)) = s.toks.last_mut() {
                            let mut merged = String::with_capacity(prev.len() + l.len());
                            merged.push_str(prev);
                            merged.push_str(l);
                            *prev = merged.into_boxed_str();
                        } else if !l.is_empty() {
                            s.toks.push(SegTok::Lit(l.as_str().into()));
                        }
                    }
                }
            }
        }
        let kind = if !has_star && !has_one {
            let text: String = segments
                .iter()
                .flat_map(|s| s.toks.iter())
                .map(|t| match t {
                    SegTok::Lit(l) => l.as_ref(),
                    SegTok::One => "",
                })
                .collect();
            Kind::Exact(text.into_boxed_str())
        } else if has_star && segments.iter().all(|s| s.toks.is_empty()) {
            Kind::Any
        } else {
            Kind::Glob { segments, has_star }
        };
        Pattern { kind }
    }

    /// Matches `input` in full, case-sensitively.
    pub(crate) fn matches(&self, input: &str) -> bool {
        match &self.kind {
            Kind::Any => true,
            Kind::Exact(s) => s.as_ref() == input,
            Kind::Glob { segments, has_star } => glob(segments, *has_star, input),
        }
    }
}

fn glob(segments: &[Segment], has_star: bool, input: &str) -> bool {
    let (first, rest) = match segments.split_first() {
        Some(x) => x,
        None => return input.is_empty(),
    };
    if !has_star {
        return match_at(first, input, 0) == Some(input.len());
    }
    let (last, middle) = match rest.split_last() {
        Some(x) => x,
        None => return false,
    };
    let Some(mut pos) = match_at(first, input, 0) else {
        return false;
    };
    let Some(end) = match_suffix(last, input) else {
        return false;
    };
    if end < pos {
        return false;
    }
    let hay = match input.get(..end) {
        Some(h) => h,
        None => return false,
    };
    for seg in middle {
        match find(seg, hay, pos) {
            Some(next) => pos = next,
            None => return false,
        }
    }
    true
}

/// Matches a segment starting at byte `at`; returns the end position.
fn match_at(seg: &Segment, input: &str, at: usize) -> Option<usize> {
    let mut p = at;
    for t in &seg.toks {
        let rest = input.get(p..)?;
        match t {
            SegTok::Lit(l) => {
                if !rest.starts_with(l.as_ref()) {
                    return None;
                }
                p += l.len();
            }
            SegTok::One => p += rest.chars().next()?.len_utf8(),
        }
    }
    Some(p)
}

/// Matches a segment ending at the end of `input`, backwards; returns its start position.
fn match_suffix(seg: &Segment, input: &str) -> Option<usize> {
    let mut e = input.len();
    for t in seg.toks.iter().rev() {
        let head = input.get(..e)?;
        match t {
            SegTok::Lit(l) => {
                if !head.ends_with(l.as_ref()) {
                    return None;
                }
                e -= l.len();
            }
            SegTok::One => e -= head.chars().next_back()?.len_utf8(),
        }
    }
    Some(e)
}

/// Finds the leftmost match of a segment at or after `from` in `hay`; returns its end position.
fn find(seg: &Segment, hay: &str, from: usize) -> Option<usize> {
    match seg.toks.as_slice() {
        [] => Some(from),
        [SegTok::Lit(l)] => {
            let rest = hay.as_bytes().get(from..)?;
            memchr::memmem::find(rest, l.as_bytes()).map(|i| from + i + l.len())
        }
        [SegTok::Lit(l), ..] => {
            let finder = memchr::memmem::Finder::new(l.as_bytes());
            let mut start = from;
            loop {
                let rest = hay.as_bytes().get(start..)?;
                let i = start + finder.find(rest)?;
                if let Some(end) = match_at(seg, hay, i) {
                    return Some(end);
                }
                start = i + 1;
            }
        }
        _ => {
            let rest = hay.get(from..)?;
            for (i, _) in rest.char_indices() {
                if let Some(end) = match_at(seg, hay, from + i) {
                    return Some(end);
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::new(p).matches(s)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("s3:getobject", "s3:getobject"));
        assert!(!m("s3:getobject", "s3:getobjects"));
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("s3:*", "s3:getobject"));
        assert!(m("s3:get*", "s3:get"));
        assert!(!m("s3:get*", "s3:pu"));
        assert!(m("iam:*accesskey*", "iam:createaccesskey"));
        assert!(m("iam:*accesskey*", "iam:listaccesskeys"));
        assert!(!m("iam:*accesskey*", "iam:listusers"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a?c", "aéc"));
        assert!(m("*?", "x"));
        assert!(!m("*?", ""));
        assert!(m("a*b*c", "abc"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
        assert!(!m("ab*ba", "aba"));
        assert!(m("ab*ba", "abba"));
        assert!(m("*a?a*", "xxabayy"));
        assert!(m("*é?", "xéz"));
        assert!(m("??*", "ab"));
        assert!(!m("??*", "a"));
    }

    #[test]
    fn literal_star_token_is_not_a_wildcard() {
        let p = Pattern::from_tokens(&[Token::Lit("a*".into()), Token::Star]);
        assert!(p.matches("a*bc"));
        assert!(!p.matches("abc"));
    }

    #[test]
    fn adversarial_patterns_do_not_blow_up() {
        let pat = format!("{}b", "a*".repeat(2000));
        let input = "a".repeat(100_000);
        assert!(!m(&pat, &input));
        let pat = format!("{}?b", "*a?".repeat(500));
        assert!(!m(&pat, &input));
    }
}
