//! OpenID Connect identity providers: the issuers whose tokens `AssumeRoleWithWebIdentity` turns
//! into role sessions. One per issuer URL; each with its audiences (client ids), the thumbprints
//! that trust its TLS when no CA does, and tags. Named by ARN
//! (`arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`), as IAM names them.

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::model::{now, EntityKind};
use crate::names::{constraint, Tag};
use crate::page::{Page, Paged};
use crate::sql::within_quota;
use crate::{tags, Iam};

/// AWS's limit on a provider's client ids.
pub const MAX_CLIENT_IDS: usize = 100;
/// AWS's limit on a provider's thumbprints.
pub const MAX_THUMBPRINTS: usize = 5;

/// An issuer URL as IAM takes it: `https://`, a host (and port), an optional path; no query, no
/// fragment, no user; at most 255 characters. Kept without `https://`, as IAM returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcUrl(String);

impl OidcUrl {
    /// Checks `Url`.
    pub fn parse(value: &str) -> Result<OidcUrl, IamError> {
        if !(1..=255).contains(&value.chars().count()) {
            return Err(constraint(
                "Url",
                value,
                "Member must have length less than or equal to 255",
            ));
        }
        let rest = value
            .get(..8)
            .filter(|s| s.eq_ignore_ascii_case("https://"))
            .map(|_| &value[8..])
            .ok_or_else(|| {
                IamError::invalid_input(format!(
                    "Url {value} is not valid: an OpenID Connect provider's URL must begin with https://"
                ))
            })?;
        let host = rest.split('/').next().unwrap_or_default();
        let bad = rest.is_empty()
            || host.is_empty()
            || rest
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '@'));
        if bad {
            return Err(IamError::invalid_input(format!(
                "Url {value} is not valid: it must be https:// followed by a host and an optional path, with no query, fragment or user"
            )));
        }
        Ok(OidcUrl(rest.to_owned()))
    }

    /// The URL without `https://`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a client id (`ClientID`, `ClientIDList.member.N`): 1 to 255 characters.
pub fn parse_client_id(param: &str, value: &str) -> Result<String, IamError> {
    if (1..=255).contains(&value.chars().count()) {
        Ok(value.to_owned())
    } else {
        Err(constraint(
            param,
            value,
            "Member must have length between 1 and 255",
        ))
    }
}

/// Checks `ClientIDList`: at most 100 ids; repeats are kept once, in order.
pub fn parse_client_ids(values: &[&str]) -> Result<Vec<String>, IamError> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let id = parse_client_id("ClientIDList.member", v)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.len() > MAX_CLIENT_IDS {
        return Err(IamError::limit_exceeded(format!(
            "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
        )));
    }
    Ok(out)
}

