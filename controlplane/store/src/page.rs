//! Pagination as IAM does it: `MaxItems` (1 to 1000, 100 by default) and an opaque `Marker` that
//! continues where the last page ended; `IsTruncated` says whether there is more.
//!
//! A marker is the hex of the last item's sort key: lists are ordered by it, so the next page is
//! what sorts after it, whatever was created or deleted meanwhile (no item is skipped or repeated).

use crate::error::IamError;
use crate::names::constraint;

/// The page a list call asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    after: Option<String>,
    /// At most this many items.
    pub max_items: usize,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            after: None,
            max_items: 100,
        }
    }
}

/// A page of items and the marker of the next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paged<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts, when there is one (`IsTruncated`).
    pub marker: Option<String>,
}

impl<T> Paged<T> {
    /// Whether more items follow.
    pub fn is_truncated(&self) -> bool {
        self.marker.is_some()
    }

    /// The items, changed one by one.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            marker: self.marker,
        }
    }
}

impl Page {
    /// Reads `Marker` and `MaxItems`.
    pub fn parse(marker: Option<&str>, max_items: Option<&str>) -> Result<Page, IamError> {
        let max_items = match max_items {
            None => 100,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => {
                    return Err(constraint(
                        "MaxItems",
                        v,
                        "Member must have value between 1 and 1000",
                    ))
                }
            },
        };
        let after = match marker {
            None => None,
            Some(m) => Some(decode(m).ok_or_else(|| {
                constraint(
                    "Marker",
                    m,
                    "Member must be a marker a previous call returned",
                )
            })?),
        };
        Ok(Page { after, max_items })
    }

    /// Every item (internal callers that want the whole list).
    pub(crate) fn all() -> Page {
        Page {
            after: None,
            max_items: usize::MAX - 1,
        }
    }

    /// The sort key the page starts after (`""` for the first page: every key sorts after it).
    pub(crate) fn after(&self) -> &str {
        self.after.as_deref().unwrap_or("")
    }

    /// The SQL `LIMIT`: one more than a page, to tell whether the list goes on.
    pub(crate) fn limit(&self) -> i64 {
        i64::try_from(self.max_items.saturating_add(1)).unwrap_or(i64::MAX)
    }

    /// The marker of a page that ends at `key`.
    pub(crate) fn marker_for(key: &str) -> String {
        encode(key)
    }

    /// Cuts the rows fetched with [`Page::limit`] to a page.
    pub(crate) fn cut<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> Paged<T> {
        if rows.len() <= self.max_items {
            return Paged {
                items: rows,
                marker: None,
            };
        }
        rows.truncate(self.max_items);
        let marker = rows.last().map(|r| encode(&key(r)));
        Paged {
            items: rows,
            marker,
        }
    }
}

fn encode(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode(marker: &str) -> Option<String> {
    if marker.is_empty() || !marker.len().is_multiple_of(2) || marker.len() > 640 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..marker.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(marker.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cut_and_continue() {
        let page = Page::parse(None, Some("2")).unwrap();
        let p = page.cut(vec!["a", "b", "c"], |s| (*s).to_owned());
        assert_eq!(p.items, vec!["a", "b"]);
        let next = Page::parse(p.marker.as_deref(), Some("2")).unwrap();
        assert_eq!(next.after(), "b");
        let last = next.cut(vec!["c"], |s| (*s).to_owned());
        assert!(!last.is_truncated());
    }

    #[test]
    fn bad_pages_are_validation_errors() {
        for (m, n) in [
            (None, Some("0")),
            (None, Some("1001")),
            (None, Some("x")),
            (Some("zz"), None),
        ] {
            assert!(Page::parse(m, n).is_err(), "{m:?} {n:?}");
        }
        assert_eq!(Page::parse(None, None).unwrap().max_items, 100);
    }
}
