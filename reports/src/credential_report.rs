//! AWS's credential report (`aws iam get-credential-report`): the same CSV columns in the same order,
//! one row per account root and IAM user, from the account export, the credentials file and the
//! decision log.
//!
//! [`Row`] is one line, typed; the IAM database's report (`iamlet-iam-store`) fills the same rows
//! from its login profiles, devices and keys, and writes them with [`csv`].
//!
//! What the file world's sources cannot tell is marked as AWS marks it: `not_supported` for passwords (an account
//! export carries no login profiles) and for MFA without a credentials file (with one, `mfa_active`
//! says whether the user has an enabled virtual MFA device, `iamlet mfa`), `N/A` for a key or
//! certificate that does not exist or was never used. A key's last use is the last request it signed
//! that the sidecar authenticated and decided; its region is that request's `aws:RequestedRegion`
//! (the signature's scope) and its service the action's prefix.

use iamlet_account::export::{AccountDetails, UserDetail};
use iamlet_auth::{AccessKey, Credentials, KeyStatus, MfaStatus};
use iamlet_decision_log::LoggedDecision;
use std::collections::{BTreeMap, HashMap};

/// The report's columns, in AWS's order.
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

const NOT_SUPPORTED: &str = "not_supported";
const NA: &str = "N/A";
const NO_INFORMATION: &str = "no_information";

/// The report's rows (without the header; each of [`COLUMNS`]'s length), accounts in order, each
/// root first and then its users by name.
pub fn rows(
    exports: &[AccountDetails],
    credentials: Option<&Credentials>,
    log: &[LoggedDecision],
) -> Vec<Vec<String>> {
    let keys = credentials.map_or(&[][..], |c| &c.access_keys[..]);
    // Each key's last authenticated, decided request.
    let mut last: HashMap<&str, &LoggedDecision> = HashMap::new();
    for r in log.iter().filter(|r| r.is_decision()) {
        if let Some(id) = r.access_key_id.as_deref() {
            if last.get(id).is_none_or(|u| u.event_time < r.event_time) {
                last.insert(id, r);
            }
        }
    }
    let mut keys_of: HashMap<&str, Vec<&AccessKey>> = HashMap::new();
    for k in keys {
        keys_of.entry(k.user_arn.as_str()).or_default().push(k);
    }
    for list in keys_of.values_mut() {
        list.sort_by(|a, b| a.create_date.cmp(&b.create_date));
    }
    let mut accounts: BTreeMap<String, Vec<&UserDetail>> = BTreeMap::new();
    for d in exports {
        for u in &d.user_detail_list {
            let account = iamlet_engine::Arn::parse(&u.arn)
                .map_or("", |a| a.account)
                .to_owned();
            accounts.entry(account).or_default().push(u);
        }
    }
    let mut out = Vec::new();
    for (account, mut users) in accounts {
        users.sort_by(|a, b| a.user_name.cmp(&b.user_name));
        let root_arn = format!("arn:aws:iam::{account}:root");
        out.push(row("<root_account>", &root_arn, None, None, &[], &last));
        for u in users {
            let user_keys = keys_of
                .get(u.arn.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mfa = credentials.map(|c| {
                c.mfa_devices
                    .iter()
                    .any(|d| d.user_arn == u.arn && d.status == MfaStatus::Enabled)
            });
            out.push(row(
                &u.user_name,
                &u.arn,
                u.create_date.as_deref(),
                mfa,
                user_keys,
                &last,
            ));
        }
    }
    out
}

/// An ISO 8601 time as AWS's report writes it (`2024-02-01T09:00:00+00:00`); other text as given.
fn time(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text)
        .map_or_else(|_| text.to_owned(), |t| unix_time(t.timestamp()))
}

/// A Unix time as AWS's report writes it (`2024-02-01T09:00:00+00:00`).
pub fn unix_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// What a row says of the principal's console password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Password {
    /// The source cannot tell (`not_supported` in all four columns): an account export, the root user.
    NotSupported,
    /// No console password (`false`, then `N/A`).
    Disabled,
    /// A console password.
    Enabled {
        /// When it was last used to sign in (`no_information` when never, as AWS writes it).
        last_used: Option<i64>,
        /// When it was last set.
        last_changed: i64,
        /// When the password policy's `MaxPasswordAge` requires the next change (`N/A` without one).
        next_rotation: Option<i64>,
    },
}

/// One access key's five columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// Whether it is Active.
    pub active: bool,
    /// When it was created (AWS's `last_rotated`), as the report writes times.
    pub last_rotated: String,
    /// Its last use, if any.
    pub last_used: Option<KeyUse>,
}

