//! AWS managed policies (`arn:aws:iam::aws:policy/…`): the set Iamlet ships
//! (`data/aws-managed-policies.json`, with its source named), seeded when a database is created and
//! brought up to date whenever one is opened: a policy the database lacks is added, and a newer
//! shipped version becomes a new default version (the older ones stay, as AWS keeps them). They
//! count toward no quota, and callers cannot create, version, tag or delete them.

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::policies::versions;
use serde::Deserialize;

/// The shipped data file.
const DATA: &str = include_str!("../data/aws-managed-policies.json");

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Shipped {
    policies: Vec<ShippedPolicy>,
}

/// One shipped AWS managed policy: its default version as AWS publishes it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ShippedPolicy {
    /// `AdministratorAccess`.
    pub policy_name: String,
    /// AWS's id (`ANPA…`).
    pub policy_id: String,
    /// `arn:aws:iam::aws:policy/PATH/NAME`.
    pub arn: String,
    /// `/`, `/job-function/`, `/service-role/`.
    pub path: String,
    /// AWS's description.
    pub description: String,
    /// The default version's id.
    pub default_version_id: String,
    /// When AWS created it.
    pub create_date: String,
    /// When AWS last changed its default version.
    pub update_date: String,
    /// The default version's document.
    pub document: serde_json::Value,
}

impl ShippedPolicy {
    /// The document's text, as the database keeps it.
    pub fn document_text(&self) -> String {
        serde_json::to_string_pretty(&self.document).unwrap_or_default()
    }
}

/// The shipped AWS managed policies.
pub fn shipped() -> Result<Vec<ShippedPolicy>, IamError> {
    serde_json::from_str::<Shipped>(DATA)
        .map(|s| s.policies)
        .map_err(|e| IamError::service(format!("the shipped AWS managed policies: {e}")))
}

fn unix(param: &str, text: &str) -> Result<i64, IamError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .map_err(|e| {
            IamError::service(format!(
                "the shipped AWS managed policies: {param} `{text}`: {e}"
            ))
        })
}

/// Adds an AWS managed policy to the database, or brings its default version up to date. Whether
/// anything changed.
pub(crate) async fn install(tx: &mut Tx, p: &ShippedPolicy) -> Result<bool, IamError> {
    let number = versions::number(&p.default_version_id).ok_or_else(|| {
        IamError::service(format!(
            "the shipped AWS managed policy {} has version id `{}`",
            p.arn, p.default_version_id
        ))
    })?;
    let created = unix("CreateDate", &p.create_date)?;
    let updated = unix("UpdateDate", &p.update_date)?;
    let existing: Option<(String, String)> =
        sqlx::query_as("SELECT id, default_version FROM iam_policies WHERE arn = $1")
            .bind(&p.arn)
            .fetch_optional(&mut *tx.inner)
            .await
            .map_err(db_error)?;
    let text = p.document_text();
    let touched = existing
        .as_ref()
        .map_or_else(|| p.policy_id.clone(), |(id, _)| id.clone());
    match existing {
        None => {
            sqlx::query(
                "INSERT INTO iam_policies (id, arn, name, name_key, path, description, created_at, updated_at, \
                 default_version, next_version, aws_managed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)",
            )
            .bind(&p.policy_id)
            .bind(&p.arn)
            .bind(&p.policy_name)
            .bind(p.policy_name.to_ascii_lowercase())
            .bind(&p.path)
            .bind(&p.description)
            .bind(created)
            .bind(updated)
            .bind(&p.default_version_id)
            .bind(number + 1)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
            versions::insert(tx, &p.policy_id, &p.default_version_id, &text, updated).await?;
        }
        Some((_, default)) if default == p.default_version_id => return Ok(false),
        Some((id, default)) => {
            // Only forward: a database a newer Iamlet brought further keeps its version.
            if versions::number(&default).is_some_and(|d| d > number) {
                return Ok(false);
            }
            let have: Option<(String,)> = sqlx::query_as(
                "SELECT version_id FROM iam_policy_versions WHERE policy_id = $1 AND version_id = $2",
            )
            .bind(&id)
            .bind(&p.default_version_id)
            .fetch_optional(&mut *tx.inner)
            .await
            .map_err(db_error)?;
            if have.is_none() {
                versions::insert(tx, &id, &p.default_version_id, &text, updated).await?;
            }
            sqlx::query(
                "UPDATE iam_policies SET default_version = $1, updated_at = $2, description = $3, \
                 next_version = $4 WHERE id = $5 AND aws_managed = 1",
            )
            .bind(&p.default_version_id)
            .bind(updated)
            .bind(&p.description)
            .bind(number + 1)
            .bind(&id)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        }
    }
    tx.touch(Touch::Policy(touched));
    Ok(true)
}

