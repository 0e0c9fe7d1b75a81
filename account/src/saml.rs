//! A SAML 2.0 identity provider's metadata document, as IAM reads it for `CreateSAMLProvider`: the
//! IdP's `entityID` (the `Issuer` its assertions must name), its signing certificates
//! (`IDPSSODescriptor/KeyDescriptor` with `use="signing"` or no `use`) and `validUntil`. Nothing
//! else of the document matters to STS.
//!
//! The parser refuses DTDs (roxmltree's default: no entity expansion, no external fetches).

use crate::xml::{nested_within, MAX_XML_DEPTH};
use base64::Engine as _;

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// What STS needs of a provider's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlMetadata {
    /// `EntityDescriptor/@entityID`: the issuer.
    pub entity_id: String,
    /// The signing certificates, DER.
    pub signing_certificates: Vec<Vec<u8>>,
    /// `validUntil`, as written (an `xs:dateTime`), if the document has one.
    pub valid_until: Option<String>,
}

/// Why a document is not SAML metadata IAM can use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the SAML metadata document is not valid: {0}")]
pub struct MetadataError(pub String);

fn bad(why: impl Into<String>) -> MetadataError {
    MetadataError(why.into())
}

/// Decodes base64 as XML carries it (whitespace and line breaks anywhere).
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()
}

impl SamlMetadata {
    /// Reads a metadata document: an `EntityDescriptor` (or an `EntitiesDescriptor` holding exactly
    /// one) with an `IDPSSODescriptor` and at least one signing certificate.
    pub fn parse(text: &str) -> Result<SamlMetadata, MetadataError> {
        if !nested_within(text, MAX_XML_DEPTH) {
            return Err(bad(format!(
                "its elements nest deeper than {MAX_XML_DEPTH}"
            )));
        }
        let doc = roxmltree::Document::parse(text)
            .map_err(|e| bad(format!("it is not well-formed XML without a DTD ({e})")))?;
        let root = doc.root_element();
        let entity = if root.has_tag_name((MD, "EntityDescriptor")) {
            root
        } else if root.has_tag_name((MD, "EntitiesDescriptor")) {
            let mut found = root
                .children()
                .filter(|n| n.has_tag_name((MD, "EntityDescriptor")));
            match (found.next(), found.next()) {
                (Some(one), None) => one,
                _ => {
                    return Err(bad(
                        "an EntitiesDescriptor must hold exactly one EntityDescriptor",
                    ))
                }
            }
        } else {
            return Err(bad(format!(
                "its root element is {{{}}}{}, not a SAML 2.0 metadata EntityDescriptor",
                root.tag_name().namespace().unwrap_or_default(),
                root.tag_name().name()
            )));
        };
        let entity_id = entity
            .attribute("entityID")
            .filter(|e| !e.trim().is_empty())
            .ok_or_else(|| bad("the EntityDescriptor has no entityID"))?
            .to_owned();
        let idp = entity
            .children()
            .find(|n| n.has_tag_name((MD, "IDPSSODescriptor")))
            .ok_or_else(|| bad("the EntityDescriptor has no IDPSSODescriptor"))?;
        let mut signing_certificates = Vec::new();
        for key in idp
            .children()
            .filter(|n| n.has_tag_name((MD, "KeyDescriptor")))
        {
            if !matches!(key.attribute("use"), None | Some("signing")) {
                continue;
            }
            for cert in key
                .descendants()
                .filter(|n| n.has_tag_name((DS, "X509Certificate")))
            {
                let der = cert
                    .text()
                    .and_then(decode_base64)
                    .filter(|d| d.first() == Some(&0x30))
                    .ok_or_else(|| bad("an X509Certificate is not a base64 DER certificate"))?;
                if !signing_certificates.contains(&der) {
                    signing_certificates.push(der);
                }
            }
        }
        if signing_certificates.is_empty() {
            return Err(bad(
                "the IDPSSODescriptor has no signing certificate (a KeyDescriptor with use=\"signing\" or no use, holding an X509Certificate)",
            ));
        }
        let valid_until = entity
            .attribute("validUntil")
            .or_else(|| root.attribute("validUntil"))
            .map(str::to_owned);
        Ok(SamlMetadata {
            entity_id,
            signing_certificates,
            valid_until,
        })
    }
}

