//! The reader against responses signed by signxml (`tests/e2e/saml_idp.py fixtures/`), at the
//! time they were made, and against the attacks made from them.

use super::*;
use base64::Engine as _;

/// The time `saml_idp.py` wrote the fixtures for.
const NOW: i64 = 1_767_323_045;

fn metadata() -> SamlMetadata {
    SamlMetadata::parse(include_str!("fixtures/metadata.xml")).unwrap()
}

fn xml_of(b64: &str) -> String {
    String::from_utf8(decode_base64(b64).unwrap()).unwrap()
}

fn b64(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml)
}

fn invalid_reason(xml: &str) -> String {
    match read(&b64(xml), &metadata(), &ServiceProvider::default(), NOW) {
        Err(Rejection::Invalid(why)) => why,
        other => panic!("expected InvalidIdentityToken, got {other:?}"),
    }
}

const SIGNED: &str = include_str!("fixtures/assertion_signed.b64");

#[test]
fn signed_assertions_and_responses_are_read() {
    for fixture in [
        SIGNED,
        include_str!("fixtures/response_signed.b64"),
        include_str!("fixtures/both_signed_sha512.b64"),
        include_str!("fixtures/with_comments_c14n.b64"),
        include_str!("fixtures/sha1.b64"),
    ] {
        let a = read(fixture, &metadata(), &ServiceProvider::default(), NOW).unwrap();
        assert_eq!(a.issuer, "https://idp.example.com/saml");
        assert_eq!(a.subject, "alice@example.com");
        assert_eq!(a.subject_type, "persistent");
        assert_eq!(a.recipient, "https://signin.aws.amazon.com/saml");
        assert_eq!(
            a.attribute("https://aws.amazon.com/SAML/Attributes/Role"),
            Some(&["arn:aws:iam::111122223333:role/saml-ops,arn:aws:iam::111122223333:saml-provider/corp".to_owned()][..])
        );
        assert_eq!(
            a.attribute("https://aws.amazon.com/SAML/Attributes/RoleSessionName"),
            Some(&["alice".to_owned()][..])
        );
    }
}

#[test]
fn another_key_and_late_use_are_refused() {
    let e = read(
        include_str!("fixtures/other_key.b64"),
        &metadata(),
        &ServiceProvider::default(),
        NOW,
    )
    .unwrap_err();
    assert!(
        matches!(e, Rejection::Invalid(ref w) if w.contains("KeyInfo certificate")),
        "{e:?}"
    );
    let e = read(SIGNED, &metadata(), &ServiceProvider::default(), NOW + 3600).unwrap_err();
    assert!(matches!(e, Rejection::Expired(_)), "{e:?}");
    let e = read(SIGNED, &metadata(), &ServiceProvider::default(), NOW - 3600).unwrap_err();
    assert!(
        matches!(e, Rejection::Invalid(ref w) if w.contains("not yet valid")),
        "{e:?}"
    );
}

#[test]
fn tampering_is_refused() {
    let xml = xml_of(SIGNED);
    let tampered = xml.replace(">alice@example.com<", ">mallory@example.com<");
    assert!(invalid_reason(&tampered).contains("digest"));
    // Without KeyInfo the provider's key still decides.
    let start = xml.find("<ds:KeyInfo>").unwrap();
    let end = xml.find("</ds:KeyInfo>").unwrap() + "</ds:KeyInfo>".len();
    let stripped = format!("{}{}", &xml[..start], &xml[end..]);
    read(
        &b64(&stripped),
        &metadata(),
        &ServiceProvider::default(),
        NOW,
    )
    .unwrap();
    // A changed SignedInfo (another algorithm name) breaks the signature.
    let si = xml.replace(
        "xmlenc#sha256\"/><ds:DigestValue>",
        "xmlenc#sha256\" /><ds:DigestValue>",
    );
    read(&b64(&si), &metadata(), &ServiceProvider::default(), NOW).unwrap();
    let si = xml.replace("ds:Reference URI", "ds:Reference Type=\"x\" URI");
    assert!(invalid_reason(&si).contains("not by any"));
}

#[test]
fn comment_injection_is_refused() {
    let xml = xml_of(SIGNED);
    // The signed text is unchanged without comments (the digest matches); a reader of the first
    // text node would read `alice@`: only the text-only rule stops it.
    let injected = xml.replace(">alice@example.com<", ">alice@<!---->example.com<");
    assert!(invalid_reason(&injected).contains("comment"));
}

#[test]
fn doctype_is_refused() {
    let xml = xml_of(SIGNED);
    let with_dtd = format!("<!DOCTYPE r [<!ENTITY e \"x\">]>{xml}");
    assert!(invalid_reason(&with_dtd).contains("DTD"));
}

