//! SAML 2.0 identity providers: the IdPs whose signed assertions `AssumeRoleWithSAML` turns into
//! role sessions. Each has a name, the IdP's metadata document (its entityID and signing
//! certificates, read and checked at every write), and tags. Named by ARN
//! (`arn:aws:iam::ACCOUNT:saml-provider/NAME`), as IAM names them.

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::model::{now, EntityKind};
use crate::names::{constraint, Tag};
use crate::page::{Page, Paged};
use crate::sql::within_quota;
use crate::{tags, Iam};
use iamlet_account::saml::{is_provider_name, parse_saml_arn, SamlMetadata};

/// A metadata document as IAM takes it: 1,000 to 10,000,000 characters of SAML metadata with a
/// signing certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlMetadataDocument {
    text: String,
    metadata: SamlMetadata,
}

impl SamlMetadataDocument {
    /// Checks `SAMLMetadataDocument`.
    pub fn parse(value: &str) -> Result<SamlMetadataDocument, IamError> {
        let n = value.chars().count();
        if !(1000..=10_000_000).contains(&n) {
            return Err(constraint(
                "SAMLMetadataDocument",
                &format!("{n} characters"),
                "Member must have length greater than or equal to 1000 and less than or equal to 10000000",
            ));
        }
        let metadata = SamlMetadata::parse(value)
            .map_err(|e| IamError::invalid_input(format!("Could not parse metadata: {}", e.0)))?;
        Ok(SamlMetadataDocument {
            text: value.to_owned(),
            metadata,
        })
    }

    /// The document's text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `validUntil` as Unix seconds, when the document has a readable one.
    fn valid_until(&self) -> Option<i64> {
        self.metadata
            .valid_until
            .as_deref()
            .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
            .map(|t| t.timestamp())
    }
}

/// Checks a provider's `Name`: `[\w._-]{1,128}`.
pub fn parse_name(value: &str) -> Result<String, IamError> {
    if is_provider_name(value) {
        Ok(value.to_owned())
    } else {
        Err(constraint(
            "Name",
            value,
            "Member must have length between 1 and 128 and satisfy regular expression pattern: [\\w._-]+",
        ))
    }
}

/// A SAML provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlProvider {
    /// `arn:aws:iam::ACCOUNT:saml-provider/NAME`.
    pub arn: String,
    /// The metadata document.
    pub metadata: String,
    /// When it was created.
    pub created: i64,
    /// The metadata's `validUntil`, if it has one.
    pub valid_until: Option<i64>,
    /// Its tags (filled by the calls that return them).
    pub tags: Vec<Tag>,
}

impl SamlProvider {
    /// As the sidecar's account reader types it.
    pub fn to_detail(&self) -> iamlet_account::export::SamlProviderDetail {
        iamlet_account::export::SamlProviderDetail {
            arn: self.arn.clone(),
            saml_metadata_document: self.metadata.clone(),
        }
    }
}

type Row = (String, String, i64, Option<i64>);
const COLUMNS: &str = "arn, metadata, created_at, valid_until";

fn provider_of((arn, metadata, created, valid_until): Row) -> SamlProvider {
    SamlProvider {
        arn,
        metadata,
        created,
        valid_until,
        tags: Vec::new(),
    }
}

/// AWS's message for a provider that is not there.
pub fn no_such_provider(arn: &str) -> IamError {
    IamError::no_such_entity(format!("SAMLProvider not found for arn {arn}"))
}

