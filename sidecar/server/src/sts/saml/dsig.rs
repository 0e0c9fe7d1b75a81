//! The narrow part of XML-DSig that SAML uses: one enveloped `ds:Signature` over its parent element,
//! checked against the provider's certificates — never a certificate the document carries.
//!
//! Accepted, and nothing else: `SignedInfo` canonicalized with exclusive C14N (with or without
//! comments), RSA PKCS#1 v1.5 with SHA-1, SHA-256, SHA-384 or SHA-512, exactly one `Reference` whose
//! `URI="#ID"` names the signature's parent, the transforms enveloped-signature and exclusive C14N
//! (each once, in that order), a SHA-1/256/384/512 digest. `ds:Object` and unknown elements are
//! refused (they are where wrapping attacks hide the signed content). A `KeyInfo` certificate is
//! allowed only when it is one of the provider's: the key is always the provider's.

use super::c14n::{canonicalize, Options};
use iamlet_account::saml::decode_base64;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use roxmltree::Node;

pub(crate) const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const EXC_C14N_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Digest {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    fn parse(uri: &str) -> Option<Digest> {
        match uri {
            "http://www.w3.org/2000/09/xmldsig#sha1" => Some(Digest::Sha1),
            "http://www.w3.org/2001/04/xmlenc#sha256" => Some(Digest::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#sha384" => Some(Digest::Sha384),
            "http://www.w3.org/2001/04/xmlenc#sha512" => Some(Digest::Sha512),
            _ => None,
        }
    }

    fn of(self, data: &[u8]) -> Vec<u8> {
        let alg = match self {
            Digest::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            Digest::Sha256 => &ring::digest::SHA256,
            Digest::Sha384 => &ring::digest::SHA384,
            Digest::Sha512 => &ring::digest::SHA512,
        };
        ring::digest::digest(alg, data).as_ref().to_vec()
    }
}

fn signature_method(uri: &str) -> Option<&'static dyn VerificationAlgorithm> {
    match uri {
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => {
            Some(&signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY)
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => {
            Some(&signature::RSA_PKCS1_2048_8192_SHA256)
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => {
            Some(&signature::RSA_PKCS1_2048_8192_SHA384)
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => {
            Some(&signature::RSA_PKCS1_2048_8192_SHA512)
        }
        _ => None,
    }
}

/// The element children of `node`; any other content but whitespace is refused.
fn elements<'a, 'i>(node: Node<'a, 'i>) -> Result<Vec<Node<'a, 'i>>, String> {
    let mut out = Vec::new();
    for c in node.children() {
        let blank = c.is_text() && c.text().unwrap_or_default().trim().is_empty();
        if c.is_element() {
            out.push(c);
        } else if !blank {
            return Err(format!(
                "{} holds content other than elements",
                node.tag_name().name()
            ));
        }
    }
    Ok(out)
}

fn is_ds(node: Node<'_, '_>, name: &str) -> bool {
    node.has_tag_name((DS, name))
}

fn algorithm<'a>(node: Node<'a, '_>) -> Result<&'a str, String> {
    node.attribute("Algorithm")
        .ok_or_else(|| format!("{} has no Algorithm", node.tag_name().name()))
}

/// `ec:InclusiveNamespaces/@PrefixList` under a C14N method or transform.
fn inclusive_prefixes(method: Node<'_, '_>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for child in elements(method)? {
        if !child.has_tag_name((EXC_C14N, "InclusiveNamespaces")) {
            return Err(format!(
                "unexpected {} in a canonicalization method",
                child.tag_name().name()
            ));
        }
        for p in child
            .attribute("PrefixList")
            .unwrap_or_default()
            .split_ascii_whitespace()
        {
            out.push(if p == "#default" {
                String::new()
            } else {
                p.to_owned()
            });
        }
    }
    Ok(out)
}

fn c14n_options(method: Node<'_, '_>) -> Result<Options, String> {
    let with_comments = match algorithm(method)? {
        EXC_C14N => false,
        EXC_C14N_COMMENTS => true,
        other => {
            return Err(format!(
                "the canonicalization {other} is not exclusive XML canonicalization"
            ))
        }
    };
    Ok(Options {
        with_comments,
        inclusive_prefixes: inclusive_prefixes(method)?,
        exclude: None,
    })
}

/// The RSA public key (PKCS#1 `RSAPublicKey`) of a DER certificate.
fn rsa_key(cert: &[u8]) -> Result<Vec<u8>, String> {
    use spki::der::Decode as _;
    let der = rustls::pki_types::CertificateDer::from(cert);
    let parsed = webpki::EndEntityCert::try_from(&der)
        .map_err(|e| format!("a provider certificate does not parse ({e:?})"))?;
    let spki_der = parsed.subject_public_key_info();
    let info = spki::SubjectPublicKeyInfoRef::from_der(spki_der.as_ref())
        .map_err(|e| format!("a provider certificate's key does not parse ({e})"))?;
    if info.algorithm.oid.to_string() != RSA_ENCRYPTION {
        return Err("a provider certificate's key is not RSA".to_owned());
    }
    Ok(info.subject_public_key.raw_bytes().to_vec())
}

/// Verifies that `signature`, a `ds:Signature` child of `signed`, signs exactly `signed` (with the
/// signature itself left out) with the key of one of `certificates`.
pub(crate) fn verify(
    signature: Node<'_, '_>,
    signed: Node<'_, '_>,
    certificates: &[Vec<u8>],
) -> Result<(), String> {
    if signature.parent() != Some(signed) {
        return Err("the signature is not enveloped in the element it signs".to_owned());
    }
    let parts = elements(signature)?;
    let (signed_info, value, rest) = match parts.as_slice() {
        [si, sv, rest @ ..] if is_ds(*si, "SignedInfo") && is_ds(*sv, "SignatureValue") => {
            (*si, *sv, rest)
        }
        _ => return Err("a Signature must begin with SignedInfo and SignatureValue".to_owned()),
    };
    match rest {
        [] => {}
        [key_info] if is_ds(*key_info, "KeyInfo") => check_key_info(*key_info, certificates)?,
        _ => {
            return Err(
                "a Signature may hold only SignedInfo, SignatureValue and KeyInfo (no Object)"
                    .to_owned(),
            )
        }
    }

    let si = elements(signed_info)?;
    let (c14n_method, sig_method, reference) = match si.as_slice() {
        [c, s, r]
            if is_ds(*c, "CanonicalizationMethod")
                && is_ds(*s, "SignatureMethod")
                && is_ds(*r, "Reference") =>
        {
            (*c, *s, *r)
        }
        _ => {
            return Err(
                "SignedInfo must hold CanonicalizationMethod, SignatureMethod and exactly one Reference"
                    .to_owned(),
            )
        }
    };
    let si_opts = c14n_options(c14n_method)?;
    let method = algorithm(sig_method)?;
    let verifier = signature_method(method)
        .ok_or_else(|| format!("the signature method {method} is not supported"))?;

    // The reference: `#ID` of the signed element, enveloped, exclusive C14N.
    let uri = reference
        .attribute("URI")
        .ok_or_else(|| "the Reference has no URI".to_owned())?;
    let id = uri
        .strip_prefix('#')
        .filter(|id| !id.is_empty())
        .ok_or_else(|| format!("the Reference URI `{uri}` is not a same-document #ID"))?;
    if signed.attribute("ID") != Some(id) {
        return Err(format!(
            "the Reference #{id} does not name the element the signature is in"
        ));
    }
    let mut ref_opts: Option<Options> = None;
    let mut enveloped = false;
    let mut digest: Option<(Digest, Vec<u8>)> = None;
    let mut seen_method = false;
    for child in elements(reference)? {
        if is_ds(child, "Transforms") {
            if seen_method {
                return Err("Transforms must come before DigestMethod".to_owned());
            }
            for t in elements(child)? {
                if !is_ds(t, "Transform") {
                    return Err("Transforms may hold only Transform elements".to_owned());
                }
                match algorithm(t)? {
                    ENVELOPED if !enveloped && ref_opts.is_none() => enveloped = true,
                    EXC_C14N | EXC_C14N_COMMENTS if ref_opts.is_none() => {
                        ref_opts = Some(c14n_options(t)?);
                    }
                    other => {
                        return Err(format!(
                            "the transform {other} is not accepted here (enveloped-signature, then exclusive C14N, each once)"
                        ))
                    }
                }
            }
        } else if is_ds(child, "DigestMethod") && !seen_method {
            seen_method = true;
            let m = algorithm(child)?;
            let d = Digest::parse(m)
                .ok_or_else(|| format!("the digest method {m} is not supported"))?;
            digest = Some((d, Vec::new()));
        } else if is_ds(child, "DigestValue") {
            let value = child
                .text()
                .and_then(decode_base64)
                .ok_or_else(|| "the DigestValue is not base64".to_owned())?;
            match &mut digest {
                Some((_, v)) if v.is_empty() => *v = value,
                _ => return Err("DigestValue must follow one DigestMethod".to_owned()),
            }
        } else {
            return Err(format!(
                "unexpected {} in the Reference",
                child.tag_name().name()
            ));
        }
    }
    if !enveloped {
        return Err("the Reference lacks the enveloped-signature transform".to_owned());
    }
    let mut ref_opts =
        ref_opts.ok_or_else(|| "the Reference lacks the exclusive C14N transform".to_owned())?;
    ref_opts.exclude = Some(signature.id());
    let (digest, expected) = digest
        .filter(|(_, v)| !v.is_empty())
        .ok_or_else(|| "the Reference lacks DigestMethod and DigestValue".to_owned())?;
    let actual = digest.of(&canonicalize(signed, &ref_opts)?);
    if actual != expected {
        return Err("the digest of the signed element does not match (it was altered)".to_owned());
    }

    let signed_bytes = canonicalize(signed_info, &si_opts)?;
    let sig = value
        .text()
        .and_then(decode_base64)
        .ok_or_else(|| "the SignatureValue is not base64".to_owned())?;
    for cert in certificates {
        let Ok(key) = rsa_key(cert) else { continue };
        if UnparsedPublicKey::new(verifier, &key)
            .verify(&signed_bytes, &sig)
            .is_ok()
        {
            return Ok(());
        }
    }
    Err("the signature is not by any of the provider's signing certificates".to_owned())
}

/// A certificate in `KeyInfo` must be one of the provider's (the key used is the provider's anyway;
/// a foreign one says the document was signed by someone else).
fn check_key_info(key_info: Node<'_, '_>, certificates: &[Vec<u8>]) -> Result<(), String> {
    for cert in key_info
        .descendants()
        .filter(|n| n.has_tag_name((DS, "X509Certificate")))
    {
        let der = cert
            .text()
            .and_then(decode_base64)
            .ok_or_else(|| "a KeyInfo certificate is not base64".to_owned())?;
        if !certificates.contains(&der) {
            return Err(
                "the KeyInfo certificate is not one of the provider's signing certificates"
                    .to_owned(),
            );
        }
    }
    Ok(())
}
