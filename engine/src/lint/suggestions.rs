//! Suggestions: the policy works, but could be clearer or shorter.

use super::doc::Doc;
use super::{Finding, Severity};
use crate::catalog::Catalog;
use crate::pattern::Pattern;

pub(super) fn check(doc: &Doc, catalog: &Catalog, out: &mut Vec<Finding>) {
    match &doc.version {
        None => out.push(Finding {
            severity: Severity::Suggestion,
            code: "missing_version".into(),
            message: "the policy has no `Version`: policy variables are not substituted and AWS reads it as 2008-10-17".into(),
            path: String::new(),
            location: Some(doc.root),
            fix: Some("add \"Version\": \"2012-10-17\"".into()),
        }),
        Some(v) if v.text == "2008-10-17" => out.push(Finding {
            severity: Severity::Suggestion,
            code: "old_version".into(),
            message: "`Version` 2008-10-17 reads policy variables such as `${aws:username}` as literal text".into(),
            path: v.path.clone(),
            location: Some(v.location),
            fix: Some("use \"2012-10-17\"".into()),
        }),
        Some(_) => {}
    }
    for e in &doc.empty_arrays {
        out.push(Finding {
            severity: Severity::Suggestion,
            code: "empty_array".into(),
            message: "an empty array: the element matches nothing".into(),
            path: e.path.clone(),
            location: Some(e.location),
            fix: Some("remove the element, or list its values".into()),
        });
    }
    for s in &doc.statements {
        let Some(actions) = &s.action else { continue };
        for (i, a) in actions.items.iter().enumerate() {
            let lower = a.text.to_ascii_lowercase();
            let covering = actions.items.iter().enumerate().find(|(j, b)| {
                let other = b.text.to_ascii_lowercase();
                *j != i
                    && (if other == lower {
                        *j < i
                    } else {
                        covers(&other, &lower, catalog)
                    })
            });
            if let Some((_, b)) = covering {
                out.push(Finding {
                    severity: Severity::Suggestion,
                    code: "redundant_action".into(),
                    message: format!("`{}` is already covered by `{}`", a.text, b.text),
                    path: a.path.clone(),
                    location: Some(a.location),
                    fix: Some(format!("remove `{}`", a.text)),
                });
            }
        }
    }
    for (i, s) in doc.statements.iter().enumerate() {
        if let Some(first) = doc
            .statements
            .iter()
            .take(i)
            .find(|t| t.canonical == s.canonical)
        {
            out.push(Finding {
                severity: Severity::Suggestion,
                code: "duplicate_statement".into(),
                message: format!(
                    "the statement repeats statement {} (apart from `Sid`)",
                    first.index
                ),
                path: s.path.clone(),
                location: Some(s.location),
                fix: Some("remove it".into()),
            });
        }
    }
}

/// Whether the action pattern `wide` matches everything `narrow` does: `narrow` is a concrete
/// action it matches, or a wildcard whose every catalog expansion it matches (and which expands to
/// something).
fn covers(wide: &str, narrow: &str, catalog: &Catalog) -> bool {
    let w = Pattern::new(wide);
    if !narrow.contains(['*', '?']) {
        return w.matches(narrow);
    }
    let expanded = catalog.expand(narrow);
    !expanded.is_empty() && expanded.iter().all(|a| w.matches(&a.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use crate::lint::tests::{codes, find};
    use crate::PolicyType::Identity;

    #[test]
    fn version() {
        let none = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
        assert_eq!(codes(none, Identity), vec!["missing_version"]);
        let old = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
        assert_eq!(codes(old, Identity), vec!["old_version"]);
    }

    #[test]
    fn empty_arrays() {
        let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":[]}}}]}"#;
        let f = find(p, Identity, "empty_array");
        assert_eq!(
            f.map(|f| f.path),
            Some("Statement[0].Condition.StringEquals.aws:PrincipalTag/team".to_owned())
        );
    }

    #[test]
    fn redundant_actions_and_statements() {
        let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:GetObject","s3:get*"],"Resource":"*"},{"Sid":"again","Effect":"Allow","Action":["s3:Get*","s3:GetObject","s3:get*"],"Resource":"*"}]}"#;
        let f: Vec<(String, String)> = crate::lint::lint(p, Identity)
            .into_iter()
            .map(|f| (f.code, f.path))
            .collect();
        let expect = |c: &str, p: &str| (c.to_owned(), p.to_owned());
        assert_eq!(
            f,
            vec![
                expect("redundant_action", "Statement[0].Action[1]"),
                expect("redundant_action", "Statement[0].Action[2]"),
                expect("duplicate_statement", "Statement[1]"),
                expect("redundant_action", "Statement[1].Action[1]"),
                expect("redundant_action", "Statement[1].Action[2]"),
            ]
        );
    }
}
