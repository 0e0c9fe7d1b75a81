//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, and the escapes `${*}`,
//! `${?}`, `${$}`.
//!
//! AWS substitutes variables in `Resource`/`NotResource` and in condition values, and only under
//! `"Version": "2012-10-17"`; elsewhere `${…}` is literal text. A variable whose key is absent from the
//! request (and has no default) cannot be resolved: the resource entry or condition value holding it
//! then matches nothing. Multivalued keys cannot be used as variables.

use crate::context::Context;
use crate::pattern::{tokenize, Token};

/// Text with variables, parsed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// Text as written (wildcards in it stay wildcards in patterns).
    Text(String),
    /// A character produced by `${*}`, `${?}` or `${$}`: always literal.
    Escaped(char),
    /// A request-context key, lower-cased, with an optional default.
    Var {
        key: String,
        name: String,
        default: Option<String>,
    },
}

impl Template {
    /// Parses text; `None` when it holds no variable (the caller keeps the plain text).
    pub(crate) fn parse(text: &str) -> Option<Template> {
        if !text.contains("${") {
            return None;
        }
        let mut parts = Vec::new();
        let mut text_buf = String::new();
        let mut rest = text;
        let mut any = false;
        while let Some(start) = rest.find("${") {
            let (before, after) = rest.split_at(start);
            text_buf.push_str(before);
            let inner_and_more = &after[2..];
            let Some(close) = inner_and_more.find('}') else {
                // Unterminated: literal text.
                text_buf.push_str(after);
                rest = "";
                break;
            };
            let inner = &inner_and_more[..close];
            rest = &inner_and_more[close + 1..];
            let part = match inner {
                "*" => Part::Escaped('*'),
                "?" => Part::Escaped('?'),
                "$" => Part::Escaped('$'),
                _ => match parse_var(inner) {
                    Some(p) => p,
                    None => {
                        text_buf.push_str("${");
                        text_buf.push_str(inner);
                        text_buf.push('}');
                        continue;
                    }
                },
            };
            any = true;
            if !text_buf.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text_buf)));
            }
            parts.push(part);
        }
        text_buf.push_str(rest);
        if !text_buf.is_empty() {
            parts.push(Part::Text(text_buf));
        }
        any.then_some(Template { parts })
    }

    /// The variable names the template uses, as written.
    pub(crate) fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var { name, .. } => Some(name.as_str()),
            _ => None,
        })
    }

    /// Resolves to plain text (wildcards in written text stay as characters).
    pub(crate) fn render(&self, ctx: &Context<'_>) -> Result<String, Unresolved> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Escaped(c) => out.push(*c),
                Part::Var { .. } => out.push_str(&resolve(p, ctx)?),
            }
        }
        Ok(out)
    }

    /// Resolves to pattern tokens: written text keeps its wildcards, substituted values are literal.
    pub(crate) fn tokens(&self, ctx: &Context<'_>) -> Result<Vec<Token>, Unresolved> {
        let mut out = Vec::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.extend(tokenize(t)),
                Part::Escaped(c) => out.push(Token::Lit(c.to_string())),
                Part::Var { .. } => out.push(Token::Lit(resolve(p, ctx)?)),
            }
        }
        Ok(out)
    }
}

/// A variable with no value in the request and no default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unresolved {
    pub(crate) variable: String,
    pub(crate) multivalued: bool,
}

fn resolve(part: &Part, ctx: &Context<'_>) -> Result<String, Unresolved> {
    let Part::Var { key, name, default } = part else {
        return Ok(String::new());
    };
    match ctx.get(key) {
        Some(v) if v.is_multi() => Err(Unresolved {
            variable: name.clone(),
            multivalued: true,
        }),
        Some(v) => match v.values().first() {
            Some(s) => Ok(s.clone()),
            None => default.clone().ok_or_else(|| Unresolved {
                variable: name.clone(),
                multivalued: false,
            }),
        },
        None => default.clone().ok_or_else(|| Unresolved {
            variable: name.clone(),
            multivalued: false,
        }),
    }
}

/// `key` or `key, 'default'` (spaces around the comma allowed).
fn parse_var(inner: &str) -> Option<Part> {
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (k.trim(), Some(d.to_owned()))
        }
        None => (inner.trim(), None),
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    Some(Part::Var {
        key: key.to_lowercase(),
        name: key.to_owned(),
        default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ContextMap;

    #[test]
    fn parses_and_renders() {
        let mut map = ContextMap::default();
        map.insert("aws:username", "alice");
        map.insert("aws:TagKeys", vec!["a".to_string(), "b".to_string()]);
        let ctx = Context::new(&map, &[]);
        let t = Template::parse("home/${aws:username}/*").unwrap();
        assert_eq!(t.render(&ctx).unwrap(), "home/alice/*");
        let t = Template::parse("${aws:PrincipalTag/team, 'none'}-${*}${?}${$}").unwrap();
        assert_eq!(t.render(&ctx).unwrap(), "none-*?$");
        let t = Template::parse("x/${aws:userid}").unwrap();
        assert!(t.render(&ctx).is_err());
        let t = Template::parse("${aws:TagKeys}").unwrap();
        assert!(t.render(&ctx).unwrap_err().multivalued);
        assert!(Template::parse("no variables").is_none());
        assert!(Template::parse("${unterminated").is_none());
    }

    #[test]
    fn escapes_are_literal_in_patterns() {
        let map = ContextMap::default();
        let ctx = Context::new(&map, &[]);
        let t = Template::parse("a${*}b*").unwrap();
        let toks = t.tokens(&ctx).unwrap();
        let p = crate::pattern::Pattern::from_tokens(&toks);
        assert!(p.matches("a*bzz"));
        assert!(!p.matches("axbzz"));
    }
}
