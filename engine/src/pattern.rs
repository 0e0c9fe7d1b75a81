//! IAM wildcard patterns: `*` (any run of characters, possibly empty) and `?` (exactly one character).
//!
//! Matching never backtracks: the pattern is split at its stars into segments; the first segment is
//! anchored at the start, the last at the end, and each middle segment is found leftmost after the
//! previous one. Leftmost placement is always safe for globs, so each byte of input is examined a
//! bounded number of times per segment. Star-free, question-free segments are found with `memchr`'s
//! substring search, which is linear; a segment with `?` is tried at each candidate start, bounded by
//! the segment's length.
//!
//! So the work is O(n + m) for a pattern of length m whose star-free runs are plain text (`a*a*a*…`,
//! `*?*?*`), and O(n·k) at worst when a star-free run of length k mixes text and `?` (`*a?a?a?b`).
//! Tests and the fuzz targets count that work with `work`.

use std::fmt;

/// Work counting for the tests and the fuzz targets: the matcher adds the bytes and tokens it
/// examines. Compiled to nothing in other builds.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod work {
    use std::cell::Cell;

    thread_local! {
        static STEPS: Cell<u64> = const { Cell::new(0) };
    }

    pub(crate) fn add(n: usize) {
        STEPS.with(|s| s.set(s.get().saturating_add(n as u64)));
    }

    /// The steps counted on this thread since the last call.
    pub(crate) fn take() -> u64 {
        STEPS.with(|s| s.replace(0))
    }

    /// The factor the matcher's work may grow by: the longest star-free run of the pattern that
    /// holds a `?` (1 when every run is plain text).
    pub(crate) fn factor(p: &str) -> usize {
        p.split('*')
            .filter(|run| run.contains('?'))
            .map(str::len)
            .max()
            .unwrap_or(1)
    }

    /// The most work a match may take: linear in pattern and input (plus `slack` for fixed costs),
    /// times [`factor`] + 1.
    pub(crate) fn bound(p: &str, s: &str, slack: usize) -> u64 {
        (4 * (p.len() + s.len() + slack) * (factor(p) + 1)) as u64
    }

    /// The obviously right matcher, to check the real one against: dynamic programming over
    /// characters, O(n·m).
    pub(crate) fn reference(p: &str, s: &str) -> bool {
        let p: Vec<char> = p.chars().collect();
        let s: Vec<char> = s.chars().collect();
        // row[j]: the pattern so far matches the first j characters of s.
        let mut row = vec![false; s.len() + 1];
        row[0] = true;
        for c in &p {
            let mut next = vec![false; s.len() + 1];
            for j in 0..=s.len() {
                next[j] = match c {
                    '*' => row[j] || (j > 0 && next[j - 1]),
                    '?' => j > 0 && row[j - 1],
                    lit => j > 0 && row[j - 1] && s[j - 1] == *lit,
                };
            }
            row = next;
        }
        row[s.len()]
    }
}

#[cfg(not(any(test, feature = "fuzzing")))]
pub(crate) mod work {
    #[inline(always)]
    pub(crate) fn add(_: usize) {}
}

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
            Kind::Exact(s) => {
                work::add(s.len().min(input.len()) + 1);
                s.as_ref() == input
            }
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
                work::add(l.len() + 1);
                if !rest.starts_with(l.as_ref()) {
                    return None;
                }
                p += l.len();
            }
            SegTok::One => {
                work::add(1);
                p += rest.chars().next()?.len_utf8();
            }
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
                work::add(l.len() + 1);
                if !head.ends_with(l.as_ref()) {
                    return None;
                }
                e -= l.len();
            }
            SegTok::One => {
                work::add(1);
                e -= head.chars().next_back()?.len_utf8();
            }
        }
    }
    Some(e)
}

/// Finds the leftmost match of a segment at or after `from` in `hay`; returns its end position.
fn find(seg: &Segment, hay: &str, from: usize) -> Option<usize> {
    // A substring search examines what it skips, and the needle where it stops.
    let searched = |rest: &[u8], found: Option<usize>, needle: usize| {
        work::add(found.map_or(rest.len(), |i| i + needle) + 1);
        found
    };
    match seg.toks.as_slice() {
        [] => Some(from),
        [SegTok::Lit(l)] => {
            let rest = hay.as_bytes().get(from..)?;
            searched(rest, memchr::memmem::find(rest, l.as_bytes()), l.len())
                .map(|i| from + i + l.len())
        }
        [SegTok::Lit(l), ..] => {
            let finder = memchr::memmem::Finder::new(l.as_bytes());
            let mut start = from;
            loop {
                let rest = hay.as_bytes().get(start..)?;
                let i = start + searched(rest, finder.find(rest), l.len())?;
                if let Some(end) = match_at(seg, hay, i) {
                    return Some(end);
                }
                start = i + 1;
            }
        }
        _ => {
            let rest = hay.get(from..)?;
            for (i, _) in rest.char_indices() {
                work::add(1);
                if let Some(end) = match_at(seg, hay, from + i) {
                    return Some(end);
                }
            }
            None
        }
    }
}

