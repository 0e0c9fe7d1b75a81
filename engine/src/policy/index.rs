//! A policy's statements indexed by the service prefix of their actions, so that deciding a request
//! looks only at the statements that can apply to its action.
//!
//! A request's action is `service:name` with exactly one colon, and action names are
//! case-insensitive. An `Action` pattern whose service prefix is literal (`s3:Get*`, `S3:GetObject`)
//! can match only actions of that service, so its statement is filed under the lower-cased prefix;
//! an `Action` naming several services is filed under each. A statement that could match an action
//! of any service is considered for every request: `"*"`, a wildcard in the service prefix, or
//! `NotAction`.
//!
//! The index only narrows which statements are tried: each candidate is still matched in full, so a
//! decision is the same as with a scan of every statement. Candidates come out in statement order.

use super::{ActionSpec, Statement};

/// Statement positions (indices into the policy's statements) by service prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ActionIndex {
    /// Sorted by key (hash, then name), each service once; each list ascending.
    by_service: Vec<(Service, Box<[usize]>)>,
    /// Ascending: the statements to consider whatever the service.
    always: Box<[usize]>,
}

/// A lower-cased service prefix with its hash, so that finding it in a policy's index compares
/// integers, not strings. The hash is computed once per request and once per indexed service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Service<S = Box<str>> {
    hash: u64,
    name: S,
}

impl<'a> Service<&'a str> {
    /// `name` must be lower-cased.
    pub(crate) fn new(name: &'a str) -> Self {
        // FNV-1a: service prefixes are a few ASCII letters.
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Service { hash, name }
    }

    pub(crate) fn name(&self) -> &'a str {
        self.name
    }
}

impl ActionIndex {
    /// Indexes a policy's statements.
    pub(crate) fn build(statements: &[Statement]) -> Self {
        let mut filed: Vec<(Service, usize)> = Vec::new();
        let mut always = Vec::new();
        for (pos, stmt) in statements.iter().enumerate() {
            match literal_services(&stmt.action) {
                Some(services) => filed.extend(services.into_iter().map(|name| {
                    let hash = Service::new(&name).hash;
                    let name = name.into_boxed_str();
                    (Service { hash, name }, pos)
                })),
                None => always.push(pos),
            }
        }
        // Sorting by (hash, name, position) groups each service and keeps its list in statement
        // order; an `Action` that names a service twice (`s3:Get*`, `s3:List*`) is filed once.
        filed.sort_unstable();
        filed.dedup();
        let mut by_service: Vec<(Service, Box<[usize]>)> = Vec::new();
        let mut current: Option<(Service, Vec<usize>)> = None;
        for (service, pos) in filed {
            match &mut current {
                Some((s, list)) if *s == service => list.push(pos),
                _ => {
                    if let Some((s, list)) = current.replace((service, vec![pos])) {
                        by_service.push((s, list.into_boxed_slice()));
                    }
                }
            }
        }
        if let Some((s, list)) = current {
            by_service.push((s, list.into_boxed_slice()));
        }
        ActionIndex {
            by_service,
            always: always.into_boxed_slice(),
        }
    }

    /// The positions of the statements that may apply to an action of `service`, in statement order.
    pub(crate) fn candidates(&self, service: &Service<&str>) -> Candidates<'_> {
        let first = self
            .by_service
            .partition_point(|(s, _)| s.hash < service.hash);
        let filed = self
            .by_service
            .iter()
            .skip(first)
            .take_while(|(s, _)| s.hash == service.hash)
            .find(|(s, _)| *s.name == *service.name)
            .map_or(&[][..], |(_, list)| list);
        Candidates {
            filed,
            always: &self.always,
        }
    }
}

/// The lower-cased services an `Action` element names, or `None` when the statement may match an
/// action of any service.
fn literal_services(spec: &ActionSpec) -> Option<Vec<String>> {
    if spec.negated {
        return None;
    }
    let mut services = Vec::with_capacity(spec.raw.len());
    for text in &spec.raw {
        let (service, _) = text.split_once(':')?;
        if service.contains(['*', '?']) {
            return None;
        }
        services.push(service.to_ascii_lowercase());
    }
    Some(services)
}