impl Iam {
    /// The ARN a provider of this name has in this account.
    pub fn saml_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{}:saml-provider/{name}", self.account_id())
    }

    /// Checks a `SAMLProviderArn`: `InvalidInput` for what is no provider ARN.
    pub fn parse_saml_arn(&self, value: &str) -> Result<String, IamError> {
        if !(20..=2048).contains(&value.chars().count()) {
            return Err(constraint(
                "SAMLProviderArn",
                value,
                "Member must have length between 20 and 2048",
            ));
        }
        if parse_saml_arn(value).is_none() {
            return Err(IamError::invalid_input(format!(
                "ARN {value} is not valid."
            )));
        }
        Ok(value.to_owned())
    }

    /// The provider with this ARN, if there is one.
    pub async fn find_saml_provider(
        &self,
        tx: &mut Tx,
        arn: &str,
    ) -> Result<Option<SamlProvider>, IamError> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM iam_saml_providers WHERE arn = $1"
        ))
        .bind(arn)
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(row.map(provider_of))
    }

    async fn saml_provider(&self, tx: &mut Tx, arn: &str) -> Result<SamlProvider, IamError> {
        self.find_saml_provider(tx, arn)
            .await?
            .ok_or_else(|| no_such_provider(arn))
    }

    /// The provider and its tags (`GetSAMLProvider`).
    pub async fn get_saml_provider(
        &self,
        tx: &mut Tx,
        arn: &str,
    ) -> Result<SamlProvider, IamError> {
        let mut p = self.saml_provider(tx, arn).await?;
        p.tags = tags::of(tx, EntityKind::SamlProvider, &p.arn).await?;
        Ok(p)
    }

    /// Creates a provider; one per name.
    pub async fn create_saml_provider(
        &self,
        tx: &mut Tx,
        name: &str,
        document: &SamlMetadataDocument,
        tags: &[Tag],
    ) -> Result<SamlProvider, IamError> {
        let arn = self.saml_arn(name);
        if self.find_saml_provider(tx, &arn).await?.is_some() {
            return Err(IamError::already_exists(format!(
                "SAMLProvider {name} already exists"
            )));
        }
        let count = tx
            .count("SELECT COUNT(*) FROM iam_saml_providers", None)
            .await?;
        within_quota(
            count,
            self.quotas().saml_providers,
            "SAMLProvidersPerAccount",
        )?;
        let created = now();
        let valid_until = document.valid_until();
        sqlx::query(
            "INSERT INTO iam_saml_providers (arn, metadata, created_at, valid_until) VALUES ($1, $2, $3, $4)",
        )
        .bind(&arn)
        .bind(document.as_str())
        .bind(created)
        .bind(valid_until)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if !tags.is_empty() {
            tags::add(tx, EntityKind::SamlProvider, &arn, tags).await?;
        }
        tx.touch(Touch::Inert(format!("saml-provider:{arn}")));
        Ok(SamlProvider {
            arn,
            metadata: document.as_str().to_owned(),
            created,
            valid_until,
            tags: tags.to_vec(),
        })
    }

    /// Replaces a provider's metadata document (`UpdateSAMLProvider`).
    pub async fn update_saml_provider(
        &self,
        tx: &mut Tx,
        arn: &str,
        document: &SamlMetadataDocument,
    ) -> Result<(), IamError> {
        self.saml_provider(tx, arn).await?;
        sqlx::query("UPDATE iam_saml_providers SET metadata = $1, valid_until = $2 WHERE arn = $3")
            .bind(document.as_str())
            .bind(document.valid_until())
            .bind(arn)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        tx.touch(Touch::Inert(format!("saml-provider:{arn}")));
        Ok(())
    }

    /// Every provider, by ARN.
    pub async fn list_saml_providers(&self, tx: &mut Tx) -> Result<Vec<SamlProvider>, IamError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM iam_saml_providers ORDER BY arn"
        ))
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(rows.into_iter().map(provider_of).collect())
    }

    /// Deletes a provider (roles that trust it keep their trust policies, which then match no
    /// assertion). A provider that is not there is `NoSuchEntity`, as in IAM.
    pub async fn delete_saml_provider(&self, tx: &mut Tx, arn: &str) -> Result<(), IamError> {
        self.saml_provider(tx, arn).await?;
        tags::clear(tx, EntityKind::SamlProvider, arn).await?;
        tx.exec_id("DELETE FROM iam_saml_providers WHERE arn = $1", arn)
            .await?;
        tx.touch(Touch::Inert(format!("saml-provider:{arn}")));
        Ok(())
    }

    /// Tags a provider.
    pub async fn tag_saml_provider(
        &self,
        tx: &mut Tx,
        arn: &str,
        tags: &[Tag],
    ) -> Result<(), IamError> {
        self.saml_provider(tx, arn).await?;
        tags::add(tx, EntityKind::SamlProvider, arn, tags).await
    }

    /// Removes tags from a provider.
    pub async fn untag_saml_provider(
        &self,
        tx: &mut Tx,
        arn: &str,
        keys: &[String],
    ) -> Result<(), IamError> {
        self.saml_provider(tx, arn).await?;
        tags::remove(tx, EntityKind::SamlProvider, arn, keys).await
    }

    /// A page of a provider's tags.
    pub async fn list_saml_provider_tags(
        &self,
        tx: &mut Tx,
        arn: &str,
        page: &Page,
    ) -> Result<Paged<Tag>, IamError> {
        self.saml_provider(tx, arn).await?;
        tags::list(tx, EntityKind::SamlProvider, arn, page).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(entity: &str, cert_b64: &str) -> String {
        let doc = format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}" validUntil="2036-01-01T00:00:00Z"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>"#
        );
        // Padding to IAM's minimum length, as real metadata (with its certificate) has.
        format!("{doc}<!--{}-->", " ".repeat(1000))
    }

    #[test]
    fn documents_follow_iam() {
        let d = SamlMetadataDocument::parse(&document("https://idp.example.com", "MAEC")).unwrap();
        assert_eq!(d.valid_until(), Some(2_082_758_400));
        let e = SamlMetadataDocument::parse("<x/>").unwrap_err();
        assert_eq!(e.code.as_str(), "ValidationError");
        let e = SamlMetadataDocument::parse(&document("https://i", "%%%")).unwrap_err();
        assert_eq!(e.code.as_str(), "InvalidInput");
        assert!(
            e.message.contains("Could not parse metadata"),
            "{}",
            e.message
        );
        let not_metadata = format!("<root>{}</root>", "x".repeat(1000));
        assert_eq!(
            SamlMetadataDocument::parse(&not_metadata)
                .unwrap_err()
                .code
                .as_str(),
            "InvalidInput"
        );
    }

    #[tokio::test]
    async fn providers_live_and_die_in_the_database() {
        let db = crate::tests::temp_db("saml-providers").await;
        let iam = &db.iam;
        let first =
            SamlMetadataDocument::parse(&document("https://idp.example.com", "MAEC")).unwrap();
        let mut tx = iam.write().await.unwrap();
        let tag = Tag::parse("team", "identity").unwrap();
        let p = iam
            .create_saml_provider(&mut tx, "corp", &first, std::slice::from_ref(&tag))
            .await
            .unwrap();
        assert_eq!(p.arn, "arn:aws:iam::111122223333:saml-provider/corp");
        let again = iam.create_saml_provider(&mut tx, "corp", &first, &[]).await;
        assert_eq!(again.unwrap_err().code.as_str(), "EntityAlreadyExists");
        tx.commit().await.unwrap();

        let mut tx = iam.write().await.unwrap();
        let got = iam.get_saml_provider(&mut tx, &p.arn).await.unwrap();
        assert_eq!(got.metadata, first.as_str());
        assert_eq!(got.valid_until, Some(2_082_758_400));
        assert_eq!(got.tags, vec![tag]);
        let second =
            SamlMetadataDocument::parse(&document("https://idp2.example.com", "MAED")).unwrap();
        iam.update_saml_provider(&mut tx, &p.arn, &second)
            .await
            .unwrap();
        let detail = iam
            .find_saml_provider(&mut tx, &p.arn)
            .await
            .unwrap()
            .unwrap()
            .to_detail();
        assert_eq!(
            detail.check().unwrap().entity_id,
            "https://idp2.example.com"
        );
        assert_eq!(iam.list_saml_providers(&mut tx).await.unwrap().len(), 1);
        iam.delete_saml_provider(&mut tx, &p.arn).await.unwrap();
        assert_eq!(
            iam.delete_saml_provider(&mut tx, &p.arn)
                .await
                .unwrap_err()
                .code
                .as_str(),
            "NoSuchEntity"
        );
        assert!(iam.list_saml_providers(&mut tx).await.unwrap().is_empty());
        tx.commit().await.unwrap();
    }

    #[test]
    fn names() {
        assert!(parse_name("My_IdP.1-x").is_ok());
        for bad in ["", "a b", "a/b", &"x".repeat(129), "a+b"] {
            assert_eq!(
                parse_name(bad).unwrap_err().code.as_str(),
                "ValidationError",
                "{bad}"
            );
        }
    }
}
