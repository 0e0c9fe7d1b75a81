//! A quick, conservative first look at a principal's identity-based policies: which actions some
//! `Allow` statement could cover at all, and which resource names its statements write for a
//! service. The engine decides every request this lets through; this only spares it the ones no
//! statement names.

use iamlet_engine::Policy;
use serde_json::Value;

/// The `Allow` statements' `Action`/`NotAction` and `Resource` patterns.
#[derive(Debug, Default)]
pub(crate) struct ActionFilter {
    statements: Vec<(bool, Vec<String>, Vec<String>)>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

impl ActionFilter {
    /// The filter of these identity-based policies, for the user named `username` (which fills
    /// `${aws:username}`; any other variable stands for anything).
    pub(crate) fn of<'p>(
        policies: impl IntoIterator<Item = &'p Policy>,
        username: Option<&str>,
    ) -> Self {
        let mut out = ActionFilter::default();
        for p in policies {
            let Ok(doc) = serde_json::from_str::<Value>(p.source()) else {
                // Unreadable here but compiled by the engine: let everything through.
                out.statements
                    .push((true, Vec::new(), vec!["*".to_owned()]));
                continue;
            };
            let list = match doc.get("Statement") {
                Some(Value::Array(a)) => a.clone(),
                Some(s @ Value::Object(_)) => vec![s.clone()],
                _ => Vec::new(),
            };
            for s in list {
                if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
                    continue;
                }
                let mut resources: Vec<String> = strings(s.get("Resource"))
                    .iter()
                    .map(|r| without_variables(r, username))
                    .collect();
                if s.get("NotResource").is_some() {
                    resources.push("*".to_owned());
                }
                if s.get("NotAction").is_some() {
                    out.statements
                        .push((true, strings(s.get("NotAction")), resources));
                } else {
                    out.statements
                        .push((false, strings(s.get("Action")), resources));
                }
            }
        }
        out
    }

    /// Whether some `Allow` statement could cover `action` on `resource` (a policy variable in a
    /// statement's resource stands for anything).
    pub(crate) fn may_allow_on(&self, action: &str, resource: &str) -> bool {
        self.statements
            .iter()
            .any(|(negated, patterns, resources)| {
                patterns.iter().any(|p| glob(p, action)) != *negated
                    && resources.iter().any(|r| glob(r, resource))
            })
    }

    /// Whether some `Allow` statement could cover `action`.
    pub(crate) fn may_allow(&self, action: &str) -> bool {
        self.statements.iter().any(|(negated, patterns, _)| {
            let hit = patterns.iter().any(|p| glob(p, action));
            hit != *negated
        })
    }

    /// The resource names written by statements that could cover `action` and whose ARNs are of
    /// its service: names an actor may give what it creates.
    pub(crate) fn resources_for(&self, action: &str) -> Vec<String> {
        let service = action.split(':').next().unwrap_or_default();
        let prefix = format!("arn:aws:{service}:");
        let mut out: Vec<String> = self
            .statements
            .iter()
            .filter(|(negated, patterns, _)| patterns.iter().any(|p| glob(p, action)) != *negated)
            .flat_map(|(_, _, r)| r.iter())
            .filter(|r| r.to_ascii_lowercase().starts_with(&prefix))
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// `${aws:username}` is the user's name; the other variables stand for any text here.
fn without_variables(pattern: &str, username: Option<&str>) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                let name = &rest[start + 2..start + end];
                match username {
                    Some(u) if name.eq_ignore_ascii_case("aws:username") => out.push_str(u),
                    _ => out.push('*'),
                }
                rest = &rest[start + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// IAM's action matching: `*` any run, `?` one character, ASCII case-insensitive (actions are
/// ASCII), without allocating: the search asks this for every class and object.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamlet_engine::PolicyType;

    #[test]
    fn globs_as_iam_matches_actions() {
        assert!(glob("iam:Put*", "iam:PutUserPolicy"));
        assert!(glob("IAM:put?serpolicy", "iam:PutUserPolicy"));
        assert!(glob("*", "sts:AssumeRole"));
        assert!(!glob("iam:Get*", "iam:PutUserPolicy"));
        assert!(!glob("iam:PutUser", "iam:PutUserPolicy"));
    }

    #[test]
    fn the_username_variable_is_the_users_name() {
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateAccessKey",
              "Resource":"arn:aws:iam::1:user/${aws:username}"}]}"#,
            PolicyType::Identity,
        )
        .unwrap();
        let alice = ActionFilter::of([&p], Some("alice"));
        assert!(alice.may_allow_on("iam:CreateAccessKey", "arn:aws:iam::1:user/alice"));
        assert!(!alice.may_allow_on("iam:CreateAccessKey", "arn:aws:iam::1:user/bob"));
        // Without a user name (a role), the variable may be anything: the engine decides.
        let role = ActionFilter::of([&p], None);
        assert!(role.may_allow_on("iam:CreateAccessKey", "arn:aws:iam::1:user/bob"));
    }

    #[test]
    fn not_action_lets_the_rest_through() {
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","NotAction":"iam:*","Resource":"*"},
              {"Effect":"Deny","Action":"lambda:*","Resource":"*"},
              {"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::1:role/x"}]}"#,
            PolicyType::Identity,
        )
        .unwrap();
        let f = ActionFilter::of([&p], None);
        assert!(f.may_allow("lambda:CreateFunction"));
        assert!(f.may_allow("iam:PassRole"));
        assert!(!f.may_allow("iam:PutUserPolicy"));
    }
}
