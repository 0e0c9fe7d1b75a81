//! A policy's statements as the checks read them: which actions, resources and principals each
//! names, and its conditions, straight from the JSON (after the engine has parsed the document, so
//! it is a valid policy). The checks reason about what a statement *might* allow, which is about
//! patterns, not about one request.

use serde_json::{Map, Value};

/// `Action` or `NotAction` (and the same for resources and principals): the patterns and whether the
/// element is negated.
#[derive(Clone, Debug, Default)]
pub(crate) struct Element {
    pub(crate) patterns: Vec<String>,
    pub(crate) negated: bool,
}

/// A principal entry: `AWS`, `Service`, `Federated`, `CanonicalUser`, or `*` itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PrincipalEntry {
    /// `"Principal": "*"` or `{"AWS": "*"}`: everyone.
    Anyone,
    /// An `AWS` principal: an account id, a root, user or role ARN.
    Aws(String),
    /// A service principal.
    Service(String),
    /// A federated identity provider.
    Federated(String),
    /// An S3 canonical user id.
    CanonicalUser(String),
}

/// One condition: operator, key, values.
#[derive(Clone, Debug)]
pub(crate) struct Condition {
    pub(crate) operator: String,
    pub(crate) key: String,
    pub(crate) values: Vec<String>,
}

/// One statement.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    /// Its index in `Statement`.
    pub(crate) index: usize,
    pub(crate) sid: Option<String>,
    pub(crate) allow: bool,
    pub(crate) actions: Element,
    /// `None` when the statement has neither `Resource` nor `NotResource` (trust policies).
    pub(crate) resources: Option<Element>,
    /// `None` when the statement has neither `Principal` nor `NotPrincipal` (identity policies).
    pub(crate) principals: Option<(Vec<PrincipalEntry>, bool)>,
    pub(crate) conditions: Vec<Condition>,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.clone()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn element(s: &Map<String, Value>, name: &str) -> Option<Element> {
    if let Some(v) = s.get(name) {
        return Some(Element {
            patterns: strings(v),
            negated: false,
        });
    }
    s.get(&format!("Not{name}")).map(|v| Element {
        patterns: strings(v),
        negated: true,
    })
}