/// Two ascending lists of positions, merged. A statement is either filed under services or in the
/// always list, never both, so the merge has no duplicates.
#[derive(Clone, Debug)]
pub(crate) struct Candidates<'a> {
    filed: &'a [usize],
    always: &'a [usize],
}

impl Iterator for Candidates<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let take_filed = match (self.filed.first(), self.always.first()) {
            (Some(f), Some(a)) => f < a,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        let list = if take_filed {
            &mut self.filed
        } else {
            &mut self.always
        };
        let (first, rest) = list.split_first()?;
        *list = rest;
        Some(*first)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.filed.len() + self.always.len();
        (n, Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Pattern;

    fn spec(negated: bool, raw: &[&str]) -> ActionSpec {
        ActionSpec {
            negated,
            patterns: raw
                .iter()
                .map(|t| Pattern::new(&t.to_ascii_lowercase()))
                .collect(),
            raw: raw.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn which_actions_are_filed_under_a_service() {
        let s = |v: &[&str]| literal_services(&spec(false, v));
        assert_eq!(s(&["s3:GetObject"]), Some(vec!["s3".to_owned()]));
        assert_eq!(s(&["S3:GetObject"]), Some(vec!["s3".to_owned()]));
        assert_eq!(s(&["s3:*"]), Some(vec!["s3".to_owned()]));
        assert_eq!(
            s(&["s3:Get*", "EC2:Describe*"]),
            Some(vec!["s3".to_owned(), "ec2".to_owned()])
        );
        assert_eq!(s(&["*"]), None);
        assert_eq!(s(&["s3:Get*", "*"]), None);
        // The parser rejects wildcards in the service prefix; the index would not rely on that.
        assert_eq!(s(&["*:Get*"]), None);
        assert_eq!(s(&["s?:Get*"]), None);
        assert_eq!(literal_services(&spec(true, &["s3:GetObject"])), None);
    }

    #[test]
    fn services_whose_hashes_collide_are_told_apart_by_name() {
        let service = |name: &str| Service {
            hash: 7,
            name: Box::from(name),
        };
        let idx = ActionIndex {
            by_service: vec![
                (service("ec2"), Box::from([0, 2])),
                (service("s3"), Box::from([1])),
            ],
            always: Box::from([3]),
        };
        let c = |name: &str| {
            idx.candidates(&Service { hash: 7, name })
                .collect::<Vec<_>>()
        };
        assert_eq!(c("s3"), [1, 3]);
        assert_eq!(c("ec2"), [0, 2, 3]);
        assert_eq!(c("sqs"), [3]);
    }

    #[test]
    fn candidates_come_in_statement_order() {
        let policy = crate::policy::Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
                {"Effect":"Deny","Action":"*","Resource":"*"},
                {"Effect":"Allow","Action":["EC2:Describe*","s3:List*","s3:Get*"],"Resource":"*"},
                {"Effect":"Allow","NotAction":"iam:*","Resource":"*"},
                {"Effect":"Allow","Action":"iam:PassRole","Resource":"*"},
                {"Effect":"Deny","Action":"S3:PutObject","Resource":"*"}
            ]}"#,
            crate::policy::PolicyType::Identity,
        )
        .unwrap();
        let idx = &policy.index;
        let c = |s: &str| idx.candidates(&Service::new(s)).collect::<Vec<_>>();
        assert_eq!(c("s3"), [0, 1, 2, 3, 5]);
        assert_eq!(c("ec2"), [1, 2, 3]);
        assert_eq!(c("iam"), [1, 3, 4]);
        assert_eq!(c("sqs"), [1, 3]);
        assert_eq!(
            idx.candidates(&Service::new("s3")).size_hint(),
            (5, Some(5))
        );
    }
}
