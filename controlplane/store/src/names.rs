//! IAM's rules for what callers name things, as typed values: a [`Name`] or [`IamPath`] has been
//! checked once, at the edge, and is then passed around as what it is. Violations are AWS's
//! `ValidationError` messages, naming the parameter as AWS does (`userName`, `path`).

use crate::error::IamError;
use iamlet_query::lower_first;

/// AWS's wording of a broken constraint.
pub(crate) fn constraint(param: &str, value: &str, rule: &str) -> IamError {
    let shown: String = value.chars().take(256).collect();
    IamError::validation(format!(
        "1 validation error detected: Value '{shown}' at '{}' failed to satisfy constraint: {rule}",
        lower_first(param)
    ))
}

/// A missing required parameter.
pub fn missing(param: &str) -> IamError {
    IamError::validation(format!(
        "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
        lower_first(param)
    ))
}

/// The kinds of names IAM gives, with their lengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// `UserName`: 1 to 64.
    User,
    /// `GroupName`: 1 to 128.
    Group,
    /// `RoleName`: 1 to 64.
    Role,
    /// `PolicyName` (managed and inline): 1 to 128.
    Policy,
    /// `InstanceProfileName`: 1 to 128.
    InstanceProfile,
    /// `VirtualMFADeviceName`: 1 to 226.
    MfaDevice,
}

impl NameKind {
    fn max(self) -> usize {
        match self {
            NameKind::User | NameKind::Role => 64,
            NameKind::Group | NameKind::Policy | NameKind::InstanceProfile => 128,
            NameKind::MfaDevice => 226,
        }
    }
}

/// A name as IAM allows it: `[\w+=,.@-]`, of its kind's length. Names are unique without regard to
/// case (`Bob` and `bob` are one user) but keep the case they were created with.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    /// Checks a parameter's value.
    pub fn parse(param: &str, value: &str, kind: NameKind) -> Result<Name, IamError> {
        let max = kind.max();
        let len = value.chars().count();
        if !(1..=max).contains(&len) {
            return Err(constraint(
                param,
                value,
                &format!("Member must have length between 1 and {max}"),
            ));
        }
        if !value.chars().all(is_name_char) {
            return Err(constraint(
                param,
                value,
                "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
            ));
        }
        Ok(Name(value.to_owned()))
    }

    /// A name already in the database (checked when it was stored).
    pub(crate) fn stored(value: String) -> Name {
        Name(value)
    }

    /// The name as created.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What uniqueness compares: the name in lowercase.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// A path: `/`, or `/` segments `/` (`/division/team/`), 1 to 512 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IamPath(String);

impl IamPath {
    /// `/`.
    pub fn root() -> IamPath {
        IamPath("/".to_owned())
    }

    /// Checks a `Path` parameter (absent: `/`).
    pub fn parse(param: &str, value: Option<&str>) -> Result<IamPath, IamError> {
        let Some(value) = value else {
            return Ok(IamPath::root());
        };
        if !(1..=512).contains(&value.len()) {
            return Err(constraint(
                param,
                value,
                "Member must have length between 1 and 512",
            ));
        }
        let printable = value.bytes().all(|b| (0x21..=0x7e).contains(&b));
        // `/`, or `/` + at least one character + `/` (so `//` is not a path, `/a//b/` is).
        let shaped =
            value == "/" || (value.len() >= 3 && value.starts_with('/') && value.ends_with('/'));
        if !printable || !shaped {
            return Err(constraint(
                param,
                value,
                "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
            ));
        }
        Ok(IamPath(value.to_owned()))
    }

    /// Checks a managed policy's `Path` (absent: `/`): `/`, or segments of letters, digits and
    /// `.,+@=_-` each followed by `/`, 1 to 512 characters.
    pub fn parse_policy(param: &str, value: Option<&str>) -> Result<IamPath, IamError> {
        let Some(value) = value else {
            return Ok(IamPath::root());
        };
        check_policy_path(param, value)?;
        Ok(IamPath(value.to_owned()))
    }