/// When and where a key was last used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUse {
    /// When, as the report writes times.
    pub date: String,
    /// The region, when known.
    pub region: Option<String>,
    /// The service (`s3`, `iam`), when known.
    pub service: Option<String>,
}

/// One line of the report, typed: what the file world (an export, a credentials file and the
/// decision log) and the IAM database both fill, and [`Row::record`] writes in AWS's columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// `user`: the user's name, or `<root_account>`.
    pub user: String,
    /// `arn`.
    pub arn: String,
    /// `user_creation_time`, as the report writes times (`N/A` when unknown).
    pub created: Option<String>,
    /// The four password columns.
    pub password: Password,
    /// `mfa_active` (`not_supported` when the source cannot tell).
    pub mfa_active: Option<bool>,
    /// The first two access keys, oldest first.
    pub keys: Vec<Key>,
}

impl Row {
    /// The row's values in [`COLUMNS`]' order.
    pub fn record(&self) -> Vec<String> {
        let mut r: Vec<String> = vec![
            self.user.clone(),
            self.arn.clone(),
            self.created.clone().unwrap_or_else(|| NA.to_owned()),
        ];
        match &self.password {
            Password::NotSupported => r.extend([NOT_SUPPORTED; 4].map(str::to_owned)),
            Password::Disabled => r.extend(["false", NA, NA, NA].map(str::to_owned)),
            Password::Enabled {
                last_used,
                last_changed,
                next_rotation,
            } => {
                r.push("true".to_owned());
                r.push(last_used.map_or_else(|| NO_INFORMATION.to_owned(), unix_time));
                r.push(unix_time(*last_changed));
                r.push(next_rotation.map_or_else(|| NA.to_owned(), unix_time));
            }
        }
        r.push(
            self.mfa_active
                .map_or(NOT_SUPPORTED.to_owned(), |m| m.to_string()),
        );
        for i in 0..2 {
            let Some(k) = self.keys.get(i) else {
                r.push("false".to_owned());
                r.extend([NA; 4].map(str::to_owned));
                continue;
            };
            r.push(k.active.to_string());
            r.push(k.last_rotated.clone());
            let used = k.last_used.as_ref();
            r.push(used.map_or(NA.to_owned(), |u| u.date.clone()));
            r.push(
                used.and_then(|u| u.region.clone())
                    .unwrap_or_else(|| NA.to_owned()),
            );
            r.push(
                used.and_then(|u| u.service.clone())
                    .unwrap_or_else(|| NA.to_owned()),
            );
        }
        // cert_1_active, cert_1_last_rotated, cert_2_active, cert_2_last_rotated: no signing
        // certificates.
        r.extend(["false", NA, "false", NA].map(str::to_owned));
        r
    }
}

fn row(
    user: &str,
    arn: &str,
    created: Option<&str>,
    mfa_active: Option<bool>,
    keys: &[&AccessKey],
    last: &HashMap<&str, &LoggedDecision>,
) -> Vec<String> {
    let keys = keys
        .iter()
        .take(2)
        .map(|k| {
            let used = last.get(k.access_key_id.as_str()).copied();
            Key {
                active: k.status == KeyStatus::Active,
                last_rotated: time(&k.create_date),
                last_used: used.map(|u| KeyUse {
                    date: u
                        .event_time
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                    region: u.region.clone(),
                    service: u
                        .action
                        .as_deref()
                        .and_then(|a| a.split_once(':'))
                        .map(|(svc, _)| svc.to_owned()),
                }),
            }
        })
        .collect();
    Row {
        user: user.to_owned(),
        arn: arn.to_owned(),
        created: created.map(time),
        password: Password::NotSupported,
        mfa_active,
        keys,
    }
    .record()
}

