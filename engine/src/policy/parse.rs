//! From policy JSON text to a [`Policy`]: a strict JSON parse that keeps positions (jsonc-parser with
//! every extension turned off), then a walk over the grammar that collects every error it finds, each
//! with the element's JSON path and line:column.

use super::principal::{PrincipalEntry, PrincipalSpec};
use super::{
    ActionIndex, ActionSpec, Effect, Policy, PolicyType, ResourceSpec, Statement, Version,
};
use crate::error::{Location, PolicyError, PolicyErrorKind as K, PolicyErrors};
use jsonc_parser::ast::{Array, Object, ObjectProp, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions};
use std::collections::HashSet;
use std::sync::Arc;

mod elements;

/// No policy type AWS has comes near this; larger input is refused before parsing.
pub(crate) const MAX_POLICY_BYTES: usize = 256 * 1024;
/// AWS's deepest policy (Condition → operator → key → array) is five levels down.
const MAX_DEPTH: usize = 64;

pub(crate) fn parse_policy(text: &str, policy_type: PolicyType) -> Result<Policy, PolicyErrors> {
    let mut w = Walker::new(text);
    if text.len() > MAX_POLICY_BYTES {
        w.errors.push(PolicyError {
            kind: K::Limit,
            path: String::new(),
            message: format!(
                "the policy is {} bytes; the limit is {} bytes",
                text.len(),
                MAX_POLICY_BYTES
            ),
            location: None,
        });
        return Err(w.finish_err());
    }
    if let Some(at) = too_deep(text) {
        let location = Some(w.loc(at, at + 1));
        w.errors.push(PolicyError {
            kind: K::Limit,
            path: String::new(),
            message: format!("the policy is nested more than {MAX_DEPTH} levels deep"),
            location,
        });
        return Err(w.finish_err());
    }
    let options = json_options();
    let ast = match jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &options) {
        Ok(r) => r,
        Err(e) => {
            let range = e.range();
            w.errors.push(PolicyError {
                kind: K::Syntax,
                path: String::new(),
                message: format!("invalid JSON: {}", lower_first(&e.kind().to_string())),
                location: Some(w.loc(range.start, range.end)),
            });
            return Err(w.finish_err());
        }
    };
    let Some(root) = ast.value else {
        w.errors.push(PolicyError {
            kind: K::Syntax,
            path: String::new(),
            message: "the policy is empty".into(),
            location: None,
        });
        return Err(w.finish_err());
    };
    let policy = w.policy(&root, policy_type);
    match policy {
        Some(p) if w.errors.is_empty() => Ok(p),
        _ => Err(w.finish_err()),
    }
}

/// Strict JSON: what AWS accepts.
pub(crate) fn json_options() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Where the text first opens a bracket (outside strings) more than [`MAX_DEPTH`] levels deep, in one
/// pass: refuses pathological nesting before the recursive parser sees it.
fn too_deep(text: &str) -> Option<usize> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (i, b) in text.bytes().enumerate() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn kind_name(v: &Value<'_>) -> &'static str {
    match v {
        Value::StringLit(_) => "a string",
        Value::NumberLit(_) => "a number",
        Value::BooleanLit(_) => "a boolean",
        Value::Object(_) => "an object",
        Value::Array(_) => "an array",
        Value::NullKeyword(_) => "null",
    }
}

/// A string value with where it came from.
struct Str {
    text: String,
    path: String,
    start: usize,
    end: usize,
}

struct Walker<'s> {
    src: &'s str,
    /// Columns are counted in characters; for ASCII text that is the byte distance.
    ascii: bool,
    line_starts: Vec<usize>,
    errors: Vec<PolicyError>,
}