/// Brings the database's AWS managed policies up to date with the shipped ones; how many changed.
pub(crate) async fn seed(tx: &mut Tx) -> Result<usize, IamError> {
    let mut changed = 0;
    for p in shipped()? {
        if install(tx, &p).await? {
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataKind;
    use iamlet_engine::{Policy, PolicyType};

    #[test]
    fn the_shipped_policies_are_real_documents() {
        let all = shipped().unwrap();
        for name in [
            "AdministratorAccess",
            "PowerUserAccess",
            "ReadOnlyAccess",
            "IAMFullAccess",
            "IAMReadOnlyAccess",
            "AmazonS3FullAccess",
            "AmazonS3ReadOnlyAccess",
        ] {
            let p = all.iter().find(|p| p.policy_name == name).unwrap();
            assert_eq!(p.arn, format!("arn:aws:iam::aws:policy/{name}"));
            assert_eq!(p.path, "/");
        }
        for p in &all {
            assert!(p.policy_id.starts_with("ANPA"), "{}", p.arn);
            assert!(p.arn.ends_with(&format!("{}{}", p.path, p.policy_name)));
            assert!(versions::number(&p.default_version_id).is_some());
            unix("CreateDate", &p.create_date).unwrap();
            unix("UpdateDate", &p.update_date).unwrap();
            // The engine reads each as an identity policy and as a boundary.
            for ty in [PolicyType::Identity, PolicyType::Boundary] {
                Policy::parse(&p.document_text(), ty).unwrap_or_else(|e| panic!("{}: {e}", p.arn));
            }
        }
        let s3 = all
            .iter()
            .find(|p| p.policy_name == "AmazonS3ReadOnlyAccess")
            .unwrap();
        let actions = &s3.document["Statement"][0]["Action"];
        for a in [
            "s3:Get*",
            "s3:List*",
            "s3-object-lambda:Get*",
            "s3-object-lambda:List*",
        ] {
            assert!(actions.as_array().unwrap().iter().any(|v| v == a), "{a}");
        }
        let lambda = all
            .iter()
            .find(|p| p.policy_name == "AWSLambdaBasicExecutionRole")
            .unwrap();
        assert_eq!(lambda.path, "/service-role/");
    }

    #[tokio::test]
    async fn opening_brings_them_up_to_date() {
        let t = crate::tests::temp_db("aws-seed").await;
        let iam = &t.iam;
        let arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
        // As if an older Iamlet had shipped v2 and a caller had attached it.
        let mut tx = iam.write().await.unwrap();
        let p = iam.policy(&mut tx, arn).await.unwrap();
        sqlx::query("UPDATE iam_policy_versions SET version_id = 'v2' WHERE policy_id = $1")
            .bind(&p.id)
            .execute(&mut *tx.inner)
            .await
            .unwrap();
        sqlx::query("UPDATE iam_policies SET default_version = 'v2' WHERE id = $1")
            .bind(&p.id)
            .execute(&mut *tx.inner)
            .await
            .unwrap();
        sqlx::query("DELETE FROM iam_policy_versions WHERE policy_id IN (SELECT id FROM iam_policies WHERE arn = 'arn:aws:iam::aws:policy/IAMFullAccess')")
            .execute(&mut *tx.inner)
            .await
            .unwrap();
        sqlx::query("DELETE FROM iam_policies WHERE arn = 'arn:aws:iam::aws:policy/IAMFullAccess'")
            .execute(&mut *tx.inner)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let before = iam.database().generation(DataKind::Identity).await.unwrap();

        let url = iam.database().url().clone();
        let again = crate::Iam::open(&url, crate::Quotas::default())
            .await
            .unwrap();
        let mut tx = again.read().await.unwrap();
        let p = again.policy(&mut tx, arn).await.unwrap();
        assert_eq!(p.default_version, "v3");
        let versions = again
            .list_policy_versions(&mut tx, arn, &crate::Page::default())
            .await
            .unwrap();
        assert_eq!(
            versions
                .items
                .iter()
                .map(|v| v.id.as_str())
                .collect::<Vec<_>>(),
            ["v3", "v2"]
        );
        assert!(again
            .find_managed_policy(&mut tx, "arn:aws:iam::aws:policy/IAMFullAccess")
            .await
            .unwrap()
            .is_some());
        drop(tx);
        assert!(iam.database().generation(DataKind::Identity).await.unwrap() > before);
        // Nothing to do the next time.
        let g = iam.database().generation(DataKind::Identity).await.unwrap();
        crate::Iam::open(&url, crate::Quotas::default())
            .await
            .unwrap();
        assert_eq!(
            iam.database().generation(DataKind::Identity).await.unwrap(),
            g
        );
    }
}
