//! Exclusive XML Canonicalization 1.0 (<https://www.w3.org/TR/xml-exc-c14n/>), with and without
//! comments, of one element's subtree of a parsed document, optionally without one descendant
//! (the enveloped-signature transform). Only what XML-DSig over SAML needs: the subtree is a whole
//! element (no XPath node sets), so the rules reduce to: namespace declarations only where visibly
//! used (or named in the `InclusiveNamespaces` prefix list) and not already output by an ancestor
//! with the same value, sorted by prefix; attributes sorted by namespace URI then local name; C14N's
//! escaping; no `xml:*` inheritance (exclusive C14N has none).
//!
//! roxmltree keeps no prefixes, only expanded names, so each element's and attribute's qualified
//! name is read back from the source text at the node's position: the prefix the document used is
//! the prefix the canonical form must carry.

use roxmltree::{Node, NodeType};

/// How to canonicalize.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    /// `…#WithComments`: comments are output; otherwise they are dropped.
    pub(crate) with_comments: bool,
    /// `InclusiveNamespaces/@PrefixList` (`#default` is the default namespace, kept as "").
    pub(crate) inclusive_prefixes: Vec<String>,
    /// A descendant left out with its subtree (the enveloped signature).
    pub(crate) exclude: Option<roxmltree::NodeId>,
}

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The canonical form of `apex` and its subtree.
pub(crate) fn canonicalize(apex: Node<'_, '_>, opts: &Options) -> Result<Vec<u8>, String> {
    let mut out = String::new();
    // (prefix, uri) pairs output by the output ancestors, innermost last.
    let mut rendered: Vec<(String, String)> = Vec::new();
    element(apex, opts, &mut rendered, &mut out)?;
    Ok(out.into_bytes())
}

/// The qualified name at the start of `range` in the source (`<ds:Signature …` → `ds:Signature`).
fn element_qname<'i>(node: Node<'_, 'i>) -> Result<&'i str, String> {
    let text = node.document().input_text();
    let start = node.range().start;
    let rest = text
        .get(start + 1..)
        .ok_or_else(|| "an element's name is out of the document".to_owned())?;
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(rest.len());
    Ok(&rest[..end])
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(p, _)| p)
}

/// The namespace `prefix` ("" for the default) has at `node`, "" when none.
fn in_scope<'a>(node: Node<'a, '_>, prefix: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        Some(node.lookup_namespace_uri(None).unwrap_or(""))
    } else {
        node.lookup_namespace_uri(Some(prefix))
    }
}

fn already(rendered: &[(String, String)], prefix: &str) -> Option<String> {
    rendered
        .iter()
        .rev()
        .find(|(p, _)| p == prefix)
        .map(|(_, u)| u.clone())
}

