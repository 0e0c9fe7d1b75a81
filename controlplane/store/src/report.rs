//! The credential report (`GenerateCredentialReport`, `GetCredentialReport`): AWS's CSV, one row for
//! the root user and one per IAM user, every column from the database — login profiles and the
//! password policy's `MaxPasswordAge`, enabled MFA devices, access keys and their last use as the
//! sidecar recorded it. The columns and their writing are `iamlet-reports`', shared with the report
//! the file world builds.
//!
//! As in AWS, a report is kept for four hours: generating again within them answers `COMPLETE`
//! without regenerating, and reading one older is `ReportExpired`.

use crate::db::{db_error, Tx};
use crate::error::{ErrorCode, IamError};
use crate::model::now;
use crate::{Iam, ROOT_OWNER};
use iamlet_reports::credential_report::{self as columns, Key, KeyUse, Password, Row};
use std::collections::HashMap;

/// How long a report is current.
pub const REPORT_LIFETIME_SECONDS: i64 = 4 * 3600;

/// What `GenerateCredentialReport` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportState {
    /// No current report existed: one was generated now.
    Started,
    /// A current report exists.
    Complete,
}

impl ReportState {
    /// As AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Started => "STARTED",
            ReportState::Complete => "COMPLETE",
        }
    }
}

/// A generated report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialReport {
    /// The CSV text, header first.
    pub csv: String,
    /// When it was generated.
    pub generated: i64,
}