    /// A path already in the database.
    pub(crate) fn stored(value: String) -> IamPath {
        IamPath(value)
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A `PathPrefix` filter: `/` and printable ASCII, up to 512 characters; absent lists everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathPrefix(Option<String>);

impl PathPrefix {
    /// Checks a `PathPrefix` parameter.
    pub fn parse(param: &str, value: Option<&str>) -> Result<PathPrefix, IamError> {
        let Some(value) = value else {
            return Ok(PathPrefix(None));
        };
        let ok = (1..=512).contains(&value.len())
            && value.starts_with('/')
            && value.bytes().all(|b| (0x21..=0x7f).contains(&b));
        if !ok {
            return Err(constraint(
                param,
                value,
                "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*",
            ));
        }
        Ok(PathPrefix(Some(value.to_owned())))
    }

    /// Checks the `PathPrefix` of calls that list managed policies: a policy path
    /// ([`IamPath::parse_policy`]).
    pub fn parse_policy(param: &str, value: Option<&str>) -> Result<PathPrefix, IamError> {
        let Some(value) = value else {
            return Ok(PathPrefix(None));
        };
        check_policy_path(param, value)?;
        Ok(PathPrefix(Some(value.to_owned())))
    }

    /// Whether a path is under the prefix.
    pub fn matches(&self, path: &str) -> bool {
        self.0.as_deref().is_none_or(|p| path.starts_with(p))
    }

    /// The prefix, if one was given.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// IAM's pattern for policy paths: `((/[A-Za-z0-9\.,\+@=_-]+)*)/`, 1 to 512 characters.
fn check_policy_path(param: &str, value: &str) -> Result<(), IamError> {
    if !(1..=512).contains(&value.len()) {
        return Err(constraint(
            param,
            value,
            "Member must have length between 1 and 512",
        ));
    }
    let segment = |seg: &str| {
        !seg.is_empty()
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".,+@=_-".contains(c))
    };
    let segments_ok = value == "/"
        || (value.len() > 2
            && value.starts_with('/')
            && value.ends_with('/')
            && value[1..value.len() - 1].split('/').all(segment));
    if !segments_ok {
        return Err(constraint(
            param,
            value,
            "Member must satisfy regular expression pattern: ((/[A-Za-z0-9\\.,\\+@=_-]+)*)/",
        ));
    }
    Ok(())
}

/// A description (roles, managed policies): up to 1000 characters of tab, newlines and printable
/// Latin-1.
pub fn description(param: &str, value: Option<&str>) -> Result<Option<String>, IamError> {
    let Some(value) = value else { return Ok(None) };
    if value.chars().count() > 1000 {
        return Err(constraint(
            param,
            value,
            "Member must have length less than or equal to 1000",
        ));
    }
    let ok = value
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}'));
    if !ok {
        return Err(constraint(
            param,
            value,
            "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// The tags AWS allows on one entity.
pub const MAX_TAGS: usize = 50;

/// A tag: key 1 to 128 and value 0 to 256 characters of letters, digits, spaces and `_.:/=+-@`; keys
/// beginning `aws:` are AWS's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// The key, as given.
    pub key: String,
    /// The value.
    pub value: String,
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

impl Tag {
    /// Checks one tag.
    pub fn parse(key: &str, value: &str) -> Result<Tag, IamError> {
        if !(1..=128).contains(&key.chars().count()) || !key.chars().all(is_tag_char) {
            return Err(constraint(
                "tags.member.key",
                key,
                "Member must have length between 1 and 128 and satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
            ));
        }
        if value.chars().count() > 256 || !value.chars().all(is_tag_char) {
            return Err(constraint(
                "tags.member.value",
                value,
                "Member must have length less than or equal to 256 and satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
            ));
        }
        if key.len() >= 4 && key[..4].eq_ignore_ascii_case("aws:") {
            return Err(IamError::invalid_input(format!(
                "the tag key `{key}` uses the prefix `aws:`, which is reserved for AWS"
            )));
        }
        Ok(Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }

    /// Checks a list of tags: at most fifty, no key twice (keys compare without regard to case).
    pub fn parse_list(pairs: &[(&str, &str)]) -> Result<Vec<Tag>, IamError> {
        if pairs.len() > MAX_TAGS {
            return Err(constraint(
                "tags",
                &format!("{} tags", pairs.len()),
                &format!("Member must have length less than or equal to {MAX_TAGS}"),
            ));
        }
        let mut out: Vec<Tag> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let tag = Tag::parse(k, v)?;
            if out.iter().any(|t| t.key.eq_ignore_ascii_case(&tag.key)) {
                return Err(IamError::invalid_input(format!(
                    "Duplicate tag keys found. Please note that Tag keys are case insensitive: `{k}`"
                )));
            }
            out.push(tag);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn names_follow_iam() {
        assert_eq!(
            Name::parse("UserName", "Bob.Smith+ops@x", NameKind::User)
                .unwrap()
                .key(),
            "bob.smith+ops@x"
        );
        for bad in ["", "has space", "slash/no", "é"] {
            let e = Name::parse("UserName", bad, NameKind::User).unwrap_err();
            assert_eq!(e.code, ErrorCode::ValidationError, "{bad}");
            assert!(e.message.contains("'userName'"), "{e}");
        }
        assert!(Name::parse("UserName", &"a".repeat(64), NameKind::User).is_ok());
        assert!(Name::parse("UserName", &"a".repeat(65), NameKind::User).is_err());
        assert!(Name::parse("GroupName", &"a".repeat(128), NameKind::Group).is_ok());
    }

    #[test]
    fn paths_and_prefixes() {
        assert_eq!(IamPath::parse("Path", None).unwrap().as_str(), "/");
        assert!(IamPath::parse("Path", Some("/division/team/")).is_ok());
        assert!(
            IamPath::parse("Path", Some("/a//b/")).is_ok(),
            "AWS's pattern allows it"
        );
        for bad in ["division/", "/division", "/sp ace/", "", "/é/", "//"] {
            assert!(IamPath::parse("Path", Some(bad)).is_err(), "{bad}");
        }
        let p = PathPrefix::parse("PathPrefix", Some("/division")).unwrap();
        assert!(p.matches("/division/team/"));
        assert!(!p.matches("/other/"));
        assert!(PathPrefix::parse("PathPrefix", Some("x")).is_err());
        assert!(PathPrefix::parse("PathPrefix", None)
            .unwrap()
            .matches("/any/"));
    }

    #[test]
    fn policy_paths() {
        for good in ["/", "/boundaries/", "/a/b.c/", "/job-function/"] {
            assert!(IamPath::parse_policy("Path", Some(good)).is_ok(), "{good}");
            assert!(
                PathPrefix::parse_policy("PathPrefix", Some(good)).is_ok(),
                "{good}"
            );
        }
        for bad in ["", "a/", "/a", "//", "/a//b/", "/sp ace/", "/a*b/"] {
            let e = IamPath::parse_policy("Path", Some(bad)).unwrap_err();
            assert_eq!(e.code, ErrorCode::ValidationError, "{bad}");
        }
    }

    #[test]
    fn tags_are_checked() {
        let t = Tag::parse_list(&[("team", "platform"), ("cost center", "42")]).unwrap();
        assert_eq!(t.len(), 2);
        let e = Tag::parse_list(&[("Team", "a"), ("team", "b")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        let e = Tag::parse_list(&[("aws:foo", "a")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(Tag::parse("k", &"v".repeat(257)).is_err());
        assert!(Tag::parse("k#", "v").is_err());
        let many: Vec<(String, String)> =
            (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        let refs: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert!(Tag::parse_list(&refs).is_err());
    }

    #[test]
    fn descriptions() {
        assert!(description("Description", Some("for CI\n"))
            .unwrap()
            .is_some());
        assert!(description("Description", Some("\u{1}")).is_err());
        assert!(description("Description", Some(&"d".repeat(1001))).is_err());
    }
}
