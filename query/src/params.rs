//! A request's parameters: the query string's and the form body's.

use std::collections::HashMap;

/// A request's parameters.
#[derive(Clone, Debug, Default)]
pub struct Params(HashMap<String, String>);

/// A parameter given twice: refused by [`Params::parse_unique`], so that what is authorized and
/// what is done can never be two different values of one name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateParameter(pub String);

impl Params {
    /// The query string's and the form body's parameters (the body's win).
    pub fn parse(query: &str, body: &[u8]) -> Params {
        let mut map: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        map.extend(form_urlencoded::parse(body).into_owned());
        Params(map)
    }

    /// The parameters, refusing any name given twice (in the query, the body, or across both).
    pub fn parse_unique(query: &str, body: &[u8]) -> Result<Params, DuplicateParameter> {
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes())
            .chain(form_urlencoded::parse(body))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
        {
            if map.contains_key(&k) {
                return Err(DuplicateParameter(k));
            }
            map.insert(k, v);
        }
        Ok(Params(map))
    }

    /// Parameters from pairs (tests, and callers building a request).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Params {
        Params(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// A parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Every parameter, in no order (for logs, which redact what they must).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `Name.member.1{suffix}`, `Name.member.2{suffix}`, … until one is missing.
    pub fn members(&self, name: &str, suffix: &str) -> Vec<&str> {
        (1..)
            .map_while(|i| self.get(&format!("{name}.member.{i}{suffix}")))
            .collect()
    }

    /// How many `Name.member.N…` parameters there are, numbered or not in sequence: a list with a
    /// gap (`member.1`, `member.3`) is refused by callers rather than cut short silently.
    pub fn member_count(&self, name: &str) -> usize {
        let prefix = format!("{name}.member.");
        let mut numbers: Vec<&str> = self
            .0
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('.').next().unwrap_or_default())
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers.len()
    }
}

/// `UserName` → `userName`, as AWS's validation messages name parameters.
pub fn lower_first(name: &str) -> String {
    let mut c = name.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_body_both_count() {
        let p = Params::parse("Action=GetCallerIdentity", b"Version=2011-06-15");
        assert_eq!(p.get("Action"), Some("GetCallerIdentity"));
        assert_eq!(p.get("Version"), Some("2011-06-15"));
    }

    #[test]
    fn duplicates_are_refused_when_asked() {
        assert_eq!(
            Params::parse_unique("UserName=a", b"UserName=b").unwrap_err(),
            DuplicateParameter("UserName".into())
        );
        assert_eq!(
            Params::parse_unique("", b"UserName=a&UserName=a").unwrap_err(),
            DuplicateParameter("UserName".into())
        );
        let p = Params::parse_unique("Action=ListUsers", b"PathPrefix=%2Fops%2F").unwrap();
        assert_eq!(p.get("PathPrefix"), Some("/ops/"));
    }

    #[test]
    fn members_in_order_and_counted() {
        let p = Params::parse(
            "",
            b"Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.4.Key=d",
        );
        assert_eq!(p.members("Tags", ".Key"), vec!["a", "b"]);
        assert_eq!(p.member_count("Tags"), 3);
        assert_eq!(lower_first("UserName"), "userName");
    }
}
