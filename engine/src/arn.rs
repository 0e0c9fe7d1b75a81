//! Amazon Resource Names: parsing, and the segment-wise wildcard matching AWS uses for `Resource`,
//! `NotResource` and the `Arn*` condition operators.
//!
//! An ARN is `arn:partition:service:region:account-id:resource`. The first five colons split it into
//! six segments; the resource segment keeps any further colons (`log-group:name:*`). A pattern with six
//! segments is matched segment by segment, so a wildcard never crosses one of the first five colons,
//! while in the resource segment `*` may span `/` and `:`. A `*` that ends a pattern of fewer segments
//! (`arn:aws:sqs:*`) expands beyond the colons, as AWS documents.

use crate::pattern::{Pattern, Token};

/// A parsed ARN borrowing from its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, …
    pub partition: &'a str,
    /// The service namespace, e.g. `s3`, `iam`, `sts`.
    pub service: &'a str,
    /// The region, empty for global resources.
    pub region: &'a str,
    /// The 12-digit account id, empty for some resources (S3 buckets).
    pub account: &'a str,
    /// Everything after the fifth colon.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Parses `arn:partition:service:region:account:resource`; `None` if the text is not an ARN.
    pub fn parse(text: &'a str) -> Option<Self> {
        let rest = text.strip_prefix("arn:")?;
        let (partition, rest) = field(rest)?;
        let (service, rest) = field(rest)?;
        let (region, rest) = field(rest)?;
        let (account, resource) = field(rest)?;
        if partition.is_empty() || service.is_empty() {
            return None;
        }
        Some(Arn {
            partition,
            service,
            region,
            account,
            resource,
        })
    }
}

/// The text before the first colon and the text after it. (A byte loop: ARN fields are short, and
/// this runs for every request.)
fn field(text: &str) -> Option<(&str, &str)> {
    let colon = text.bytes().position(|b| b == b':')?;
    Some((text.get(..colon)?, text.get(colon + 1..)?))
}

/// A resource as `Resource` patterns match it: its text, and its ARN when it is one, parsed once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResourceName<'a> {
    text: &'a str,
    arn: Option<Arn<'a>>,
}

impl<'a> ResourceName<'a> {
    /// `arn` is `Arn::parse(text)`.
    pub(crate) fn new(text: &'a str, arn: Option<Arn<'a>>) -> Self {
        ResourceName { text, arn }
    }

    /// The resource's ARN, when it is one.
    pub(crate) fn arn(&self) -> Option<&Arn<'a>> {
        self.arn.as_ref()
    }
}

/// A compiled ARN pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ArnPattern {
    /// Six segments, each a wildcard pattern.
    Segments(Box<[Pattern; 6]>),
    /// Fewer segments, the last ending in `*`: the last one matches the rest of the ARN.
    Prefix(Vec<Pattern>),
    /// Anything else (`*`, non-ARN resource names): one pattern over the whole text.
    Whole(Pattern),
}

impl ArnPattern {
    /// Compiles pattern text.
    pub(crate) fn new(text: &str) -> Self {
        Self::from_tokens(&crate::pattern::tokenize(text))
    }

    /// Compiles a tokenized pattern (literal tokens may come from policy variables).
    pub(crate) fn from_tokens(tokens: &[Token]) -> Self {
        // Split at the first five colons of literal text.
        let mut segs: Vec<Vec<Token>> = vec![Vec::new()];
        for t in tokens {
            match t {
                Token::Lit(l) if segs.len() < 6 && l.contains(':') => {
                    let mut rest = l.as_str();
                    while segs.len() < 6 {
                        match rest.split_once(':') {
                            Some((head, tail)) => {
                                if !head.is_empty() {
                                    if let Some(s) = segs.last_mut() {
                                        s.push(Token::Lit(head.to_owned()));
                                    }
                                }
                                segs.push(Vec::new());
                                rest = tail;
                            }
                            None => break,
                        }
                    }
                    if !rest.is_empty() {
                        if let Some(s) = segs.last_mut() {
                            s.push(Token::Lit(rest.to_owned()));
                        }
                    }
                }
                other => {
                    if let Some(s) = segs.last_mut() {
                        s.push(other.clone());
                    }
                }
            }
        }
        let first_is_arn =
            matches!(segs.first().map(Vec::as_slice), Some([Token::Lit(a)]) if a == "arn");
        let ends_with_star = matches!(segs.last().and_then(|s| s.last()), Some(Token::Star));
        if first_is_arn && segs.len() > 1 && segs.len() < 6 && ends_with_star {
            return ArnPattern::Prefix(segs.iter().map(|s| Pattern::from_tokens(s)).collect());
        }
        if segs.len() == 6 && first_is_arn {
            let mut it = segs.iter().map(|s| Pattern::from_tokens(s));
            if let (Some(a), Some(b), Some(c), Some(d), Some(e), Some(f)) = (
                it.next(),
                it.next(),
                it.next(),
                it.next(),
                it.next(),
                it.next(),
            ) {
                return ArnPattern::Segments(Box::new([a, b, c, d, e, f]));
            }
        }
        ArnPattern::Whole(Pattern::from_tokens(tokens))
    }