#[test]
fn wrapping_is_refused() {
    let xml = xml_of(SIGNED);
    let a_start = xml.find("<saml:Assertion").unwrap();
    let a_end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let signed = &xml[a_start..a_end];
    let evil = signed
        .replace(">alice@example.com<", ">root@example.com<")
        .replacen("ID=\"_", "ID=\"_evil", 1);
    let evil_unsigned = {
        let s = evil.find("<ds:Signature").unwrap();
        let e = evil.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        format!("{}{}", &evil[..s], &evil[e..])
    };
    // XSW: the signed assertion moved into Extensions, an unsigned one read.
    let moved = format!(
        "{}<samlp:Extensions>{signed}</samlp:Extensions>{evil_unsigned}{}",
        &xml[..a_start],
        &xml[a_end..]
    );
    assert!(invalid_reason(&moved).contains("more than one assertion"));
    // The signed one kept, a second one beside it.
    let two = format!("{}{evil_unsigned}{}", &xml[..a_end], &xml[a_end..]);
    assert!(invalid_reason(&two).contains("more than one assertion"));
    // The evil assertion carrying the original signature (its reference names another ID).
    let original_sig = {
        let s = signed.find("<ds:Signature").unwrap();
        let e = signed.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        &signed[s..e]
    };
    let evil_with_sig = evil_unsigned.replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer>{original_sig}"),
        1,
    );
    let swapped = format!("{}{evil_with_sig}{}", &xml[..a_start], &xml[a_end..]);
    assert!(invalid_reason(&swapped).contains("does not name"));
    // Duplicate IDs.
    let dup = xml.replacen(
        "<samlp:Status>",
        &format!(
            "<samlp:Status ID=\"{}\">",
            &signed[signed.find("ID=\"").unwrap() + 4..][..33]
        ),
        1,
    );
    assert!(invalid_reason(&dup).contains("occurs twice"));
    // The signed assertion inside a ds:Object of the signature.
    let object = xml.replacen(
        "</ds:KeyInfo>",
        &format!("</ds:KeyInfo><ds:Object>{evil_unsigned}</ds:Object>"),
        1,
    );
    let r = invalid_reason(&object);
    assert!(
        r.contains("more than one assertion") || r.contains("Object"),
        "{r}"
    );
    // No signature at all.
    let s = xml.find("<ds:Signature").unwrap();
    let e = xml.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let unsigned = format!("{}{}", &xml[..s], &xml[e..]);
    assert!(invalid_reason(&unsigned).contains("not signed"));
}

#[test]
fn deep_nesting_is_refused_before_anything_recurses() {
    let xml = xml_of(SIGNED);
    let deep = format!("{}{}", "<x>".repeat(15_000), "</x>".repeat(15_000));
    let nested = xml.replacen("<samlp:Status>", &format!("{deep}<samlp:Status>"), 1);
    assert!(invalid_reason(&nested).contains("nested deeper"));
}

#[test]
fn recipients_and_audiences() {
    assert!(is_aws_recipient("https://signin.aws.amazon.com/saml"));
    assert!(is_aws_recipient(
        "https://eu-west-1.signin.aws.amazon.com/saml"
    ));
    assert!(!is_aws_recipient(
        "https://evil.com/.signin.aws.amazon.com/saml"
    ));
    assert!(!is_aws_recipient("https://signin.aws.amazon.com/saml/x"));
    assert!(is_aws_audience("urn:amazon:webservices"));
    let own = ServiceProvider {
        audiences: vec!["urn:iamlet:sts".into()],
        recipients: vec!["https://sts.example.internal/saml".into()],
    };
    assert!(
        own.accepts_audience("urn:iamlet:sts") && own.accepts_audience("urn:amazon:webservices")
    );
    assert!(own.accepts_recipient("https://sts.example.internal/saml"));
    assert!(!own.accepts_recipient("https://sts.example.internal/saml/"));
    assert!(!is_aws_audience("urn:amazon:webservices:x"));
}

/// Thousands of mutations of a signed response (bytes flipped, ranges cut or repeated): none
/// panics, and any that still verifies reads exactly what the IdP signed.
#[test]
fn mutations_never_panic_nor_change_what_is_read() {
    let original = decode_base64(SIGNED).unwrap();
    let expected = read(SIGNED, &metadata(), &ServiceProvider::default(), NOW).unwrap();
    let mut seed: u64 = 0x5eed_1234_abcd_0001;
    let mut next = |bound: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).unwrap() % bound.max(1)
    };
    let mut accepted = 0;
    for _ in 0..3000 {
        let mut bytes = original.clone();
        for _ in 0..=next(3) {
            let at = next(bytes.len());
            match next(4) {
                0 => bytes[at] ^= 1 << next(8),
                1 => bytes[at] = b"<>\"'&=/ -:"[next(10)],
                2 => {
                    let end = (at + next(40)).min(bytes.len());
                    bytes.drain(at..end);
                }
                _ => {
                    let end = (at + next(40)).min(bytes.len());
                    let piece = bytes[at..end].to_vec();
                    bytes.splice(at..at, piece);
                }
            }
            if bytes.is_empty() {
                bytes.push(b'<');
            }
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        if let Ok(a) = read(&encoded, &metadata(), &ServiceProvider::default(), NOW) {
            accepted += 1;
            assert_eq!(a, expected, "{}", String::from_utf8_lossy(&bytes));
        }
    }
    // Some mutations fall outside what is signed (the Response's own attributes): still read the same.
    assert!(accepted < 3000);
}