/// The report as CSV text, header first.
pub fn csv(rows: &[Vec<String>]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for r in rows {
        w.write_record(r)?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export() -> AccountDetails {
        iamlet_account::export::parse_export(
            "account.json",
            r#"{"UserDetailList": [
              {"UserName": "bob", "Arn": "arn:aws:iam::111122223333:user/bob", "CreateDate": "2023-11-20T09:00:00Z"},
              {"UserName": "alice", "Arn": "arn:aws:iam::111122223333:user/division/alice", "CreateDate": "2024-02-01T09:00:00Z"}]}"#,
        )
        .unwrap()
    }

    fn key(id: &str, user: &str, status: KeyStatus, created: &str) -> AccessKey {
        serde_json::from_value(serde_json::json!({
            "accessKeyId": id,
            "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "userArn": user,
            "status": status,
            "createDate": created,
        }))
        .unwrap()
    }

    #[test]
    fn columns_rows_keys_and_last_use() {
        let alice = "arn:aws:iam::111122223333:user/division/alice";
        let keys = vec![
            key(
                "AKIAIOSFODNN7EXAMPLF",
                alice,
                KeyStatus::Inactive,
                "2026-02-01T00:00:00Z",
            ),
            key(
                "AKIAIOSFODNN7EXAMPLE",
                alice,
                KeyStatus::Active,
                "2025-01-01T00:00:00Z",
            ),
        ];
        let log: Vec<LoggedDecision> = [
            r#"{"eventTime":"2026-11-20T10:00:00Z","principal":"x","accessKeyId":"AKIAIOSFODNN7EXAMPLE","action":"s3:GetObject","region":"eu-west-1","decision":"Allow"}"#,
            r#"{"eventTime":"2026-11-21T10:00:00Z","principal":"x","accessKeyId":"AKIAIOSFODNN7EXAMPLE","action":"ec2:DescribeInstances","region":"us-east-1","decision":"ImplicitDeny"}"#,
            r#"{"eventTime":"2026-11-22T10:00:00Z","accessKeyId":"AKIAIOSFODNN7EXAMPLE","decision":"Unauthenticated"}"#,
        ]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
        let bob_mfa = iamlet_auth::MfaDevice {
            status: MfaStatus::Enabled,
            ..iamlet_auth::MfaDevice::create("arn:aws:iam::111122223333:user/bob", "bob").unwrap()
        };
        let credentials = Credentials {
            access_keys: keys,
            mfa_devices: vec![bob_mfa],
            session_key: None,
        };
        let rows = rows(&[export()], Some(&credentials), &log);
        assert!(rows.iter().all(|r| r.len() == COLUMNS.len()));
        let text = csv(&rows).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "<root_account>,arn:aws:iam::111122223333:root,N/A,not_supported,not_supported,not_supported,not_supported,not_supported,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
        );
        // Users by name: alice's older key is key 1; its last decided use was the deny in us-east-1
        // (the later failed signature does not count); the inactive key was never used.
        assert_eq!(
            lines[2],
            "alice,arn:aws:iam::111122223333:user/division/alice,2024-02-01T09:00:00+00:00,not_supported,not_supported,not_supported,not_supported,false,true,2025-01-01T00:00:00+00:00,2026-11-21T10:00:00+00:00,us-east-1,ec2,false,2026-02-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A"
        );
        assert!(lines[3].starts_with(
            "bob,arn:aws:iam::111122223333:user/bob,2023-11-20T09:00:00+00:00,not_supported,not_supported,not_supported,not_supported,true,false,"
        ));
        assert_eq!(lines.len(), 4);
        // Without a credentials file MFA is unknown.
        let bare = csv(&rows_without_credentials()).unwrap();
        assert!(bare
            .lines()
            .nth(3)
            .unwrap()
            .contains(",not_supported,false,"));
    }

    #[test]
    fn a_typed_row_writes_password_and_key_columns_as_aws_does() {
        let row = |password| Row {
            user: "bob".into(),
            arn: "arn:aws:iam::111122223333:user/bob".into(),
            created: Some(unix_time(1_700_000_000)),
            password,
            mfa_active: Some(true),
            keys: vec![Key {
                active: false,
                last_rotated: unix_time(1_700_000_000),
                last_used: Some(KeyUse {
                    date: unix_time(1_800_000_000),
                    region: None,
                    service: Some("s3".into()),
                }),
            }],
        };
        let enabled = row(Password::Enabled {
            last_used: None,
            last_changed: 1_700_000_000,
            next_rotation: Some(1_700_000_000 + 90 * 86_400),
        })
        .record();
        assert_eq!(enabled.len(), COLUMNS.len());
        assert_eq!(
            enabled[3..14].join(","),
            "true,no_information,2023-11-14T22:13:20+00:00,2024-02-12T22:13:20+00:00,true,false,2023-11-14T22:13:20+00:00,2027-01-15T08:00:00+00:00,N/A,s3,false"
        );
        let disabled = row(Password::Disabled).record();
        assert_eq!(disabled[3..7].join(","), "false,N/A,N/A,N/A");
    }

    fn rows_without_credentials() -> Vec<Vec<String>> {
        rows(&[export()], None, &[])
    }
}