    /// Matches a resource (an ARN, or `*`/another name for services without ARNs).
    pub(crate) fn matches(&self, resource: &str) -> bool {
        match self {
            ArnPattern::Whole(p) => p.matches(resource),
            _ => self.matches_name(&ResourceName::new(resource, Arn::parse(resource))),
        }
    }

    /// Matches a resource whose ARN has already been parsed.
    pub(crate) fn matches_name(&self, resource: &ResourceName<'_>) -> bool {
        match self {
            ArnPattern::Whole(p) => p.matches(resource.text),
            ArnPattern::Segments(pats) => match &resource.arn {
                Some(arn) => {
                    let [arn_p, partition, service, region, account, res] = &**pats;
                    // The resource and the account tell ARNs apart most often: they go first.
                    res.matches(arn.resource)
                        && account.matches(arn.account)
                        && service.matches(arn.service)
                        && region.matches(arn.region)
                        && partition.matches(arn.partition)
                        && arn_p.matches("arn")
                }
                None => false,
            },
            ArnPattern::Prefix(pats) => {
                if resource.arn.is_none() {
                    return false;
                }
                let parts = resource.text.splitn(pats.len(), ':');
                let mut n = 0;
                for (p, s) in pats.iter().zip(parts) {
                    if !p.matches(s) {
                        return false;
                    }
                    n += 1;
                }
                n == pats.len()
            }
        }
    }

    /// Whether the text is a resource pattern AWS accepts: `*`, a full ARN, or an ARN prefix ending
    /// in `*`.
    pub(crate) fn is_valid_text(text: &str) -> bool {
        text == "*"
            || (text.starts_with("arn:") && (text.matches(':').count() >= 5 || text.ends_with('*')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arns() {
        let a = Arn::parse("arn:aws:logs:us-east-1:111122223333:log-group:g:*").unwrap();
        assert_eq!(a.service, "logs");
        assert_eq!(a.account, "111122223333");
        assert_eq!(a.resource, "log-group:g:*");
        let s3 = Arn::parse("arn:aws:s3:::bucket/key").unwrap();
        assert_eq!(s3.account, "");
        assert!(Arn::parse("arn:aws:s3").is_none());
        assert!(Arn::parse("arn:aws:s3::").is_none());
        assert!(Arn::parse("arn::s3:::b").is_none());
        assert!(Arn::parse("arn:aws::::b").is_none());
        assert!(Arn::parse("ARN:aws:s3:::b").is_none());
        let empty = Arn::parse("arn:aws:s3:::").unwrap();
        assert_eq!((empty.region, empty.account, empty.resource), ("", "", ""));
        assert!(Arn::parse("*").is_none());
    }

    #[test]
    fn segment_wise_matching() {
        let p = ArnPattern::new("arn:aws:s3:::amzn-s3-demo-bucket/*");
        assert!(p.matches("arn:aws:s3:::amzn-s3-demo-bucket/a/b/c"));
        assert!(!p.matches("arn:aws:s3:::amzn-s3-demo-bucket"));
        let p = ArnPattern::new("arn:aws:iam::*:role/*");
        assert!(p.matches("arn:aws:iam::111122223333:role/a/b"));
        assert!(!p.matches("arn:aws:iam::111122223333:user/a"));
        // A star in one segment does not swallow colons of another.
        let p = ArnPattern::new("arn:aws:*:us-east-1:111122223333:*");
        assert!(!p.matches("arn:aws:ec2:us-west-2:111122223333:instance/i-1"));
        assert!(p.matches("arn:aws:ec2:us-east-1:111122223333:instance/i-1"));
        // Case-sensitive.
        let p = ArnPattern::new("arn:aws:s3:::Bucket/*");
        assert!(!p.matches("arn:aws:s3:::bucket/x"));
        // Resource segment may contain colons.
        let p = ArnPattern::new("arn:aws:logs:*:*:log-group:app:*");
        assert!(p.matches("arn:aws:logs:us-east-1:111122223333:log-group:app:log-stream:x"));
        assert!(ArnPattern::new("*").matches("anything"));
        // A trailing star of a shorter pattern crosses colons.
        let p = ArnPattern::new("arn:aws:sqs:*");
        assert!(p.matches("arn:aws:sqs:us-east-2:111122223333:queue1"));
        assert!(!p.matches("arn:aws:sns:us-east-2:111122223333:topic"));
        let p = ArnPattern::new("arn:aws:sqs:us-east-2:1111*");
        assert!(p.matches("arn:aws:sqs:us-east-2:111122223333:queue1"));
        assert!(!p.matches("arn:aws:sqs:us-east-1:111122223333:queue1"));
        assert!(ArnPattern::is_valid_text("arn:aws:sqs:*"));
        assert!(!ArnPattern::is_valid_text("arn:aws:sqs"));
        assert!(!ArnPattern::new("arn:aws:s3:::*").matches("*"));
    }
}
