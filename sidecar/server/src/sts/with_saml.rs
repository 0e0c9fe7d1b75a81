//! `AssumeRoleWithSAML`, as STS does it: an unsigned call carrying the IdP's base64 `Response`.
//! `PrincipalArn` names the SAML provider (by exact ARN); the response is verified with the
//! provider's signing certificates and read ([`super::saml`]); the requested role and provider must
//! be a pair of the assertion's `https://aws.amazon.com/SAML/Attributes/Role` attribute; then the
//! role's trust policy alone decides `sts:AssumeRoleWithSAML` for the provider as principal (and
//! `sts:TagSession`, `sts:SetSourceIdentity` when the assertion carries session tags or a source
//! identity), with the `saml:` keys AWS documents (`saml:aud`, `saml:iss`, `saml:sub`,
//! `saml:sub_type`, `saml:namequalifier`, `saml:doc`, and the eduPerson/X.500 attributes by their
//! OIDs), `sts:RoleSessionName`, `sts:SourceIdentity`, `aws:RequestTag/*`, `aws:TagKeys`,
//! `sts:TransitiveTagKeys`. The session is the role's, with the assertion's tags.

use super::assume_role::NewSession;
use super::oidc::invalid_token;
use super::request::{self, AssumeRoleWithSaml};
use super::response::{element, StsError};
use super::saml::{self, Assertion, Rejection};
use super::trust::Federated;
use super::{store_error, Answer, Call, Sts};
use base64::Engine as _;
use iamlet_account::saml::parse_saml_arn;
use iamlet_decision_log::{DecisionRecord, Federation};
use iamlet_engine::ContextValue;
use iamlet_store::StoreError;

const ATTRIBUTES: &str = "https://aws.amazon.com/SAML/Attributes/";

/// The `saml:` keys AWS fills from attributes, by the attribute's name (its OID URN).
const ATTRIBUTE_KEYS: &[(&str, &str)] = &[
    ("urn:oid:2.5.4.3", "saml:commonName"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
        "saml:edupersonaffiliation",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.11",
        "saml:edupersonassurance",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.7",
        "saml:edupersonentitlement",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.2", "saml:edupersonnickname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.3", "saml:edupersonorgdn"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.4",
        "saml:edupersonorgunitdn",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.5",
        "saml:edupersonprimaryaffiliation",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.8",
        "saml:edupersonprimaryorgunitdn",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
        "saml:edupersonprincipalname",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.9",
        "saml:edupersonscopedaffiliation",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.10",
        "saml:edupersontargetedid",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.2", "saml:eduorghomepageuri"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.2.1.3",
        "saml:eduorgidentityauthnpolicyuri",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.4", "saml:eduorglegalname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.5", "saml:eduorgsuperioruri"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.2.1.6",
        "saml:eduorgwhitepagesuri",
    ),
    ("urn:oid:2.5.4.42", "saml:givenName"),
    ("urn:oid:0.9.2342.19200300.100.1.3", "saml:mail"),
    ("urn:oid:2.5.4.41", "saml:name"),
    ("urn:oid:2.5.4.4", "saml:surname"),
    ("urn:oid:0.9.2342.19200300.100.1.1", "saml:uid"),
    ("urn:oid:2.5.4.45", "saml:x500UniqueIdentifier"),
];

/// What a session gets from the assertion.
#[derive(Debug, Default, PartialEq, Eq)]
struct Claims {
    session_name: String,
    session_duration: Option<i64>,
    tags: Vec<(String, String)>,
    transitive: Vec<String>,
    source_identity: Option<String>,
}

fn is_name_like(v: &str) -> bool {
    (2..=64).contains(&v.chars().count())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// One value of an attribute that must have one.
fn single<'a>(a: &'a Assertion, short: &str) -> Result<Option<&'a str>, StsError> {
    match a.attribute(&format!("{ATTRIBUTES}{short}")) {
        None => Ok(None),
        Some([one]) => Ok(Some(one.as_str())),
        Some(_) => Err(invalid_token(format!(
            "{short} in AuthnResponse must have exactly one value"
        ))),
    }
}