type KeyRow = (
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

impl Iam {
    /// Generates the report unless a current one exists.
    pub async fn generate_credential_report(&self, tx: &mut Tx) -> Result<ReportState, IamError> {
        let at = now();
        if let Some((generated,)) = self.report_time(tx).await? {
            if at - generated < REPORT_LIFETIME_SECONDS {
                return Ok(ReportState::Complete);
            }
        }
        let rows: Vec<Vec<String>> = self
            .report_rows(tx)
            .await?
            .iter()
            .map(Row::record)
            .collect();
        let csv = columns::csv(&rows)
            .map_err(|e| IamError::service(format!("writing the credential report: {e}")))?;
        sqlx::query("DELETE FROM iam_credential_reports WHERE id = 1")
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO iam_credential_reports (id, generated_at, content) VALUES (1, $1, $2)",
        )
        .bind(at)
        .bind(csv)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(ReportState::Started)
    }

    async fn report_time(&self, tx: &mut Tx) -> Result<Option<(i64,)>, IamError> {
        sqlx::query_as("SELECT generated_at FROM iam_credential_reports WHERE id = 1")
            .fetch_optional(&mut *tx.inner)
            .await
            .map_err(db_error)
    }

    /// The last generated report: `ReportNotPresent` before the first, `ReportExpired` once it is
    /// older than four hours.
    pub async fn credential_report(&self, tx: &mut Tx) -> Result<CredentialReport, IamError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT generated_at, content FROM iam_credential_reports WHERE id = 1")
                .fetch_optional(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        let Some((generated, csv)) = row else {
            return Err(IamError::new(
                ErrorCode::CredentialReportNotPresent,
                "The request was rejected because the credential report does not exist. To generate a credential report, use GenerateCredentialReport.",
            ));
        };
        if now() - generated >= REPORT_LIFETIME_SECONDS {
            return Err(IamError::new(
                ErrorCode::CredentialReportExpired,
                "The request was rejected because the most recent credential report has expired. To generate a new credential report, use GenerateCredentialReport.",
            ));
        }
        Ok(CredentialReport { csv, generated })
    }

    /// The report's rows: the root user first, then the users by name.
    async fn report_rows(&self, tx: &mut Tx) -> Result<Vec<Row>, IamError> {
        let max_age = self
            .password_policy(tx)
            .await?
            .and_then(|p| p.max_password_age)
            .map(|days| i64::from(days) * 86_400);
        let keys: Vec<KeyRow> = sqlx::query_as(
            "SELECT user_id, id, status, created_at, last_used_at, last_used_region, last_used_service \
             FROM iam_access_keys ORDER BY created_at, id",
        )
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let mut keys_of: HashMap<String, Vec<Key>> = HashMap::new();
        for (owner, _, status, created, used_at, region, service) in keys {
            keys_of.entry(owner).or_default().push(Key {
                active: status == "Active",
                last_rotated: columns::unix_time(created),
                last_used: used_at.map(|at| KeyUse {
                    date: columns::unix_time(at),
                    region,
                    service,
                }),
            });
        }
        let profiles: Vec<(String, i64)> =
            sqlx::query_as("SELECT user_id, changed_at FROM iam_login_profiles")
                .fetch_all(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        let profiles: HashMap<String, i64> = profiles.into_iter().collect();
        let with_mfa: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT user_id FROM iam_mfa_devices WHERE user_id IS NOT NULL AND status = 'Enabled'",
        )
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let users: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, path, created_at, password_last_used FROM iam_users ORDER BY name_key",
        )
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let mut out = vec![Row {
            user: "<root_account>".to_owned(),
            arn: self.root_arn(),
            created: Some(columns::unix_time(self.created(tx).await?)),
            password: Password::NotSupported,
            mfa_active: Some(false),
            keys: keys_of.remove(ROOT_OWNER).unwrap_or_default(),
        }];
        for (id, name, path, created, last_used) in users {
            let password = match profiles.get(&id) {
                None => Password::Disabled,
                Some(changed) => Password::Enabled {
                    last_used,
                    last_changed: *changed,
                    next_rotation: max_age.map(|age| changed + age),
                },
            };
            out.push(Row {
                arn: self.arn(
                    crate::EntityKind::User,
                    &crate::IamPath::stored(path),
                    &name,
                ),
                user: name,
                created: Some(columns::unix_time(created)),
                password,
                mfa_active: Some(with_mfa.iter().any(|(u,)| *u == id)),
                keys: keys_of.remove(&id).unwrap_or_default(),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyOwner, KeyState};
    use crate::tests::{name, temp_db, user};
    use crate::NameKind;

    #[tokio::test]
    async fn every_column_comes_from_the_database() {
        let t = temp_db("report").await;
        let iam = &t.iam;
        let mut tx = iam.read().await.unwrap();
        let e = iam.credential_report(&mut tx).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::CredentialReportNotPresent);
        assert_eq!(e.code.as_str(), "ReportNotPresent");
        assert_eq!(e.code.status(), 410);
        drop(tx);

        let mut tx = iam.write().await.unwrap();
        let bob = iam.create_user(&mut tx, &user("bob")).await.unwrap();
        iam.create_user(&mut tx, &user("alice")).await.unwrap();
        let policy = iamlet_engine::password::PasswordPolicy {
            max_password_age: Some(90),
            expire_passwords: true,
            ..Default::default()
        };
        iam.update_account_password_policy(&mut tx, &policy)
            .await
            .unwrap();
        let profile = iam
            .create_login_profile(
                &mut tx,
                &name("bob", NameKind::User),
                "Summer-2026-a",
                false,
            )
            .await
            .unwrap();
        let owner = KeyOwner::User(bob);
        let (k1, _) = iam.create_access_key(&mut tx, &owner).await.unwrap();
        iam.create_access_key(&mut tx, &owner).await.unwrap();
        iam.update_access_key(&mut tx, &owner, &k1.id, KeyState::Inactive)
            .await
            .unwrap();
        // Key 1 is the older (two keys made in one second would sort by id).
        sqlx::query("UPDATE iam_access_keys SET created_at = created_at - 10, last_used_at = 1800000000, last_used_region = 'eu-west-1', last_used_service = 's3' WHERE id = $1")
            .bind(&k1.id)
            .execute(&mut *tx.inner)
            .await
            .unwrap();
        assert_eq!(
            iam.generate_credential_report(&mut tx).await.unwrap(),
            ReportState::Started
        );
        assert_eq!(
            iam.generate_credential_report(&mut tx).await.unwrap(),
            ReportState::Complete
        );
        let report = iam.credential_report(&mut tx).await.unwrap();
        let lines: Vec<&str> = report.csv.lines().collect();
        assert_eq!(lines[0], columns::COLUMNS.join(","));
        assert!(lines[1].starts_with("<root_account>,arn:aws:iam::111122223333:root,"));
        assert!(lines[1]
            .contains(",not_supported,not_supported,not_supported,not_supported,false,true,"));
        assert!(lines[2].starts_with("alice,arn:aws:iam::111122223333:user/alice,"));
        assert!(lines[2].contains(",false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"), "{}", lines[2]);
        let bob: Vec<&str> = lines[3].split(',').collect();
        assert_eq!(bob.len(), columns::COLUMNS.len());
        assert_eq!(bob[0], "bob");
        assert_eq!(bob[3], "true");
        assert_eq!(bob[4], "no_information");
        assert_eq!(bob[5], columns::unix_time(profile.changed));
        assert_eq!(bob[6], columns::unix_time(profile.changed + 90 * 86_400));
        assert_eq!(bob[7], "false");
        assert_eq!(
            &bob[8..13],
            &[
                "false",
                &columns::unix_time(k1.created - 10),
                "2027-01-15T08:00:00+00:00",
                "eu-west-1",
                "s3"
            ]
        );
        assert_eq!(bob[13], "true");
        assert_eq!(bob[15], "N/A");

        // Four hours on, the report has expired.
        sqlx::query("UPDATE iam_credential_reports SET generated_at = generated_at - 14400")
            .execute(&mut *tx.inner)
            .await
            .unwrap();
        let e = iam.credential_report(&mut tx).await.unwrap_err();
        assert_eq!((e.code.as_str(), e.code.status()), ("ReportExpired", 410));
        assert_eq!(
            iam.generate_credential_report(&mut tx).await.unwrap(),
            ReportState::Started
        );
        assert!(iam.credential_report(&mut tx).await.is_ok());
    }
}