/// A SAML provider's ARN, read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SamlArn<'a> {
    /// `aws`, `aws-cn`…
    pub partition: &'a str,
    /// Twelve digits.
    pub account: &'a str,
    /// The provider's name (`[\w._-]{1,128}`).
    pub name: &'a str,
}

/// Whether `name` is a SAML provider name as IAM allows: `[\w._-]{1,128}`.
pub fn is_provider_name(name: &str) -> bool {
    (1..=128).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Reads `arn:PARTITION:iam::ACCOUNT:saml-provider/NAME`.
pub fn parse_saml_arn(arn: &str) -> Option<SamlArn<'_>> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("iam::")?;
    let (account, name) = rest.split_once(':')?;
    let name = name.strip_prefix("saml-provider/")?;
    (!partition.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && is_provider_name(name))
    .then_some(SamlArn {
        partition,
        account,
        name,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A real self-signed certificate's base64 is not needed: the reader only checks the DER tag.
    pub(crate) fn metadata(entity: &str, keys: &str) -> String {
        format!(
            r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}" validUntil="2036-01-01T00:00:00Z">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    {keys}
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
        )
    }

    fn key(usage: &str, b64: &str) -> String {
        format!(
            r#"<md:KeyDescriptor {usage}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
            {b64}
            </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
        )
    }

    #[test]
    fn reads_the_issuer_and_signing_certificates() {
        let m = SamlMetadata::parse(&metadata(
            "https://idp.example.com/saml",
            &[
                key(r#"use="signing""#, "MAEC"),
                key("", "MAED"),
                key(r#"use="encryption""#, "MAEE"),
            ]
            .concat(),
        ))
        .unwrap();
        assert_eq!(m.entity_id, "https://idp.example.com/saml");
        assert_eq!(
            m.signing_certificates,
            vec![vec![0x30, 1, 2], vec![0x30, 1, 3]]
        );
        assert_eq!(m.valid_until.as_deref(), Some("2036-01-01T00:00:00Z"));
    }

    #[test]
    fn refuses_what_is_not_usable_metadata() {
        for (text, needle) in [
            ("not xml".to_owned(), "well-formed"),
            ("<a/>".to_owned(), "root element"),
            (
                metadata("https://i", &key(r#"use="encryption""#, "MAEC")),
                "no signing certificate",
            ),
            (metadata("https://i", &key("", "@@@")), "base64"),
            (metadata("https://i", &key("", "AAEC")), "base64 DER"),
            (metadata(" ", &key("", "MAEC")), "entityID"),
            (
                format!(
                    "<!DOCTYPE x [<!ENTITY e \"x\">]>{}",
                    metadata("https://i", &key("", "MAEC"))
                ),
                "DTD",
            ),
        ] {
            let e = SamlMetadata::parse(&text).unwrap_err();
            assert!(e.to_string().contains(needle), "{e}");
        }
    }

    #[test]
    fn deep_metadata_is_refused_before_parsing() {
        let deep = format!("{}{}", "<x>".repeat(100_000), "</x>".repeat(100_000));
        let e = SamlMetadata::parse(&deep).unwrap_err();
        assert!(e.to_string().contains("nest deeper"), "{e}");
    }

    #[test]
    fn arns_and_names() {
        let a = parse_saml_arn("arn:aws:iam::111122223333:saml-provider/My_IdP.1-x").unwrap();
        assert_eq!(a.name, "My_IdP.1-x");
        assert_eq!(a.account, "111122223333");
        for bad in [
            "arn:aws:iam::111122223333:saml-provider/",
            "arn:aws:iam::111122223333:saml-provider/a/b",
            "arn:aws:iam::11112222333:saml-provider/a",
            "arn:aws:iam::111122223333:oidc-provider/a",
            "arn:aws:iam::111122223333:saml-provider/a b",
        ] {
            assert!(parse_saml_arn(bad).is_none(), "{bad}");
        }
    }
}
