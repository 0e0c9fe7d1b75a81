//! `Numeric*`: integers and decimals, compared as numbers.

use super::operator::Cmp;

/// Parses a number as AWS accepts it: an optional sign, digits, an optional fraction.
pub(crate) fn parse(text: &str) -> Option<f64> {
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    let valid = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|&c| c == '.').count() <= 1
        && digits.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

pub(crate) fn matches(cmp: Cmp, policy: f64, request: f64) -> bool {
    request
        .partial_cmp(&policy)
        .is_some_and(|ord| cmp.holds(ord))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse("10"), Some(10.0));
        assert_eq!(parse("-1.5"), Some(-1.5));
        assert_eq!(parse("abc"), None);
        assert_eq!(parse("1e5"), None);
        assert_eq!(parse(""), None);
        assert!(matches(Cmp::Lt, 10.0, 9.5));
        assert!(!matches(Cmp::Lt, 10.0, 10.0));
        assert!(matches(Cmp::Le, 10.0, 10.0));
        assert!(matches(Cmp::Eq, 3.0, 3.0));
        assert!(matches(Cmp::Ge, 3.0, 4.0));
    }
}