/// Checks `ThumbprintList`: at most five, each 40 hexadecimal digits (kept lower-case).
pub fn parse_thumbprints(values: &[&str]) -> Result<Vec<String>, IamError> {
    if values.len() > MAX_THUMBPRINTS {
        return Err(IamError::invalid_input(format!(
            "Thumbprint list must contain fewer than {} entries",
            MAX_THUMBPRINTS + 1
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if v.len() != 40 {
            return Err(constraint(
                "ThumbprintList.member",
                v,
                "Member must have length greater than or equal to 40 and less than or equal to 40",
            ));
        }
        if !v.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(IamError::invalid_input(format!(
                "Thumbprint {v} is not valid: a thumbprint is 40 hexadecimal digits"
            )));
        }
        let t = v.to_ascii_lowercase();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// An OpenID Connect provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcProvider {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/URL`.
    pub arn: String,
    /// The issuer without `https://`.
    pub url: String,
    /// Its audiences.
    pub client_ids: Vec<String>,
    /// Its thumbprints (lower-case hex).
    pub thumbprints: Vec<String>,
    /// When it was created.
    pub created: i64,
    /// Its tags (filled by the calls that return them).
    pub tags: Vec<Tag>,
}

impl OidcProvider {
    /// As the sidecar's account reader types it.
    pub fn to_detail(&self) -> iamlet_account::export::OidcProviderDetail {
        iamlet_account::export::OidcProviderDetail {
            arn: self.arn.clone(),
            url: self.url.clone(),
            client_id_list: self.client_ids.clone(),
            thumbprint_list: self.thumbprints.clone(),
        }
    }
}

/// `CreateOpenIDConnectProvider`'s parameters.
#[derive(Clone, Debug)]
pub struct CreateOidcProvider {
    /// `Url`.
    pub url: OidcUrl,
    /// `ClientIDList`.
    pub client_ids: Vec<String>,
    /// `ThumbprintList`.
    pub thumbprints: Vec<String>,
    /// `Tags`.
    pub tags: Vec<Tag>,
}

type Row = (String, String, String, String, i64);
const COLUMNS: &str = "arn, url, client_ids, thumbprints, created_at";

fn list_of(text: &str) -> Result<Vec<String>, IamError> {
    serde_json::from_str(text)
        .map_err(|e| IamError::service(format!("a stored OpenID Connect provider list: {e}")))
}

fn text_of(list: &[String]) -> Result<String, IamError> {
    serde_json::to_string(list)
        .map_err(|e| IamError::service(format!("storing an OpenID Connect provider list: {e}")))
}

fn provider_of(
    (arn, url, client_ids, thumbprints, created): Row,
) -> Result<OidcProvider, IamError> {
    Ok(OidcProvider {
        arn,
        url,
        client_ids: list_of(&client_ids)?,
        thumbprints: list_of(&thumbprints)?,
        created,
        tags: Vec::new(),
    })
}

/// AWS's message for a provider that is not there.
pub fn no_such_provider(arn: &str) -> IamError {
    IamError::no_such_entity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

impl Iam {
    /// The ARN a provider of this URL has in this account.
    pub fn oidc_arn(&self, url: &OidcUrl) -> String {
        format!(
            "arn:aws:iam::{}:oidc-provider/{}",
            self.account_id(),
            url.as_str()
        )
    }

    /// Checks an `OpenIDConnectProviderArn`: `InvalidInput` for what is no provider ARN.
    pub fn parse_oidc_arn(&self, value: &str) -> Result<String, IamError> {
        if !(20..=2048).contains(&value.chars().count()) {
            return Err(constraint(
                "OpenIDConnectProviderArn",
                value,
                "Member must have length between 20 and 2048",
            ));
        }
        if iamlet_account::export::parse_oidc_arn(value).is_none() {
            return Err(IamError::invalid_input(format!(
                "ARN {value} is not valid."
            )));
        }
        Ok(value.to_owned())
    }

    /// The provider with this ARN, if there is one.
    pub async fn find_oidc_provider(
        &self,
        tx: &mut Tx,
        arn: &str,
    ) -> Result<Option<OidcProvider>, IamError> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM iam_oidc_providers WHERE arn = $1"
        ))
        .bind(arn)
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        row.map(provider_of).transpose()
    }

    async fn oidc_provider(&self, tx: &mut Tx, arn: &str) -> Result<OidcProvider, IamError> {
        self.find_oidc_provider(tx, arn)
            .await?
            .ok_or_else(|| no_such_provider(arn))
    }

    /// The provider and its tags (`GetOpenIDConnectProvider`).
    pub async fn get_oidc_provider(
        &self,
        tx: &mut Tx,
        arn: &str,
    ) -> Result<OidcProvider, IamError> {
        let mut p = self.oidc_provider(tx, arn).await?;
        p.tags = tags::of(tx, EntityKind::OidcProvider, &p.arn).await?;
        Ok(p)
    }

    /// Creates a provider; one per URL.
    pub async fn create_oidc_provider(
        &self,
        tx: &mut Tx,
        r: &CreateOidcProvider,
    ) -> Result<OidcProvider, IamError> {
        let arn = self.oidc_arn(&r.url);
        if self.find_oidc_provider(tx, &arn).await?.is_some() {
            return Err(IamError::already_exists(format!(
                "Provider with url https://{} already exists.",
                r.url.as_str()
            )));
        }
        let count = tx
            .count("SELECT COUNT(*) FROM iam_oidc_providers", None)
            .await?;
        within_quota(
            count,
            self.quotas().oidc_providers,
            "OpenIdConnectProvidersPerAccount",
        )?;
        let created = now();
        sqlx::query(
            "INSERT INTO iam_oidc_providers (arn, url, client_ids, thumbprints, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&arn)
        .bind(r.url.as_str())
        .bind(text_of(&r.client_ids)?)
        .bind(text_of(&r.thumbprints)?)
        .bind(created)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if !r.tags.is_empty() {
            tags::add(tx, EntityKind::OidcProvider, &arn, &r.tags).await?;
        }
        tx.touch(Touch::Inert(format!("oidc-provider:{arn}")));
        Ok(OidcProvider {
            arn,
            url: r.url.as_str().to_owned(),
            client_ids: r.client_ids.clone(),
            thumbprints: r.thumbprints.clone(),
            created,
            tags: r.tags.clone(),
        })
    }

    /// Every provider, by ARN.
    pub async fn list_oidc_providers(&self, tx: &mut Tx) -> Result<Vec<OidcProvider>, IamError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM iam_oidc_providers ORDER BY arn"
        ))
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(provider_of).collect()
    }

    /// Deletes a provider (roles that trust it keep their trust policies, which then match no
    /// token). Deleting one that is not there is no error, as in IAM.
    pub async fn delete_oidc_provider(&self, tx: &mut Tx, arn: &str) -> Result<(), IamError> {
        if self.find_oidc_provider(tx, arn).await?.is_none() {
            return Ok(());
        }
        tags::clear(tx, EntityKind::OidcProvider, arn).await?;
        tx.exec_id("DELETE FROM iam_oidc_providers WHERE arn = $1", arn)
            .await?;
        tx.touch(Touch::Inert(format!("oidc-provider:{arn}")));
        Ok(())
    }

    async fn set_oidc_list(
        &self,
        tx: &mut Tx,
        arn: &str,
        column: &str,
        list: &[String],
    ) -> Result<(), IamError> {
        sqlx::query(&format!(
            "UPDATE iam_oidc_providers SET {column} = $1 WHERE arn = $2"
        ))
        .bind(text_of(list)?)
        .bind(arn)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        tx.touch(Touch::Inert(format!("oidc-provider:{arn}")));
        Ok(())
    }

    /// Adds a client id (one it has already is no error).
    pub async fn add_oidc_client_id(
        &self,
        tx: &mut Tx,
        arn: &str,
        client_id: &str,
    ) -> Result<(), IamError> {
        let mut p = self.oidc_provider(tx, arn).await?;
        if p.client_ids.iter().any(|c| c == client_id) {
            return Ok(());
        }
        if p.client_ids.len() >= MAX_CLIENT_IDS {
            return Err(IamError::limit_exceeded(format!(
                "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
            )));
        }
        p.client_ids.push(client_id.to_owned());
        self.set_oidc_list(tx, arn, "client_ids", &p.client_ids)
            .await
    }

    /// Removes a client id (one it lacks is no error).
    pub async fn remove_oidc_client_id(
        &self,
        tx: &mut Tx,
        arn: &str,
        client_id: &str,
    ) -> Result<(), IamError> {
        let mut p = self.oidc_provider(tx, arn).await?;
        let before = p.client_ids.len();
        p.client_ids.retain(|c| c != client_id);
        if p.client_ids.len() == before {
            return Ok(());
        }
        self.set_oidc_list(tx, arn, "client_ids", &p.client_ids)
            .await
    }

    /// Replaces the thumbprints.
    pub async fn update_oidc_thumbprints(
        &self,
        tx: &mut Tx,
        arn: &str,
        thumbprints: &[String],
    ) -> Result<(), IamError> {
        self.oidc_provider(tx, arn).await?;
        self.set_oidc_list(tx, arn, "thumbprints", thumbprints)
            .await
    }

    /// Tags a provider.
    pub async fn tag_oidc_provider(
        &self,
        tx: &mut Tx,
        arn: &str,
        tags: &[Tag],
    ) -> Result<(), IamError> {
        self.oidc_provider(tx, arn).await?;
        tags::add(tx, EntityKind::OidcProvider, arn, tags).await
    }

    /// Removes tags from a provider.
    pub async fn untag_oidc_provider(
        &self,
        tx: &mut Tx,
        arn: &str,
        keys: &[String],
    ) -> Result<(), IamError> {
        self.oidc_provider(tx, arn).await?;
        tags::remove(tx, EntityKind::OidcProvider, arn, keys).await
    }

    /// A page of a provider's tags.
    pub async fn list_oidc_provider_tags(
        &self,
        tx: &mut Tx,
        arn: &str,
        page: &Page,
    ) -> Result<Paged<Tag>, IamError> {
        self.oidc_provider(tx, arn).await?;
        tags::list(tx, EntityKind::OidcProvider, arn, page).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_iam() {
        assert_eq!(
            OidcUrl::parse("https://oidc.eks.us-east-1.amazonaws.com/id/ABC")
                .unwrap()
                .as_str(),
            "oidc.eks.us-east-1.amazonaws.com/id/ABC"
        );
        assert_eq!(
            OidcUrl::parse("HTTPS://127.0.0.1:8443").unwrap().as_str(),
            "127.0.0.1:8443"
        );
        for bad in [
            "http://example.com",
            "example.com",
            "https://",
            "https:///path",
            "https://a.example/?x=1",
            "https://a.example/#f",
            "https://user@a.example/",
            "https://a .example/",
        ] {
            let e = OidcUrl::parse(bad).unwrap_err();
            assert_eq!(e.code.as_str(), "InvalidInput", "{bad}");
        }
        let long = format!("https://{}", "a".repeat(250));
        assert_eq!(
            OidcUrl::parse(&long).unwrap_err().code.as_str(),
            "ValidationError"
        );
    }

    #[test]
    fn thumbprints_and_client_ids() {
        let t = "9E99A48A9960B14926BB7F3B02E22DA2B0AB7280";
        assert_eq!(
            parse_thumbprints(&[t, &t.to_lowercase()]).unwrap(),
            vec![t.to_lowercase()]
        );
        assert!(parse_thumbprints(&["abc"]).is_err());
        assert!(parse_thumbprints(&["z".repeat(40).as_str()]).is_err());
        assert!(parse_thumbprints(&[t; 6]).is_err());
        assert_eq!(parse_client_ids(&["a", "b", "a"]).unwrap(), vec!["a", "b"]);
        let many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            parse_client_ids(&refs).unwrap_err().code.as_str(),
            "LimitExceeded"
        );
        assert!(parse_client_ids(&[""]).is_err());
    }
}