fn claims(a: &Assertion) -> Result<Claims, StsError> {
    let session_name = single(a, "RoleSessionName")?
        .ok_or_else(|| invalid_token("RoleSessionName is required in AuthnResponse"))?;
    if !is_name_like(session_name) {
        return Err(invalid_token(
            "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}",
        ));
    }
    let session_duration = match single(a, "SessionDuration")? {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (900..=43_200).contains(&n) => Some(n),
            _ => return Err(invalid_token(
                "SessionDuration in AuthnResponse must be a number of seconds from 900 to 43200",
            )),
        },
    };
    let mut tags: Vec<(String, String)> = Vec::new();
    for (name, values) in &a.attributes {
        let Some(key) = name.strip_prefix(&format!("{ATTRIBUTES}PrincipalTag:")) else {
            continue;
        };
        let value = match values.as_slice() {
            [one] => one.clone(),
            _ => {
                return Err(invalid_token(format!(
                    "the session tag {key} must have exactly one value"
                )))
            }
        };
        if !(1..=128).contains(&key.chars().count()) || value.chars().count() > 256 {
            return Err(invalid_token(format!(
                "the session tag {key}: keys are 1 to 128 characters and values at most 256"
            )));
        }
        if tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(key)) {
            return Err(invalid_token(format!(
                "the session tag key {key} is repeated (tag keys are case-insensitive)"
            )));
        }
        tags.push((key.to_owned(), value));
    }
    if tags.len() > request::MAX_TAGS {
        return Err(StsError::new(
            400,
            "PackedPolicyTooLarge",
            format!("{} session tags; at most {}", tags.len(), request::MAX_TAGS),
        ));
    }
    let mut transitive = Vec::new();
    for k in a
        .attribute(&format!("{ATTRIBUTES}TransitiveTagKeys"))
        .unwrap_or_default()
    {
        if !tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)) {
            return Err(invalid_token(format!(
                "the transitive tag key {k} is not among the PrincipalTag attributes"
            )));
        }
        transitive.push(k.clone());
    }
    let source_identity = match single(a, "SourceIdentity")? {
        None => None,
        Some(s) if is_name_like(s) => Some(s.to_owned()),
        Some(_) => {
            return Err(invalid_token(
                "SourceIdentity in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}",
            ))
        }
    };
    Ok(Claims {
        session_name: session_name.to_owned(),
        session_duration,
        tags,
        transitive,
        source_identity,
    })
}

/// Whether the `Role` attribute pairs this role with this provider (`role,provider` in either
/// order, as AWS accepts).
fn pairs(a: &Assertion, role_arn: &str, provider_arn: &str) -> bool {
    a.attribute(&format!("{ATTRIBUTES}Role"))
        .unwrap_or_default()
        .iter()
        .any(|v| {
            let mut parts = v.split(',').map(str::trim);
            match (parts.next(), parts.next(), parts.next()) {
                (Some(x), Some(y), None) => {
                    (x == role_arn && y == provider_arn) || (x == provider_arn && y == role_arn)
                }
                _ => false,
            }
        })
}