fn principals(v: &Value) -> Vec<PrincipalEntry> {
    match v {
        Value::String(s) if s == "*" => vec![PrincipalEntry::Anyone],
        Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| {
                strings(v).into_iter().map(move |p| match k.as_str() {
                    "AWS" if p == "*" => PrincipalEntry::Anyone,
                    "AWS" => PrincipalEntry::Aws(p),
                    "Service" => PrincipalEntry::Service(p),
                    "Federated" => PrincipalEntry::Federated(p),
                    _ => PrincipalEntry::CanonicalUser(p),
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The statements of a policy document (already parsed by the engine: a valid policy).
pub(crate) fn statements(text: &str) -> Vec<Statement> {
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let list = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    };
    list.iter()
        .enumerate()
        .filter_map(|(index, s)| {
            let s = s.as_object()?;
            let principals = match (s.get("Principal"), s.get("NotPrincipal")) {
                (Some(p), _) => Some((principals(p), false)),
                (None, Some(p)) => Some((principals(p), true)),
                _ => None,
            };
            let conditions = s
                .get("Condition")
                .and_then(Value::as_object)
                .map(|ops| {
                    ops.iter()
                        .flat_map(|(op, keys)| {
                            keys.as_object()
                                .into_iter()
                                .flatten()
                                .map(move |(key, values)| Condition {
                                    operator: op.clone(),
                                    key: key.clone(),
                                    values: strings(values),
                                })
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some(Statement {
                index,
                sid: s
                    .get("Sid")
                    .and_then(Value::as_str)
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned),
                allow: s.get("Effect").and_then(Value::as_str) == Some("Allow"),
                actions: element(s, "Action").unwrap_or_default(),
                resources: element(s, "Resource"),
                principals,
                conditions,
            })
        })
        .collect()
}

/// Whether some string matches both patterns (`*` any run, `?` one character); a policy variable
/// `${…}` stands for any text.
pub(crate) fn intersect(a: &str, b: &str, ignore_case: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            match rest[start..].find('}') {
                Some(end) => {
                    out.push('*');
                    rest = &rest[start + end + 1..];
                }
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        if ignore_case {
            out.to_ascii_lowercase().chars().collect()
        } else {
            out.chars().collect()
        }
    };
    let (a, b) = (norm(a), norm(b));
    if a.len().saturating_mul(b.len()) > MAX_CELLS {
        // Too long to compare exactly: "might match", the safe answer for a check that fails on it.
        return true;
    }
    // meet[i][j]: some string matches both a[i..] and b[j..]; filled from the ends.
    let (n, m) = (a.len(), b.len());
    let mut next = vec![false; m + 1];
    let mut row = vec![false; m + 1];
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            row[j] = match (a.get(i), b.get(j)) {
                (None, None) => true,
                (Some('*'), _) => next[j] || (j < m && row[j + 1]),
                (_, Some('*')) => row[j + 1] || (i < n && next[j]),
                (Some(x), Some(y)) => (*x == '?' || *y == '?' || x == y) && next[j + 1],
                _ => false,
            };
        }
        std::mem::swap(&mut next, &mut row);
    }
    next[0]
}

/// The most pattern-pair cells compared exactly (two 2,000-character patterns).
const MAX_CELLS: usize = 4_000_000;

/// Whether `pattern` matches every string `wanted` (itself a pattern) can match, as far as simple
/// matching tells: `wanted` read as literal text, `*` in it matched only by `*` in the pattern.
pub(crate) fn covers(pattern: &str, wanted: &str, ignore_case: bool) -> bool {
    let (p, w) = if ignore_case {
        (pattern.to_ascii_lowercase(), wanted.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), wanted.to_owned())
    };
    let p: Vec<char> = p.chars().collect();
    let w: Vec<char> = w.chars().collect();
    if p.len().saturating_mul(w.len()) > MAX_CELLS {
        // Too long to compare exactly: not covered, so nothing is taken away on its account.
        return false;
    }
    let (n, m) = (p.len(), w.len());
    let mut next = vec![false; m + 1];
    let mut row = vec![false; m + 1];
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            row[j] = match (p.get(i), w.get(j)) {
                (None, None) => true,
                (Some('*'), _) => next[j] || (j < m && row[j + 1]),
                (Some('?'), Some(c)) => *c != '*' && next[j + 1],
                (Some(x), Some(y)) => x == y && next[j + 1],
                _ => false,
            };
        }
        std::mem::swap(&mut next, &mut row);
    }
    next[0]
}

impl Element {
    /// Whether the element may match something `wanted` (a pattern) matches.
    pub(crate) fn may_match(&self, wanted: &str, ignore_case: bool) -> bool {
        if self.negated {
            // `NotAction: s3:*` leaves out everything `s3:Get*` could be.
            !self.patterns.iter().any(|p| covers(p, wanted, ignore_case))
        } else {
            self.patterns
                .iter()
                .any(|p| intersect(p, wanted, ignore_case))
        }
    }

    /// Whether the element matches everything `wanted` matches.
    pub(crate) fn matches_all(&self, wanted: &str, ignore_case: bool) -> bool {
        if self.negated {
            !self
                .patterns
                .iter()
                .any(|p| intersect(p, wanted, ignore_case))
        } else {
            self.patterns.iter().any(|p| covers(p, wanted, ignore_case))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_meet_and_cover() {
        assert!(intersect("s3:Get*", "s3:GetObject", true));
        assert!(intersect("s3:*Object", "s3:Get*", true));
        assert!(!intersect("s3:Put*", "s3:Get*", true));
        assert!(intersect(
            "arn:aws:s3:::b/${aws:username}/*",
            "arn:aws:s3:::b/alice/x",
            false
        ));
        assert!(covers("s3:*", "s3:Get*", true));
        assert!(!covers("s3:GetObject", "s3:Get*", true));
        assert!(!covers("s3:Get?bject", "s3:Get*", true));
        assert!(covers("*", "", true) && intersect("", "*", true) && !intersect("a", "", true));
        // Long patterns neither overflow the stack nor take quadratic memory.
        let long = "*a".repeat(5_000);
        assert!(intersect(&long, &long, false));
        assert!(!covers(&long, &long, false));
    }

    #[test]
    fn statements_read_every_element() {
        let s = statements(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":"*",
               "NotAction":"s3:Delete*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],
               "Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}},
               {"Effect":"Deny","Principal":{"AWS":["arn:aws:iam::1:root","*"],"Service":"s3.amazonaws.com"},
               "Action":"*"}]}"#,
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].sid.as_deref(), Some("A"));
        assert!(s[0].actions.negated && s[0].allow);
        assert_eq!(s[0].conditions[0].key, "aws:SourceAccount");
        assert_eq!(
            s[1].principals.as_ref().map(|p| p.0.clone()),
            Some(vec![
                PrincipalEntry::Aws("arn:aws:iam::1:root".into()),
                PrincipalEntry::Anyone,
                PrincipalEntry::Service("s3.amazonaws.com".into())
            ])
        );
        assert!(s[1].resources.is_none());
    }
}
