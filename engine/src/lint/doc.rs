//! The policy document as the checks see it: each element's text with its JSON path and position,
//! read leniently (a malformed element is left out; the grammar errors report it).

use crate::error::Location;
use crate::policy::parse::json_options;
use jsonc_parser::ast::{Object, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::CollectOptions;

/// A string of the document with where it is.
#[derive(Clone, Debug)]
pub(super) struct Text {
    pub(super) text: String,
    pub(super) path: String,
    pub(super) location: Location,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`.
#[derive(Clone, Debug)]
pub(super) struct List {
    pub(super) negated: bool,
    pub(super) items: Vec<Text>,
    pub(super) path: String,
    pub(super) location: Location,
}

/// One `operator: {key: values}` entry of a `Condition`.
#[derive(Clone, Debug)]
pub(super) struct ConditionEntry {
    pub(super) operator: String,
    pub(super) key: Text,
    /// The values (strings, numbers and booleans as their text), each with its path.
    pub(super) values: Vec<Text>,
}

/// One statement.
#[derive(Clone, Debug)]
pub(super) struct Stmt {
    pub(super) index: usize,
    pub(super) path: String,
    pub(super) location: Location,
    /// `Allow` or `Deny` as written (other values are grammar errors).
    pub(super) effect: Option<String>,
    /// Where the `Effect` value is.
    pub(super) effect_location: Option<Location>,
    pub(super) action: Option<List>,
    pub(super) resource: Option<List>,
    /// `Principal` (not `NotPrincipal`): the public forms `"*"` and `{"AWS": "*"}`.
    pub(super) public_principal: Option<Location>,
    pub(super) conditions: Vec<ConditionEntry>,
    pub(super) has_condition: bool,
    /// The statement without `Sid`, in a canonical form: equal for equal statements.
    pub(super) canonical: String,
}

/// An empty array anywhere in the document.
#[derive(Clone, Debug)]
pub(super) struct Empty {
    pub(super) path: String,
    pub(super) location: Location,
}

#[derive(Clone, Debug)]
pub(super) struct Doc {
    pub(super) version: Option<Text>,
    pub(super) statements: Vec<Stmt>,
    pub(super) empty_arrays: Vec<Empty>,
    pub(super) root: Location,
}

struct Lines<'s> {
    src: &'s str,
    starts: Vec<usize>,
}

impl Lines<'_> {
    fn loc(&self, node: &dyn Ranged) -> Location {
        let r = node.range();
        let idx = self
            .starts
            .partition_point(|&s| s <= r.start)
            .saturating_sub(1);
        let line_start = self.starts.get(idx).copied().unwrap_or(0);
        let column = self
            .src
            .get(line_start..r.start)
            .map_or(0, |s| s.chars().count())
            + 1;
        Location {
            line: idx + 1,
            column,
            start: r.start,
            end: r.end,
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn prop<'a, 'b>(o: &'b Object<'a>, name: &str) -> Option<&'b Value<'a>> {
    o.properties
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| &p.value)
}

/// A canonical text of a value: object members sorted, arrays in order.
fn canonical(v: &Value<'_>, skip_sid: bool) -> String {
    match v {
        Value::Object(o) => {
            let mut members: Vec<String> = o
                .properties
                .iter()
                .filter(|p| !(skip_sid && p.name.as_str() == "Sid"))
                .map(|p| format!("{:?}:{}", p.name.as_str(), canonical(&p.value, false)))
                .collect();
            members.sort();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.elements.iter().map(|e| canonical(e, false)).collect();
            format!("[{}]", items.join(","))
        }
        Value::StringLit(s) => format!("{:?}", s.value),
        Value::NumberLit(n) => n.value.to_owned(),
        Value::BooleanLit(b) => b.value.to_string(),
        Value::NullKeyword(_) => "null".to_owned(),
    }
}

impl Doc {
    /// `None` when the text is not JSON or not an object.
    pub(super) fn read(text: &str) -> Option<Doc> {
        let ast =
            jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &json_options()).ok()?;
        let root = ast.value?;
        let Value::Object(obj) = &root else {
            return None;
        };
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let lines = Lines { src: text, starts };
        let mut doc = Doc {
            version: None,
            statements: Vec::new(),
            empty_arrays: Vec::new(),
            root: lines.loc(&root),
        };
        collect_empty(&root, "", &lines, &mut doc.empty_arrays);
        if let Some(Value::StringLit(s)) = prop(obj, "Version") {
            doc.version = Some(Text {
                text: s.value.to_string(),
                path: "Version".into(),
                location: lines.loc(s),
            });
        }
        match prop(obj, "Statement") {
            Some(Value::Array(a)) => {
                for (i, e) in a.elements.iter().enumerate() {
                    if let Value::Object(o) = e {
                        doc.statements
                            .push(statement(o, e, i, format!("Statement[{i}]"), &lines));
                    }
                }
            }
            Some(v @ Value::Object(o)) => {
                doc.statements
                    .push(statement(o, v, 0, "Statement".into(), &lines));
            }
            _ => {}
        }
        Some(doc)
    }
}

fn collect_empty(v: &Value<'_>, path: &str, lines: &Lines<'_>, out: &mut Vec<Empty>) {
    match v {
        Value::Object(o) => {
            for p in &o.properties {
                collect_empty(&p.value, &join(path, p.name.as_str()), lines, out);
            }
        }
        Value::Array(a) if a.elements.is_empty() => out.push(Empty {
            path: path.to_owned(),
            location: lines.loc(a),
        }),
        Value::Array(a) => {
            for (i, e) in a.elements.iter().enumerate() {
                collect_empty(e, &format!("{path}[{i}]"), lines, out);
            }
        }
        _ => {}
    }
}

fn texts(v: &Value<'_>, path: &str, lines: &Lines<'_>) -> Vec<Text> {
    match v {
        Value::StringLit(s) => vec![Text {
            text: s.value.to_string(),
            path: path.to_owned(),
            location: lines.loc(s),
        }],
        Value::Array(a) => a
            .elements
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e {
                Value::StringLit(s) => Some(Text {
                    text: s.value.to_string(),
                    path: format!("{path}[{i}]"),
                    location: lines.loc(s),
                }),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A condition key's values: a string, number or boolean, or an array of them (as their text; other
/// elements are left out: the grammar errors report them).
fn condition_values(v: &Value<'_>, path: &str, lines: &Lines<'_>) -> Vec<Text> {
    let scalar = |v: &Value<'_>, path: String| {
        let text = match v {
            Value::StringLit(s) => s.value.to_string(),
            Value::NumberLit(n) => n.value.to_owned(),
            Value::BooleanLit(b) => b.value.to_string(),
            _ => return None,
        };
        Some(Text {
            text,
            path,
            location: lines.loc(v),
        })
    };
    match v {
        Value::Array(a) => a
            .elements
            .iter()
            .enumerate()
            .filter_map(|(i, e)| scalar(e, format!("{path}[{i}]")))
            .collect(),
        other => scalar(other, path.to_owned()).into_iter().collect(),
    }
}

fn list(o: &Object<'_>, name: &str, not: &str, path: &str, lines: &Lines<'_>) -> Option<List> {
    let (negated, key, v) = match (prop(o, name), prop(o, not)) {
        (Some(v), _) => (false, name, v),
        (None, Some(v)) => (true, not, v),
        (None, None) => return None,
    };
    let path = join(path, key);
    Some(List {
        negated,
        items: texts(v, &path, lines),
        location: lines.loc(v),
        path,
    })
}

fn is_star(v: &Value<'_>) -> bool {
    match v {
        Value::StringLit(s) => s.value == "*",
        Value::Array(a) => a.elements.iter().any(is_star),
        _ => false,
    }
}

fn statement(
    o: &Object<'_>,
    node: &Value<'_>,
    index: usize,
    path: String,
    lines: &Lines<'_>,
) -> Stmt {
    let (effect, effect_location) = match prop(o, "Effect") {
        Some(Value::StringLit(s)) => (Some(s.value.to_string()), Some(lines.loc(s))),
        _ => (None, None),
    };
    let public_principal = match prop(o, "Principal") {
        Some(v @ Value::StringLit(_)) if is_star(v) => Some(lines.loc(v)),
        Some(Value::Object(p)) => prop(p, "AWS").filter(|v| is_star(v)).map(|v| lines.loc(v)),
        _ => None,
    };
    let mut conditions = Vec::new();
    let condition = prop(o, "Condition");
    if let Some(Value::Object(c)) = condition {
        for op in &c.properties {
            let op_path = join(&join(&path, "Condition"), op.name.as_str());
            if let Value::Object(keys) = &op.value {
                for k in &keys.properties {
                    let key_path = join(&op_path, k.name.as_str());
                    conditions.push(ConditionEntry {
                        operator: op.name.as_str().to_owned(),
                        values: condition_values(&k.value, &key_path, lines),
                        key: Text {
                            text: k.name.as_str().to_owned(),
                            path: key_path,
                            location: lines.loc(&k.name),
                        },
                    });
                }
            }
        }
    }
    Stmt {
        index,
        location: lines.loc(node),
        effect,
        effect_location,
        action: list(o, "Action", "NotAction", &path, lines),
        resource: list(o, "Resource", "NotResource", &path, lines),
        public_principal,
        has_condition: matches!(condition, Some(Value::Object(c)) if !c.properties.is_empty()),
        conditions,
        canonical: canonical(node, true),
        path,
    }
}
