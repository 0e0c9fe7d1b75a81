//! Reading a SAML 2.0 `Response` for `AssumeRoleWithSAML`: parsed once (no DTD, a node limit), its
//! structure pinned down so that the element read is the element signed, its signature(s) checked
//! with the provider's certificates ([`dsig`], over [`c14n`]), then the assertion's conditions.
//!
//! Against signature wrapping, the document must hold exactly one `saml:Assertion`, as a child of
//! the `Response` root; every `ID` in the document is unique; every `ds:Signature` is a child of the
//! `Response` or of that assertion and must verify; at least one is present (on the `Response`, it
//! covers the assertion inside it). Text that is read (the `NameID`, attribute values, the issuer)
//! must be text only: a comment or markup inside is refused, as a comment splits what the signature
//! covers (`user@evil.com<!---->.good.com`) from what a naive reader reads.

mod c14n;
mod dsig;

use iamlet_account::saml::{decode_base64, SamlMetadata};
use iamlet_account::xml::{nested_within, MAX_XML_DEPTH};
use roxmltree::Node;

const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const NAMEID_PREFIX: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:";
/// SAML's default `NameID` format.
const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.0:nameid-format:unspecified";
/// Clock skew tolerated on the assertion's times.
pub(crate) const SKEW_SECONDS: i64 = 300;
/// The most nodes a response may have (a few hundred is typical).
const MAX_NODES: u32 = 20_000;
/// Why an assertion is refused, by STS error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// `InvalidIdentityToken`: not a valid, signed assertion for this provider and AWS.
    Invalid(String),
    /// `ExpiredTokenException`.
    Expired(String),
    /// `IDPRejectedClaim`: the IdP's own status says authentication failed.
    Rejected(String),
}

fn invalid(why: impl Into<String>) -> Rejection {
    Rejection::Invalid(why.into())
}

/// What STS uses of a verified assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Assertion {
    /// The `Issuer` (the provider's entityID).
    pub(crate) issuer: String,
    /// The `NameID`.
    pub(crate) subject: String,
    /// Its `Format`, without `urn:oasis:names:tc:SAML:2.0:nameid-format:` (`persistent`,
    /// `transient`), or the whole URI of another format.
    pub(crate) subject_type: String,
    /// The `Recipient` of the bearer `SubjectConfirmationData` (`saml:aud`).
    pub(crate) recipient: String,
    /// `AuthnStatement/@SessionNotOnOrAfter`.
    pub(crate) session_not_on_or_after: Option<i64>,
    /// The attributes, by `Name`, with their values in order.
    pub(crate) attributes: Vec<(String, Vec<String>)>,
}

impl Assertion {
    /// The values of the attribute with this name.
    pub(crate) fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Whether `url` is a sign-in endpoint AWS accepts as the assertion's `Recipient`:
/// `https://signin.aws.amazon.com/saml` (or `…/static/saml`), its regional forms, GovCloud's and
/// China's.
pub(crate) fn is_aws_recipient(url: &str) -> bool {
    if matches!(
        url,
        "https://signin.aws.amazon.com/saml"
            | "https://signin.aws.amazon.com/static/saml"
            | "https://signin.amazonaws-us-gov.com/saml"
            | "https://signin.amazonaws.cn/saml"
    ) {
        return true;
    }
    url.strip_prefix("https://")
        .and_then(|r| r.strip_suffix(".signin.aws.amazon.com/saml"))
        .is_some_and(|region| {
            !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Who the assertion may be for besides AWS: the audiences (service-provider entity IDs) and
/// recipients (ACS URLs) of `[sts] saml_audiences` / `saml_recipients`, for IdPs configured with
/// Iamlet as a service provider of its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ServiceProvider {
    pub(crate) audiences: Vec<String>,
    pub(crate) recipients: Vec<String>,
}

impl ServiceProvider {
    fn accepts_audience(&self, aud: &str) -> bool {
        is_aws_audience(aud) || self.audiences.iter().any(|a| a == aud)
    }

    fn accepts_recipient(&self, url: &str) -> bool {
        is_aws_recipient(url) || self.recipients.iter().any(|r| r == url)
    }
}

/// Whether `aud` is an audience AWS accepts.
fn is_aws_audience(aud: &str) -> bool {
    aud == "urn:amazon:webservices" || is_aws_recipient(aud)
}

fn time(node: Node<'_, '_>, attr: &str) -> Result<Option<i64>, Rejection> {
    match node.attribute(attr) {
        None => Ok(None),
        Some(v) => chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.timestamp()))
            .map_err(|_| invalid(format!("{attr} `{v}` is not an xs:dateTime"))),
    }
}

/// The text of an element that must hold text only.
fn text_of(node: Node<'_, '_>) -> Result<String, Rejection> {
    let mut out = String::new();
    for c in node.children() {
        if c.is_text() {
            out.push_str(c.text().unwrap_or_default());
        } else {
            return Err(invalid(format!(
                "{} holds a comment or markup where only text is accepted",
                node.tag_name().name()
            )));
        }
    }
    Ok(out)
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name((ns, name)))
}