impl<'s> Walker<'s> {
    fn new(src: &'s str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Walker {
            src,
            ascii: src.is_ascii(),
            line_starts,
            errors: Vec::new(),
        }
    }

    fn finish_err(&mut self) -> PolicyErrors {
        PolicyErrors {
            policy: "policy".into(),
            errors: std::mem::take(&mut self.errors),
        }
    }

    fn loc(&self, start: usize, end: usize) -> Location {
        let line_idx = self
            .line_starts
            .partition_point(|&s| s <= start)
            .saturating_sub(1);
        let line_start = self.line_starts.get(line_idx).copied().unwrap_or(0);
        let column = if self.ascii {
            start.saturating_sub(line_start)
        } else {
            self.src
                .get(line_start..start)
                .map(|s| s.chars().count())
                .unwrap_or(0)
        } + 1;
        Location {
            line: line_idx + 1,
            column,
            start,
            end,
        }
    }

    fn err(&mut self, kind: K, path: &str, node: &dyn Ranged, message: impl Into<String>) {
        let r = node.range();
        let location = Some(self.loc(r.start, r.end));
        self.errors.push(PolicyError {
            kind,
            path: path.to_owned(),
            message: message.into(),
            location,
        });
    }

    fn expect_object<'a, 'b>(&mut self, v: &'b Value<'a>, path: &str) -> Option<&'b Object<'a>> {
        match v {
            Value::Object(o) => Some(o),
            other => {
                self.err(
                    K::InvalidValue,
                    path,
                    other,
                    format!("expected an object, found {}", kind_name(other)),
                );
                None
            }
        }
    }

    /// The properties of an object, refusing duplicates.
    fn props<'a, 'b>(&mut self, o: &'b Object<'a>, path: &str) -> Vec<&'b ObjectProp<'a>> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for p in &o.properties {
            let name = p.name.as_str();
            if !seen.insert(name.to_owned()) {
                let child = join(path, name);
                self.err(
                    K::DuplicateElement,
                    &child,
                    &p.name,
                    format!("`{name}` appears more than once"),
                );
                continue;
            }
            out.push(p);
        }
        out
    }

    fn string(&mut self, v: &Value<'_>, path: &str) -> Option<Str> {
        match v {
            Value::StringLit(s) => Some(Str {
                text: s.value.to_string(),
                path: path.to_owned(),
                start: s.range.start,
                end: s.range.end,
            }),
            other => {
                self.err(
                    K::InvalidValue,
                    path,
                    other,
                    format!("expected a string, found {}", kind_name(other)),
                );
                None
            }
        }
    }

    /// A string or an array of strings, as AWS allows for most elements.
    fn strings(&mut self, v: &Value<'_>, path: &str) -> Option<Vec<Str>> {
        match v {
            Value::StringLit(_) => self.string(v, path).map(|s| vec![s]),
            Value::Array(Array { elements, .. }) => {
                let mut out = Vec::with_capacity(elements.len());
                let mut ok = true;
                for (i, e) in elements.iter().enumerate() {
                    match self.string(e, &format!("{path}[{i}]")) {
                        Some(s) => out.push(s),
                        None => ok = false,
                    }
                }
                ok.then_some(out)
            }
            other => {
                self.err(
                    K::InvalidValue,
                    path,
                    other,
                    format!(
                        "expected a string or an array of strings, found {}",
                        kind_name(other)
                    ),
                );
                None
            }
        }
    }

    fn policy(&mut self, root: &Value<'_>, policy_type: PolicyType) -> Option<Policy> {
        let obj = self.expect_object(root, "")?;
        let mut version = Version::Unspecified;
        let mut id = None;
        let mut statements = None;
        let mut statement_node = None;
        for p in self.props(obj, "") {
            match p.name.as_str() {
                "Version" => {
                    if let Some(s) = self.string(&p.value, "Version") {
                        match s.text.as_str() {
                            "2012-10-17" => version = Version::V2012_10_17,
                            "2008-10-17" => version = Version::V2008_10_17,
                            other => self.err(
                                K::InvalidValue,
                                "Version",
                                &p.value,
                                format!(
                                    "expected \"2012-10-17\" or \"2008-10-17\", found \"{other}\""
                                ),
                            ),
                        }
                    }
                }
                "Id" => id = self.string(&p.value, "Id").map(|s| s.text),
                "Statement" => statement_node = Some(&p.value),
                other => self.err(
                    K::UnknownElement,
                    other,
                    &p.name,
                    format!(
                        "unknown policy element `{other}`; expected `Version`, `Id` or `Statement`"
                    ),
                ),
            }
        }
        let variables = version == Version::V2012_10_17;
        match statement_node {
            None => self.err(
                K::MissingElement,
                "",
                obj,
                "the policy has no `Statement` element",
            ),
            Some(Value::Array(arr)) => {
                let mut out = Vec::with_capacity(arr.elements.len());
                for (i, e) in arr.elements.iter().enumerate() {
                    let path = format!("Statement[{i}]");
                    if let Some(s) = self.statement(e, &path, i, policy_type, variables) {
                        out.push(s);
                    }
                }
                statements = Some(out);
            }
            Some(v @ Value::Object(_)) => {
                statements = self
                    .statement(v, "Statement", 0, policy_type, variables)
                    .map(|s| vec![s]);
            }
            Some(other) => self.err(
                K::InvalidValue,
                "Statement",
                other,
                format!(
                    "expected an object or an array of objects, found {}",
                    kind_name(other)
                ),
            ),
        }
        let statements = statements?;
        Some(Policy {
            name: id.clone().unwrap_or_else(|| "policy".to_owned()),
            policy_type,
            version,
            id,
            index: Arc::new(ActionIndex::build(&statements)),
            statements: statements.into(),
            source: Arc::from(self.src),
        })
    }

    fn statement(
        &mut self,
        v: &Value<'_>,
        path: &str,
        index: usize,
        policy_type: PolicyType,
        variables: bool,
    ) -> Option<Statement> {
        let obj = self.expect_object(v, path)?;
        let errors_before = self.errors.len();
        let mut sid = None;
        let mut effect = None;
        let mut principal: Option<PrincipalSpec> = None;
        let mut action: Option<ActionSpec> = None;
        let mut resource: Option<ResourceSpec> = None;
        let mut conditions = Vec::new();
        let mut seen_principal: Option<&str> = None;
        let mut seen_action: Option<&str> = None;
        let mut seen_resource: Option<&str> = None;
        for p in self.props(obj, path) {
            let name = p.name.as_str();
            let child = join(path, name);
            match name {
                "Sid" => sid = self.string(&p.value, &child).map(|s| s.text),
                "Effect" => {
                    if let Some(s) = self.string(&p.value, &child) {
                        match s.text.as_str() {
                            "Allow" => effect = Some(Effect::Allow),
                            "Deny" => effect = Some(Effect::Deny),
                            other => self.err(
                                K::InvalidValue,
                                &child,
                                &p.value,
                                format!("expected \"Allow\" or \"Deny\", found \"{other}\""),
                            ),
                        }
                    }
                }
                "Principal" | "NotPrincipal" => {
                    if let Some(prev) = seen_principal.replace(name) {
                        self.conflict(&child, &p.name, prev, name);
                    }
                    principal = self.principal(&p.value, &child, name == "NotPrincipal");
                }
                "Action" | "NotAction" => {
                    if let Some(prev) = seen_action.replace(name) {
                        self.conflict(&child, &p.name, prev, name);
                    }
                    action = self.actions(&p.value, &child, name == "NotAction");
                }
                "Resource" | "NotResource" => {
                    if let Some(prev) = seen_resource.replace(name) {
                        self.conflict(&child, &p.name, prev, name);
                    }
                    resource = self.resources(&p.value, &child, name == "NotResource", variables);
                }
                "Condition" => {
                    conditions = self.conditions(&p.value, &child, variables);
                }
                other => self.err(
                    K::UnknownElement,
                    &child,
                    &p.name,
                    format!("unknown statement element `{other}`; expected `Sid`, `Effect`, `Principal`, `NotPrincipal`, `Action`, `NotAction`, `Resource`, `NotResource` or `Condition`"),
                ),
            }
        }
        if seen_action.is_none() {
            self.err(
                K::MissingElement,
                path,
                obj,
                "the statement has neither `Action` nor `NotAction`",
            );
        }
        let effect_missing = !obj.properties.iter().any(|p| p.name.as_str() == "Effect");
        if effect_missing {
            self.err(
                K::MissingElement,
                path,
                obj,
                "the statement has no `Effect`",
            );
        }
        let label = policy_type.label();
        match (policy_type, seen_principal) {
            (PolicyType::Resource | PolicyType::Trust | PolicyType::Rcp, None) => self.err(
                K::MissingElement,
                path,
                obj,
                format!("a statement of a {label} needs `Principal` or `NotPrincipal`"),
            ),
            (
                PolicyType::Identity | PolicyType::Boundary | PolicyType::Scp | PolicyType::Session,
                Some(el),
            ) => self.err(
                K::ConflictingElements,
                &join(path, el),
                obj,
                format!(
                    "a {label} cannot have `{el}`; it applies to the identity it is attached to"
                ),
            ),
            (PolicyType::Rcp, Some(el)) => {
                let everyone = principal
                    .as_ref()
                    .is_some_and(|p| !p.negated && p.entries == [PrincipalEntry::Everyone]);
                if !everyone {
                    self.err(
                        K::InvalidValue,
                        &join(path, el),
                        obj,
                        "a resource control policy's principal must be \"*\"",
                    );
                }
            }
            _ => {}
        }
        match (policy_type, seen_resource) {
            (PolicyType::Trust, Some(el)) => self.err(
                K::ConflictingElements,
                &join(path, el),
                obj,
                format!("a trust policy cannot have `{el}`; its resource is the role"),
            ),
            (PolicyType::Trust, None) | (_, Some(_)) => {}
            (_, None) => self.err(
                K::MissingElement,
                path,
                obj,
                "the statement has neither `Resource` nor `NotResource`",
            ),
        }
        if self.errors.len() > errors_before {
            return None;
        }
        let r = obj.range;
        Some(Statement {
            index,
            sid,
            effect: effect?,
            principal,
            action: action?,
            resource,
            conditions,
            location: Some(self.loc(r.start, r.end)),
        })
    }

    fn conflict(&mut self, path: &str, node: &dyn Ranged, a: &str, b: &str) {
        let msg = if a == b {
            format!("`{a}` appears more than once")
        } else {
            format!("a statement cannot have both `{a}` and `{b}`")
        };
        self.err(K::ConflictingElements, path, node, msg);
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ResourcePattern;

    fn errs(text: &str, t: PolicyType) -> Vec<String> {
        parse_policy(text, t)
            .unwrap_err()
            .errors
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn parses_a_policy() {
        let p = parse_policy(
            r#"{"Version":"2012-10-17","Statement":{"Sid":"A","Effect":"Allow","Action":"s3:Get*","Resource":["arn:aws:s3:::b/${aws:username}/*","*"],"Condition":{"Bool":{"aws:MultiFactorAuthPresent":true}}}}"#,
            PolicyType::Identity,
        )
        .unwrap();
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.version, Version::V2012_10_17);
        let s = &p.statements[0];
        assert_eq!(s.sid.as_deref(), Some("A"));
        assert!(matches!(
            s.resource.as_ref().unwrap().patterns[0],
            ResourcePattern::Template(_)
        ));
        assert_eq!(s.conditions.len(), 1);
    }

    #[test]
    fn errors_name_path_and_position() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"},\n    {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"},\n    {\"Effect\": \"allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}\n  ]\n}";
        let e = errs(text, PolicyType::Identity);
        assert_eq!(
            e,
            ["6:16: Statement[2].Effect: expected \"Allow\" or \"Deny\", found \"allow\""]
        );
    }

    #[test]
    fn reports_several_errors() {
        let e = errs(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3GetObject","Resource":"bucket"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEqual":{"a":"b"}, "NumericLessThan":{"n":"ten"}}}]}"#,
            PolicyType::Identity,
        );
        // `ten` for `NumericLessThan` is no grammar error: IAM accepts it, and it matches nothing.
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].contains("Statement[0].Action: `s3GetObject` is not an action"));
        assert!(e[1].contains("Statement[0].Resource: `bucket` is not a resource ARN"));
        assert!(e[2].contains("unknown condition operator `StringEqual`"));
    }

    #[test]
    fn policy_type_rules() {
        let with_principal =
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#;
        assert!(errs(with_principal, PolicyType::Identity)[0].contains("cannot have `Principal`"));
        assert!(parse_policy(with_principal, PolicyType::Resource).is_ok());
        let no_principal = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        assert!(errs(no_principal, PolicyType::Resource)[0].contains("needs `Principal`"));
        let trust = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
        assert!(parse_policy(trust, PolicyType::Trust).is_ok());
        let rcp = r#"{"Statement":{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}}"#;
        assert!(errs(rcp, PolicyType::Rcp)[0].contains("must be \"*\""));
    }

    #[test]
    fn nesting_is_refused_before_the_recursive_parser() {
        let arrays = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        // At the limit the parser runs, and finds that this is no policy.
        let e = parse_policy(&arrays(MAX_DEPTH), PolicyType::Identity).unwrap_err();
        assert_eq!(e.errors[0].kind, K::InvalidValue, "{e}");
        // One level more is refused, at the bracket that goes too deep.
        let e = parse_policy(&arrays(MAX_DEPTH + 1), PolicyType::Identity).unwrap_err();
        assert_eq!(e.errors.len(), 1);
        assert_eq!(e.errors[0].kind, K::Limit);
        assert_eq!(
            e.errors[0].to_string(),
            format!(
                "1:{}: the policy is nested more than {MAX_DEPTH} levels deep",
                MAX_DEPTH + 1
            )
        );
        // 100,000 levels of arrays (40,000 of objects, within the size limit), far beyond what any
        // stack would survive: the same answer, from the one pass over the bytes.
        let objects = format!("{}1{}", r#"{"a":"#.repeat(40_000), "}".repeat(40_000));
        for (deep, at) in [(arrays(100_000), MAX_DEPTH), (objects, MAX_DEPTH * 5)] {
            assert!(deep.len() <= MAX_POLICY_BYTES);
            let e = parse_policy(&deep, PolicyType::Identity).unwrap_err();
            assert_eq!(e.errors[0].kind, K::Limit);
            assert_eq!(e.errors[0].location.map(|l| l.start), Some(at));
        }
        // Past the size limit nothing is parsed at all.
        let e = parse_policy(&arrays(MAX_POLICY_BYTES), PolicyType::Identity).unwrap_err();
        assert_eq!(
            e.errors[0].to_string(),
            format!(
                "the policy is {} bytes; the limit is {MAX_POLICY_BYTES} bytes",
                2 * MAX_POLICY_BYTES
            )
        );
        // Brackets in strings, after escaped quotes too, are text.
        let text = format!(
            r#"{{"Statement":{{"Sid":"{}\"{}","Effect":"Allow","Action":"*","Resource":"*"}}}}"#,
            "[".repeat(1000),
            "{".repeat(1000)
        );
        assert_eq!(too_deep(&text), None);
        assert!(parse_policy(&text, PolicyType::Identity).is_ok());
    }

    #[test]
    fn syntax_and_limits() {
        let e = errs("{\"Statement\": [}", PolicyType::Identity);
        assert!(e[0].starts_with("1:"), "{e:?}");
        assert!(e[0].contains("invalid JSON"));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(errs(&deep, PolicyType::Identity)[0].contains("nested"));
        let dup = r#"{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}"#;
        assert!(errs(dup, PolicyType::Identity)[0].contains("more than once"));
        assert!(
            errs("{\"Statement\": [], // c\n}", PolicyType::Identity)[0].contains("invalid JSON")
        );
        let wild = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"*","Resource":"*"}}"#;
        assert!(errs(wild, PolicyType::Resource)[0].contains("wildcards are not allowed"));
    }
}