/// `BASE64(SHA1(issuer + account + "/" + provider name))`.
fn name_qualifier(issuer: &str, account: &str, provider_name: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{issuer}{account}/{provider_name}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

fn rejection(r: Rejection) -> StsError {
    match r {
        Rejection::Invalid(why) => invalid_token(why),
        Rejection::Expired(why) => StsError::new(400, "ExpiredTokenException", why),
        Rejection::Rejected(why) => StsError::new(403, "IDPRejectedClaim", why),
    }
}

impl Sts {
    pub(super) async fn assume_role_with_saml(
        &self,
        call: &Call<'_>,
        p: AssumeRoleWithSaml,
        rec: &mut DecisionRecord,
    ) -> Answer {
        let now = chrono::Utc::now();
        let no_provider = || invalid_token("Specified provider doesn't exist");
        let provider = match self.authz.store().saml_provider(&p.principal_arn).await {
            Ok(Some(found)) => found,
            Ok(None) | Err(StoreError::UnknownPrincipal(_)) => return Err(no_provider()),
            Err(e) => return Err(store_error(e)),
        };
        let arn = parse_saml_arn(&provider.arn).ok_or_else(no_provider)?;
        rec.principal = Some(provider.arn.clone());
        let metadata = provider
            .check()
            .map_err(|e| invalid_token(format!("the provider's metadata cannot be used: {e}")))?;
        let assertion = saml::read(
            &p.assertion,
            &metadata,
            &self.saml_service_provider,
            now.timestamp(),
        )
        .map_err(rejection)?;
        rec.federation = Some(Federation {
            provider: provider.arn.clone(),
            subject: assertion.subject.clone(),
        });
        let not_authorized =
            || StsError::access_denied("Not authorized to perform sts:AssumeRoleWithSAML");
        if !pairs(&assertion, &p.role_arn, &provider.arn) {
            rec.reason = format!(
                "the assertion's Role attribute does not pair {} with {}",
                p.role_arn, provider.arn
            );
            return Err(not_authorized());
        }
        let c = claims(&assertion)?;
        let (role, found, asked) = self
            .federated_role(&p.role_arn, p.duration, "sts:AssumeRoleWithSAML", rec)
            .await?;
        // The session ends at the earliest of DurationSeconds, the assertion's SessionDuration and
        // its SessionNotOnOrAfter.
        let mut duration = asked.min(c.session_duration.unwrap_or(i64::MAX));
        if let Some(end) = assertion.session_not_on_or_after {
            duration = duration.min(end - now.timestamp());
            if duration <= 0 {
                return Err(StsError::new(
                    400,
                    "ExpiredTokenException",
                    "the assertion's SessionNotOnOrAfter has passed",
                ));
            }
        }
        let qualifier = name_qualifier(&assertion.issuer, arn.account, arn.name);

        let mut keys: Vec<(String, ContextValue)> = vec![
            ("saml:aud".to_owned(), assertion.recipient.as_str().into()),
            ("saml:iss".to_owned(), assertion.issuer.as_str().into()),
            ("saml:sub".to_owned(), assertion.subject.as_str().into()),
            (
                "saml:sub_type".to_owned(),
                assertion.subject_type.as_str().into(),
            ),
            ("saml:namequalifier".to_owned(), qualifier.as_str().into()),
            (
                "saml:doc".to_owned(),
                format!("{}/{}", arn.account, arn.name).into(),
            ),
            (
                "sts:RoleSessionName".to_owned(),
                c.session_name.as_str().into(),
            ),
        ];
        for (oid, key) in ATTRIBUTE_KEYS {
            if let Some(values) = assertion.attribute(oid).filter(|v| !v.is_empty()) {
                let value = match values {
                    [one] => one.as_str().into(),
                    many => ContextValue::multi(many.to_vec()),
                };
                keys.push(((*key).to_owned(), value));
            }
        }
        if let Some(s) = &c.source_identity {
            keys.push(("sts:SourceIdentity".to_owned(), s.as_str().into()));
        }
        for (k, v) in &c.tags {
            keys.push((format!("aws:RequestTag/{k}"), v.as_str().into()));
        }
        if !c.tags.is_empty() {
            keys.push((
                "aws:TagKeys".to_owned(),
                ContextValue::multi(c.tags.iter().map(|(k, _)| k.clone()).collect()),
            ));
        }
        if !c.transitive.is_empty() {
            keys.push((
                "sts:TransitiveTagKeys".to_owned(),
                ContextValue::multi(c.transitive.clone()),
            ));
        }
        self.decide_trust(
            call,
            &role,
            &found,
            &Federated {
                provider_arn: &provider.arn,
                subject: &assertion.subject,
                action: "sts:AssumeRoleWithSAML",
                tagged: !c.tags.is_empty(),
                source_identity: c.source_identity.is_some(),
                keys,
            },
            rec,
        )?;

        let new = found.session(NewSession {
            name: &c.session_name,
            issued_at: now.timestamp(),
            duration,
            mfa_authenticated_at: None,
            policy: p.policy.as_ref().map(|(text, _)| text.clone()),
            tags: c.tags,
            transitive_tag_keys: c.transitive,
            source_identity: c.source_identity.clone(),
            federated_provider: None,
        });
        let assumed_role_user = new.assumed_role_user();
        let credentials = self.issue(new.session)?;
        let mut xml = String::new();
        xml.push_str(&credentials);
        xml.push_str(&assumed_role_user);
        xml.push_str(&element("Subject", &assertion.subject));
        xml.push_str(&element("SubjectType", &assertion.subject_type));
        xml.push_str(&element("Issuer", &assertion.issuer));
        xml.push_str(&element("Audience", &assertion.recipient));
        xml.push_str(&element("NameQualifier", &qualifier));
        if let Some(s) = &c.source_identity {
            xml.push_str(&element("SourceIdentity", s));
        }
        Ok(xml)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assertion(attributes: &[(&str, &[&str])]) -> Assertion {
        Assertion {
            issuer: "https://idp.example.com/saml".into(),
            subject: "alice".into(),
            subject_type: "persistent".into(),
            recipient: "https://signin.aws.amazon.com/saml".into(),
            session_not_on_or_after: None,
            attributes: attributes
                .iter()
                .map(|(n, v)| {
                    (
                        format!("{ATTRIBUTES}{n}"),
                        v.iter().map(|s| (*s).to_owned()).collect(),
                    )
                })
                .collect(),
        }
    }

    const ROLE: &str = "arn:aws:iam::111122223333:role/ops";
    const IDP: &str = "arn:aws:iam::111122223333:saml-provider/corp";

    #[test]
    fn role_pairs_in_either_order() {
        let pair = format!("{ROLE},{IDP}");
        let reversed = format!("{IDP}, {ROLE}");
        assert!(pairs(&assertion(&[("Role", &[&pair])]), ROLE, IDP));
        assert!(pairs(
            &assertion(&[("Role", &["x,y", &reversed])]),
            ROLE,
            IDP
        ));
        assert!(!pairs(
            &assertion(&[("Role", &[&pair])]),
            ROLE,
            "arn:aws:iam::111122223333:saml-provider/other"
        ));
        assert!(!pairs(
            &assertion(&[("Role", &[&format!("{pair},x")])]),
            ROLE,
            IDP
        ));
        assert!(!pairs(&assertion(&[]), ROLE, IDP));
    }

    #[test]
    fn claims_follow_aws() {
        let c = claims(&assertion(&[
            ("RoleSessionName", &["alice@example.com"]),
            ("SessionDuration", &["1800"]),
            ("PrincipalTag:team", &["infra"]),
            ("PrincipalTag:env", &["prod"]),
            ("TransitiveTagKeys", &["team"]),
            ("SourceIdentity", &["alice"]),
        ]))
        .unwrap();
        assert_eq!(c.session_name, "alice@example.com");
        assert_eq!(c.session_duration, Some(1800));
        assert_eq!(c.tags.len(), 2);
        assert_eq!(c.transitive, vec!["team"]);
        assert_eq!(c.source_identity.as_deref(), Some("alice"));
        for bad in [
            vec![],
            vec![("RoleSessionName", &["a b"][..])],
            vec![("RoleSessionName", &["a", "b"][..])],
            vec![
                ("RoleSessionName", &["ok"][..]),
                ("SessionDuration", &["60"][..]),
            ],
            vec![
                ("RoleSessionName", &["ok"][..]),
                ("PrincipalTag:a", &["1"][..]),
                ("PrincipalTag:A", &["2"][..]),
            ],
            vec![
                ("RoleSessionName", &["ok"][..]),
                ("TransitiveTagKeys", &["x"][..]),
            ],
            vec![
                ("RoleSessionName", &["ok"][..]),
                ("SourceIdentity", &["a b"][..]),
            ],
        ] {
            let e = claims(&assertion(&bad)).unwrap_err();
            assert_eq!(e.code, "InvalidIdentityToken", "{bad:?}");
        }
    }

    #[test]
    fn the_name_qualifier_is_aws_hash() {
        // BASE64(SHA1("https://example.com/saml" + "123456789012" + "/MySAMLIdP")), as AWS's
        // documentation writes it, computed by Python's hashlib.
        assert_eq!(
            name_qualifier("https://example.com/saml", "123456789012", "MySAMLIdP"),
            "1uAJanUnBc2XeUkHURMht+xam2c="
        );
    }
}