fn element(
    node: Node<'_, '_>,
    opts: &Options,
    rendered: &mut Vec<(String, String)>,
    out: &mut String,
) -> Result<(), String> {
    let qname = element_qname(node)?;
    let text = node.document().input_text();
    // Visibly utilized prefixes: the element's and its prefixed attributes'.
    let mut used: Vec<String> = vec![prefix_of(qname).to_owned()];
    let mut attrs: Vec<(&str, &str, &str, &str)> = Vec::new(); // (ns uri, local, qname, value)
    for a in node.attributes() {
        let aq = text
            .get(a.range_qname())
            .ok_or_else(|| "an attribute's name is out of the document".to_owned())?;
        let p = prefix_of(aq);
        if !p.is_empty() && p != "xml" && !used.iter().any(|u| u == p) {
            used.push(p.to_owned());
        }
        attrs.push((a.namespace().unwrap_or(""), a.name(), aq, a.value()));
    }
    for p in &opts.inclusive_prefixes {
        if !used.contains(p) && (p.is_empty() || in_scope(node, p).is_some()) {
            used.push(p.clone());
        }
    }
    let mut decls: Vec<(String, String)> = Vec::new();
    for p in used {
        if p == "xml" {
            continue;
        }
        let uri = in_scope(node, &p)
            .ok_or_else(|| format!("the prefix `{p}` has no namespace in scope"))?
            .to_owned();
        let before = already(rendered, &p);
        let emit = if p.is_empty() && uri.is_empty() {
            // xmlns="" only to undo a default namespace an output ancestor declared.
            before.is_some_and(|b| !b.is_empty())
        } else {
            before.as_deref() != Some(uri.as_str())
        };
        if emit {
            decls.push((p, uri));
        }
    }
    decls.sort();
    attrs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

    out.push('<');
    out.push_str(qname);
    for (p, uri) in &decls {
        if p.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(p);
            out.push_str("=\"");
        }
        escape_attr(uri, out);
        out.push('"');
    }
    for (ns, _, aq, value) in &attrs {
        debug_assert!(ns.is_empty() || *ns == XML_NS || aq.contains(':'));
        out.push(' ');
        out.push_str(aq);
        out.push_str("=\"");
        escape_attr(value, out);
        out.push('"');
    }
    out.push('>');
    let depth = rendered.len();
    rendered.extend(decls);
    for child in node.children() {
        if Some(child.id()) == opts.exclude {
            continue;
        }
        match child.node_type() {
            NodeType::Element => element(child, opts, rendered, out)?,
            NodeType::Text => escape_text(child.text().unwrap_or_default(), out),
            NodeType::Comment => {
                if opts.with_comments {
                    out.push_str("<!--");
                    out.push_str(child.text().unwrap_or_default());
                    out.push_str("-->");
                }
            }
            NodeType::PI => {
                if let Some(pi) = child.pi() {
                    out.push_str("<?");
                    out.push_str(pi.target);
                    if let Some(v) = pi.value.filter(|v| !v.is_empty()) {
                        out.push(' ');
                        out.push_str(v);
                    }
                    out.push_str("?>");
                }
            }
            NodeType::Root => {}
        }
    }
    rendered.truncate(depth);
    out.push_str("</");
    out.push_str(qname);
    out.push('>');
    Ok(())
}

fn escape_attr(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_text(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, path: &[&str], opts: &Options) -> String {
        let doc = roxmltree::Document::parse(xml).unwrap();
        let node = doc
            .descendants()
            .find(|n| n.is_element() && path.contains(&n.tag_name().name()))
            .unwrap();
        String::from_utf8(canonicalize(node, opts).unwrap()).unwrap()
    }

    #[test]
    fn namespaces_only_where_visibly_used() {
        let xml = r#"<a:Root xmlns:a="urn:a" xmlns:b="urn:b" xmlns="urn:d"><a:Child b:x="1" z="2"  y="&lt;&#9;"><Plain>t&amp;&gt;</Plain><!--c--></a:Child></a:Root>"#;
        assert_eq!(
            c14n(xml, &["Child"], &Options::default()),
            r#"<a:Child xmlns:a="urn:a" xmlns:b="urn:b" y="&lt;&#x9;" z="2" b:x="1"><Plain xmlns="urn:d">t&amp;&gt;</Plain></a:Child>"#
        );
        let with = Options {
            with_comments: true,
            ..Options::default()
        };
        assert!(c14n(xml, &["Child"], &with).ends_with("</Plain><!--c--></a:Child>"));
    }

    #[test]
    fn inclusive_prefixes_and_default_namespace_undone() {
        let xml = r#"<r xmlns="urn:d" xmlns:xs="urn:xs"><s><e xmlns=""/></s></r>"#;
        let opts = Options {
            inclusive_prefixes: vec!["xs".to_owned()],
            ..Options::default()
        };
        assert_eq!(
            c14n(xml, &["s"], &opts),
            r#"<s xmlns="urn:d" xmlns:xs="urn:xs"><e xmlns=""></e></s>"#
        );
        // Without an output ancestor declaring a default namespace, none is undone.
        assert_eq!(c14n(xml, &["e"], &Options::default()), "<e></e>");
    }

    #[test]
    fn excluded_subtree_is_left_out() {
        let xml = r#"<r ID="x"><k/><ds:S xmlns:ds="urn:ds"><ds:v/></ds:S>text</r>"#;
        let doc = roxmltree::Document::parse(xml).unwrap();
        let s = doc
            .descendants()
            .find(|n| n.tag_name().name() == "S")
            .unwrap();
        let opts = Options {
            exclude: Some(s.id()),
            ..Options::default()
        };
        let out = canonicalize(doc.root_element(), &opts).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"<r ID="x"><k></k>text</r>"#
        );
    }
}
