//! The elements of a statement that name things — `Principal`/`NotPrincipal`, `Action`/`NotAction`,
//! `Resource`/`NotResource` — and its `Condition` block, each read into its compiled form with every
//! error collected.

use super::{join, kind_name, Str, Walker};
use crate::arn::ArnPattern;
use crate::condition::Condition;
use crate::error::{PolicyError, PolicyErrorKind as K};
use crate::pattern::Pattern;
use crate::policy::principal::{PrincipalEntry, PrincipalSpec};
use crate::policy::{ActionSpec, ResourcePattern, ResourceSpec};
use crate::variables::Template;
use jsonc_parser::ast::Value;
use std::collections::HashSet;

impl Walker<'_> {
    pub(super) fn principal(
        &mut self,
        v: &Value<'_>,
        path: &str,
        negated: bool,
    ) -> Option<PrincipalSpec> {
        if let Value::StringLit(s) = v {
            if s.value == "*" {
                return Some(PrincipalSpec {
                    negated,
                    entries: vec![PrincipalEntry::Everyone],
                    raw: vec!["*".into()],
                });
            }
            self.err(
                K::InvalidValue,
                path,
                v,
                format!(
                    "expected \"*\" or an object such as {{\"AWS\": \"…\"}}, found \"{}\"",
                    s.value
                ),
            );
            return None;
        }
        let obj = self.expect_object(v, path)?;
        let mut entries = Vec::new();
        let mut raw = Vec::new();
        for p in self.props(obj, path) {
            let kind = p.name.as_str();
            let child = join(path, kind);
            let Some(values) = self.strings(&p.value, &child) else {
                continue;
            };
            for s in values {
                let entry = match kind {
                    "AWS" => self.aws_principal(&s),
                    "Service" => Some(PrincipalEntry::Service(s.text.clone())),
                    "Federated" => Some(PrincipalEntry::Federated(s.text.clone())),
                    "CanonicalUser" => Some(PrincipalEntry::CanonicalUser(s.text.clone())),
                    other => {
                        self.err(
                            K::UnknownElement,
                            &child,
                            &p.name,
                            format!("unknown principal type `{other}`; expected `AWS`, `Service`, `Federated` or `CanonicalUser`"),
                        );
                        break;
                    }
                };
                if let Some(e) = entry {
                    raw.push(format!("{kind}:{}", s.text));
                    entries.push(e);
                }
            }
        }
        Some(PrincipalSpec {
            negated,
            entries,
            raw,
        })
    }

    fn aws_principal(&mut self, s: &Str) -> Option<PrincipalEntry> {
        let t = s.text.as_str();
        if t == "*" {
            return Some(PrincipalEntry::Everyone);
        }
        if t.len() == 12 && t.bytes().all(|b| b.is_ascii_digit()) {
            return Some(PrincipalEntry::Account(t.to_owned()));
        }
        let bad = |w: &mut Self, msg: String| {
            w.errors.push(PolicyError {
                kind: K::InvalidValue,
                path: s.path.clone(),
                message: msg,
                location: Some(w.loc(s.start, s.end)),
            });
            None
        };
        if t.contains('*') || t.contains('?') {
            return bad(self, format!("`{t}`: wildcards are not allowed in principal ARNs; use \"*\" with a condition on `aws:PrincipalArn`"));
        }
        match crate::arn::Arn::parse(t) {
            Some(a) if a.service == "iam" && a.resource == "root" => {
                Some(PrincipalEntry::Account(a.account.to_owned()))
            }
            Some(a) if !a.account.is_empty() && (a.service == "iam" || a.service == "sts") => {
                Some(PrincipalEntry::Arn(t.to_owned()))
            }
            _ => bad(
                self,
                format!("`{t}` is not an account id or an IAM/STS principal ARN"),
            ),
        }
    }

    pub(super) fn actions(
        &mut self,
        v: &Value<'_>,
        path: &str,
        negated: bool,
    ) -> Option<ActionSpec> {
        let values = self.strings(v, path)?;
        let mut patterns = Vec::with_capacity(values.len());
        let mut raw = Vec::with_capacity(values.len());
        let mut ok = true;
        for s in values {
            let t = s.text.as_str();
            let valid = t == "*"
                || match t.split_once(':') {
                    Some((svc, name)) => {
                        !svc.is_empty()
                            && svc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                            && !name.is_empty()
                            && !name.contains(':')
                    }
                    None => false,
                };
            if !valid {
                self.errors.push(PolicyError {
                    kind: K::InvalidValue,
                    path: s.path.clone(),
                    message: format!("`{t}` is not an action; expected `service:Action` (wildcards allowed in the action name) or \"*\""),
                    location: Some(self.loc(s.start, s.end)),
                });
                ok = false;
                continue;
            }
            patterns.push(Pattern::new(&t.to_ascii_lowercase()));
            raw.push(s.text);
        }
        ok.then_some(ActionSpec {
            negated,
            patterns,
            raw,
        })
    }

    pub(super) fn resources(
        &mut self,
        v: &Value<'_>,
        path: &str,
        negated: bool,
        variables: bool,
    ) -> Option<ResourceSpec> {
        let values = self.strings(v, path)?;
        let mut patterns = Vec::with_capacity(values.len());
        let mut raw = Vec::with_capacity(values.len());
        let mut ok = true;
        for s in values {
            let t = s.text.as_str();
            if !ArnPattern::is_valid_text(t) {
                self.errors.push(PolicyError {
                    kind: K::InvalidValue,
                    path: s.path.clone(),
                    message: format!("`{t}` is not a resource ARN; expected `arn:partition:service:region:account:resource` or \"*\""),
                    location: Some(self.loc(s.start, s.end)),
                });
                ok = false;
                continue;
            }
            let pattern = match variables.then(|| Template::parse(t)).flatten() {
                Some(tpl) => ResourcePattern::Template(tpl),
                None => ResourcePattern::Static(ArnPattern::new(t)),
            };
            patterns.push(pattern);
            raw.push(s.text);
        }
        ok.then_some(ResourceSpec {
            negated,
            patterns,
            raw,
        })
    }

    pub(super) fn conditions(
        &mut self,
        v: &Value<'_>,
        path: &str,
        variables: bool,
    ) -> Vec<Condition> {
        let mut out = Vec::new();
        let Some(obj) = self.expect_object(v, path) else {
            return out;
        };
        for op in self.props(obj, path) {
            let op_name = op.name.as_str();
            let op_path = join(path, op_name);
            let Some(keys) = self.expect_object(&op.value, &op_path) else {
                continue;
            };
            if keys.properties.is_empty() {
                self.err(
                    K::MissingElement,
                    &op_path,
                    keys,
                    format!("`{op_name}` names no condition key"),
                );
            }
            // Keys differing only in case are the same key to AWS.
            let mut seen_lower = HashSet::new();
            for k in self.props(keys, &op_path) {
                let key = k.name.as_str();
                let key_path = join(&op_path, key);
                if !seen_lower.insert(key.to_lowercase()) {
                    self.err(
                        K::DuplicateElement,
                        &key_path,
                        &k.name,
                        format!("condition key `{key}` appears more than once under `{op_name}` (key names are case-insensitive)"),
                    );
                    continue;
                }
                let Some(texts) = self.condition_values(&k.value, &key_path) else {
                    continue;
                };
                // Values of the wrong shape for the operator are no error (IAM accepts them; `iamlet
                // lint` warns): only an unknown operator or an empty list of values is.
                match Condition::build(op_name, key, texts, variables) {
                    Ok(c) => out.push(c),
                    Err(e) if e.unknown_operator => {
                        self.err(K::UnknownOperator, &op_path, &op.name, e.message)
                    }
                    Err(e) => self.err(K::InvalidValue, &key_path, &k.value, e.message),
                }
            }
        }
        out
    }

    /// Condition values: strings, numbers or booleans, alone or in an array; kept as text.
    fn condition_values(&mut self, v: &Value<'_>, path: &str) -> Option<Vec<String>> {
        let scalar = |w: &mut Self, v: &Value<'_>, p: &str| -> Option<String> {
            match v {
                Value::StringLit(s) => Some(s.value.to_string()),
                Value::NumberLit(n) => Some(n.value.to_owned()),
                Value::BooleanLit(b) => Some(b.value.to_string()),
                other => {
                    w.err(
                        K::InvalidValue,
                        p,
                        other,
                        format!(
                            "expected a string, number or boolean, found {}",
                            kind_name(other)
                        ),
                    );
                    None
                }
            }
        };
        match v {
            Value::Array(arr) => {
                let mut out = Vec::with_capacity(arr.elements.len());
                let mut ok = true;
                for (i, e) in arr.elements.iter().enumerate() {
                    match scalar(self, e, &format!("{path}[{i}]")) {
                        Some(x) => out.push(x),
                        None => ok = false,
                    }
                }
                ok.then_some(out)
            }
            other => scalar(self, other, path).map(|x| vec![x]),
        }
    }
}