fn only_child<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &str,
    name: &str,
) -> Result<Option<Node<'a, 'i>>, Rejection> {
    let mut it = node.children().filter(|n| n.has_tag_name((ns, name)));
    match (it.next(), it.next()) {
        (one, None) => Ok(one),
        _ => Err(invalid(format!(
            "{} holds more than one {name}",
            node.tag_name().name()
        ))),
    }
}

/// Decodes, verifies and reads `SAMLAssertion` (base64 of a `samlp:Response`) for the provider with
/// this metadata, at `now` (Unix seconds).
pub(crate) fn read(
    encoded: &str,
    metadata: &SamlMetadata,
    sp: &ServiceProvider,
    now: i64,
) -> Result<Assertion, Rejection> {
    let bytes = decode_base64(encoded)
        .ok_or_else(|| invalid("SAMLAssertion is not base64 of a SAML response"))?;
    let text = String::from_utf8(bytes).map_err(|_| invalid("the SAML response is not UTF-8"))?;
    // roxmltree recurses into nested elements (and so does canonicalization): bound the depth
    // before parsing, or a deep document from an unsigned caller would overflow the stack.
    if !nested_within(&text, MAX_XML_DEPTH) {
        return Err(invalid(format!(
            "the SAML response is nested deeper than {MAX_XML_DEPTH} elements"
        )));
    }
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = roxmltree::Document::parse_with_options(&text, opts).map_err(|e| {
        invalid(format!(
            "the SAML response is not well-formed XML without a DTD ({e})"
        ))
    })?;
    if let Some(until) = metadata
        .valid_until
        .as_deref()
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
    {
        if now >= until.timestamp() {
            return Err(invalid(
                "the provider's metadata has expired (its validUntil has passed): update the provider",
            ));
        }
    }
    let response = doc.root_element();
    if !response.has_tag_name((SAMLP, "Response")) {
        return Err(invalid("the document is not a SAML 2.0 protocol Response"));
    }

    // Structure: one assertion, in the Response; unique IDs; signatures only where they belong.
    // A set, not a list: an unsigned caller may send thousands of IDs.
    let mut ids: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut assertions = Vec::new();
    for n in doc.descendants().filter(Node::is_element) {
        for a in n.attributes() {
            if a.namespace().is_none()
                && a.name().eq_ignore_ascii_case("id")
                && !ids.insert(a.value())
            {
                return Err(invalid(format!(
                    "the ID `{}` occurs twice in the response",
                    a.value()
                )));
            }
        }
        if n.has_tag_name((SAML, "Assertion")) {
            assertions.push(n);
        }
        if n.has_tag_name((SAML, "EncryptedAssertion")) {
            return Err(invalid("encrypted assertions are not supported"));
        }
    }
    let assertion = match assertions.as_slice() {
        [one] if one.parent() == Some(response) => *one,
        [_] => return Err(invalid("the assertion is not a child of the Response")),
        [] => return Err(invalid("the response holds no assertion")),
        _ => return Err(invalid("the response holds more than one assertion")),
    };
    let mut signatures = Vec::new();
    for s in doc
        .descendants()
        .filter(|n| n.has_tag_name((dsig::DS, "Signature")))
    {
        match s.parent() {
            Some(p) if p == response || p == assertion => signatures.push((s, p)),
            _ => {
                return Err(invalid(
                    "a signature outside the Response and its assertion (a wrapped document)",
                ))
            }
        }
    }
    if signatures.is_empty() {
        return Err(invalid("the response and its assertion are not signed"));
    }
    for parent in [response, assertion] {
        if signatures.iter().filter(|(_, p)| *p == parent).count() > 1 {
            return Err(invalid(format!(
                "the {} holds more than one signature",
                parent.tag_name().name()
            )));
        }
    }
    for (s, p) in &signatures {
        dsig::verify(*s, *p, &metadata.signing_certificates)
            .map_err(|e| invalid(format!("Response signature invalid: {e}")))?;
    }

    // Status.
    let status = child(response, SAMLP, "Status")
        .and_then(|s| child(s, SAMLP, "StatusCode"))
        .and_then(|c| c.attribute("Value"));
    if status != Some(SUCCESS) {
        return Err(Rejection::Rejected(format!(
            "the identity provider's status is {}",
            status.unwrap_or("missing")
        )));
    }

    // Issuer.
    let issuer = only_child(assertion, SAML, "Issuer")?
        .map(text_of)
        .transpose()?
        .ok_or_else(|| invalid("the assertion has no Issuer"))?;
    if issuer.trim() != metadata.entity_id {
        return Err(invalid(format!(
            "Issuer `{issuer}` is not the provider's entityID `{}`",
            metadata.entity_id
        )));
    }
    if let Some(r) = only_child(response, SAML, "Issuer")? {
        if text_of(r)?.trim() != metadata.entity_id {
            return Err(invalid(
                "the Response's Issuer is not the provider's entityID",
            ));
        }
    }

    // Conditions.
    let conditions = only_child(assertion, SAML, "Conditions")?
        .ok_or_else(|| invalid("the assertion has no Conditions"))?;
    if let Some(nb) = time(conditions, "NotBefore")? {
        if nb > now.saturating_add(SKEW_SECONDS) {
            return Err(invalid("the assertion is not yet valid (NotBefore)"));
        }
    }
    if let Some(na) = time(conditions, "NotOnOrAfter")? {
        if now >= na.saturating_add(SKEW_SECONDS) {
            return Err(Rejection::Expired(
                "Token is expired: the assertion's Conditions NotOnOrAfter has passed".to_owned(),
            ));
        }
    }
    let restrictions: Vec<Node<'_, '_>> = conditions
        .children()
        .filter(|n| n.has_tag_name((SAML, "AudienceRestriction")))
        .collect();
    if restrictions.is_empty() {
        return Err(invalid("the assertion has no AudienceRestriction"));
    }
    for r in restrictions {
        let mut ok = false;
        for a in r.children().filter(|n| n.has_tag_name((SAML, "Audience"))) {
            ok |= sp.accepts_audience(text_of(a)?.trim());
        }
        if !ok {
            return Err(invalid(
                "the assertion's Audience is not https://signin.aws.amazon.com/saml, urn:amazon:webservices or one of [sts] saml_audiences",
            ));
        }
    }

    // Subject.
    let subject = only_child(assertion, SAML, "Subject")?
        .ok_or_else(|| invalid("the assertion has no Subject"))?;
    let name_id = only_child(subject, SAML, "NameID")?
        .ok_or_else(|| invalid("the assertion's Subject has no NameID"))?;
    let subject_value = text_of(name_id)?.trim().to_owned();
    if subject_value.is_empty() {
        return Err(invalid("the NameID is empty"));
    }
    let format = name_id.attribute("Format").unwrap_or(UNSPECIFIED);
    let subject_type = format
        .strip_prefix(NAMEID_PREFIX)
        .unwrap_or(format)
        .to_owned();
    // As AWS documents: exactly one SubjectConfirmation, bearer, whose SubjectConfirmationData
    // has both NotOnOrAfter and a Recipient that is AWS's sign-in endpoint.
    let sc = match subject
        .children()
        .filter(|n| n.has_tag_name((SAML, "SubjectConfirmation")))
        .collect::<Vec<_>>()
        .as_slice()
    {
        [one] => *one,
        _ => {
            return Err(invalid(
                "the Subject must have exactly one SubjectConfirmation",
            ))
        }
    };
    if sc.attribute("Method") != Some(BEARER) {
        return Err(invalid("the SubjectConfirmation's Method is not bearer"));
    }
    let data = only_child(sc, SAML, "SubjectConfirmationData")?
        .ok_or_else(|| invalid("the SubjectConfirmation has no SubjectConfirmationData"))?;
    let recipient = data
        .attribute("Recipient")
        .filter(|r| sp.accepts_recipient(r))
        .ok_or_else(|| {
            invalid("the SubjectConfirmationData's Recipient is not AWS's sign-in endpoint (https://signin.aws.amazon.com/saml)")
        })?
        .to_owned();
    let confirmation_end = time(data, "NotOnOrAfter")?
        .ok_or_else(|| invalid("the SubjectConfirmationData has no NotOnOrAfter"))?;
    if now >= confirmation_end.saturating_add(SKEW_SECONDS) {
        return Err(Rejection::Expired(
            "Token is expired: the SubjectConfirmationData's NotOnOrAfter has passed".to_owned(),
        ));
    }
    if let Some(nb) = time(data, "NotBefore")? {
        if nb > now.saturating_add(SKEW_SECONDS) {
            return Err(invalid("the subject confirmation is not yet valid"));
        }
    }

    let session_not_on_or_after = match only_child(assertion, SAML, "AuthnStatement")? {
        Some(a) => time(a, "SessionNotOnOrAfter")?,
        None => None,
    };
    let mut attributes: Vec<(String, Vec<String>)> = Vec::new();
    for statement in assertion
        .children()
        .filter(|n| n.has_tag_name((SAML, "AttributeStatement")))
    {
        for attr in statement
            .children()
            .filter(|n| n.has_tag_name((SAML, "Attribute")))
        {
            let name = attr
                .attribute("Name")
                .ok_or_else(|| invalid("an Attribute has no Name"))?;
            let mut values = Vec::new();
            for v in attr
                .children()
                .filter(|n| n.has_tag_name((SAML, "AttributeValue")))
            {
                values.push(text_of(v)?.trim().to_owned());
            }
            match attributes.iter_mut().find(|(n, _)| n == name) {
                Some((_, existing)) => existing.extend(values),
                None => attributes.push((name.to_owned(), values)),
            }
        }
    }
    Ok(Assertion {
        issuer: metadata.entity_id.clone(),
        subject: subject_value,
        subject_type,
        recipient,
        session_not_on_or_after,
        attributes,
    })
}

#[cfg(test)]
mod tests;