/// Whether some string matches both wildcard patterns (`*` any run, `?` any one character; every
/// other character literal). A dynamic program over the two patterns' positions: O(m·n) for patterns
/// of m and n characters, used by lint on short ARN components, never on requests.
pub(crate) fn intersects(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (m, n) = (a.len(), b.len());
    // reach[i][j]: some string is matched by both a[..i] and b[..j].
    let mut reach = vec![vec![false; n + 1]; m + 1];
    if let Some(first) = reach.first_mut().and_then(|r| r.first_mut()) {
        *first = true;
    }
    for i in 0..=m {
        for j in 0..=n {
            if !reach[i][j] {
                continue;
            }
            let (x, y) = (a.get(i).copied(), b.get(j).copied());
            // A star matching nothing.
            if x == Some('*') {
                reach[i + 1][j] = true;
            }
            if y == Some('*') {
                reach[i][j + 1] = true;
            }
            match (x, y) {
                // A star eats what the other side produces next (which may itself be a star's).
                (Some('*'), Some(_)) => reach[i][j + 1] = true,
                (Some(_), Some('*')) => reach[i + 1][j] = true,
                _ => {}
            }
            if let (Some(x), Some(y)) = (x, y) {
                if x != '*' && y != '*' && (x == y || x == '?' || y == '?') {
                    reach[i + 1][j + 1] = true;
                }
            }
        }
    }
    reach[m][n]
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

    /// Matches and returns the work done.
    fn counted(p: &Pattern, s: &str) -> (bool, u64) {
        work::take();
        let r = p.matches(s);
        (r, work::take())
    }

    /// The most work a match may take (see [`work::bound`]).
    fn bound(p: &str, s: &str) -> u64 {
        work::bound(p, s, 1)
    }

    fn assert_bounded(p: &str, s: &str, expect: bool) {
        let (r, steps) = counted(&Pattern::new(p), s);
        assert_eq!(
            r,
            expect,
            "{} chars of pattern, {} of input",
            p.len(),
            s.len()
        );
        assert!(
            steps <= bound(p, s),
            "{steps} steps for {} chars of pattern (factor {}) and {} of input; the bound is {}",
            p.len(),
            work::factor(p),
            s.len(),
            bound(p, s)
        );
    }

    #[test]
    fn adversarial_patterns_take_bounded_work() {
        let a = "a".repeat(100_000);
        // The classic backtracking killers: stars between repeated text, against text that almost
        // matches. Each is linear here.
        assert_bounded(&format!("{}b", "a*".repeat(2000)), &a, false);
        assert_bounded(&format!("*{}b*", "a*".repeat(2000)), &a, false);
        assert_bounded(&format!("{}a", "a*".repeat(2000)), &a, true);
        assert_bounded(&"*?".repeat(3000), &a, true);
        assert_bounded(&format!("{}x", "*?".repeat(3000)), &a, false);
        assert_bounded(&format!("{}?b", "*a?".repeat(500)), &a, false);
        assert_bounded(
            &format!("*{}*", "ab".repeat(1000)),
            &"ab".repeat(50_000),
            true,
        );
        assert_bounded(
            &format!("*{}c*", "ab".repeat(1000)),
            &"ab".repeat(50_000),
            false,
        );
        // A long run of text and `?` is tried at every position: work n·k, and no more.
        let run = format!("*{}b*", "a?".repeat(32));
        assert_bounded(&run, &"a".repeat(20_000), false);
        let (_, steps) = counted(&Pattern::new(&run), &"a".repeat(20_000));
        assert!(steps >= 20_000 * 32, "the bound is not slack: {steps}");
    }

    #[test]
    fn the_work_of_plain_runs_does_not_grow_with_the_number_of_stars() {
        let input = "x".repeat(10_000);
        let few = counted(&Pattern::new("*a*a*a*"), &input).1;
        let many = counted(&Pattern::new(&"*a".repeat(1000)), &input).1;
        // The first missing segment ends the search: one pass over the input either way.
        assert!(few <= 2 * 10_000 && many <= 2 * 10_000, "{few} {many}");
    }

    proptest::proptest! {
        /// The matcher agrees with the reference on short patterns and inputs over a small
        /// alphabet (multi-byte characters included), within the work bound.
        #[test]
        fn agrees_with_the_reference(
            p in "[ab*?é]{0,12}",
            s in "[abé]{0,16}",
        ) {
            let (r, steps) = counted(&Pattern::new(&p), &s);
            proptest::prop_assert_eq!(r, work::reference(&p, &s), "pattern {:?} input {:?}", p, s);
            proptest::prop_assert!(steps <= bound(&p, &s), "{} steps for {:?} on {:?}", steps, p, s);
        }
    }

    #[test]
    fn intersections_of_two_patterns() {
        for (a, b, expected) in [
            ("abc", "abc", true),
            ("abc", "abd", false),
            ("a*", "*c", true),
            ("a*b", "c*", false),
            ("*", "", true),
            ("?", "", false),
            ("a?c", "*b*", true),
            ("bucket/*", "*/*", true),
            ("bucket", "*/*", false),
            ("x*y*z", "*q*", true),
            ("ab", "a*b*c", false),
            ("", "", true),
        ] {
            assert_eq!(intersects(a, b), expected, "{a} ∩ {b}");
            assert_eq!(intersects(b, a), expected, "{b} ∩ {a}");
        }
    }
}
