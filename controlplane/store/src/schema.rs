//! The schema, as numbered migrations applied at open inside one transaction each: a database made
//! by an older Iamlet is brought up to date, one made by a newer one is refused.
//!
//! The SQL is written once for both dialects, in types both read the same way: `TEXT`, and `BIGINT`
//! for integers, times (Unix seconds) and flags (0/1); `{key}` marks the sort keys. Tables are named `iam_*`, away from SQL's keywords (`groups`, `users` in some).

use crate::db::{db_error, Database, Dialect};
use crate::error::IamError;

/// The migrations, in order. Never edit one that has shipped: add the next.
const MIGRATIONS: &[&str] = &[
    // 1: the IAM entities, their policies and credentials, and the generations readers watch.
    r"
CREATE TABLE iam_account (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
CREATE TABLE iam_account_aliases (
    alias TEXT PRIMARY KEY
);
CREATE TABLE iam_password_policy (
    id BIGINT PRIMARY KEY,
    document TEXT NOT NULL
);
CREATE TABLE iam_users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key {key} NOT NULL UNIQUE,
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    boundary_arn TEXT,
    password_last_used BIGINT
);
CREATE TABLE iam_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key {key} NOT NULL UNIQUE,
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE iam_group_members (
    group_id TEXT NOT NULL REFERENCES iam_groups (id),
    user_id TEXT NOT NULL REFERENCES iam_users (id),
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE iam_roles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key {key} NOT NULL UNIQUE,
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    trust_policy TEXT NOT NULL,
    description TEXT,
    max_session_duration BIGINT NOT NULL,
    boundary_arn TEXT,
    service_linked BIGINT NOT NULL,
    last_used_at BIGINT,
    last_used_region TEXT
);
CREATE TABLE iam_instance_profiles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key {key} NOT NULL UNIQUE,
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE iam_instance_profile_roles (
    profile_id TEXT NOT NULL REFERENCES iam_instance_profiles (id),
    role_id TEXT NOT NULL REFERENCES iam_roles (id),
    PRIMARY KEY (profile_id, role_id)
);
CREATE TABLE iam_policies (
    id TEXT PRIMARY KEY,
    arn {key} NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_key {key} NOT NULL,
    path TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    default_version TEXT NOT NULL,
    next_version BIGINT NOT NULL,
    aws_managed BIGINT NOT NULL,
    UNIQUE (aws_managed, name_key)
);
CREATE TABLE iam_policy_versions (
    policy_id TEXT NOT NULL REFERENCES iam_policies (id),
    version_id TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version_id)
);
CREATE TABLE iam_inline_policies (
    owner_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key {key} NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, name_key)
);
CREATE TABLE iam_attachments (
    owner_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    policy_id TEXT NOT NULL REFERENCES iam_policies (id),
    PRIMARY KEY (owner_kind, owner_id, policy_id)
);
CREATE INDEX iam_attachments_by_policy ON iam_attachments (policy_id);
CREATE TABLE iam_tags (
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    key_lower {key} NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (entity_kind, entity_id, key_lower)
);
CREATE TABLE iam_access_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    last_used_region TEXT,
    last_used_service TEXT
);
CREATE INDEX iam_access_keys_by_user ON iam_access_keys (user_id);
CREATE TABLE iam_login_profiles (
    user_id TEXT PRIMARY KEY REFERENCES iam_users (id),
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    reset_required BIGINT NOT NULL
);
CREATE TABLE iam_password_history (
    user_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    password_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, n)
);
CREATE TABLE iam_mfa_devices (
    serial TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    seed TEXT NOT NULL,
    user_id TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    enabled_at BIGINT,
    last_used_step BIGINT,
    failed_attempts BIGINT NOT NULL,
    locked_until BIGINT
);
CREATE TABLE iam_sts (
    id BIGINT PRIMARY KEY,
    session_key TEXT NOT NULL
);
CREATE TABLE iam_credential_reports (
    id BIGINT PRIMARY KEY,
    generated_at BIGINT NOT NULL,
    content TEXT NOT NULL
);
CREATE TABLE iam_service_linked_role_deletions (
    task_id {key} PRIMARY KEY,
    role_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE iam_generation (
    kind TEXT PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO iam_generation (kind, generation) VALUES ('identity', 0);
INSERT INTO iam_generation (kind, generation) VALUES ('credentials', 0)
",
    // 2: the change feed (changes.rs): one row per committed change, numbered in commit order.
    "
CREATE TABLE iam_changes (
    sequence BIGINT PRIMARY KEY,
    committed_at BIGINT NOT NULL,
    everything BIGINT NOT NULL,
    credentials BIGINT NOT NULL,
    principals TEXT NOT NULL,
    entities TEXT NOT NULL
)
",
    // 3: OpenID Connect identity providers (their tags are in `iam_tags`, by ARN).
    r"
CREATE TABLE iam_oidc_providers (
    arn {key} PRIMARY KEY,
    url TEXT NOT NULL,
    client_ids TEXT NOT NULL,
    thumbprints TEXT NOT NULL,
    created_at BIGINT NOT NULL
)
",
    // 4: SAML 2.0 identity providers (their tags are in `iam_tags`, by ARN).
    r"
CREATE TABLE iam_saml_providers (
    arn {key} PRIMARY KEY,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    valid_until BIGINT
)
",
];

/// Applies the migrations the database lacks.
pub(crate) async fn migrate(db: &Database) -> Result<(), IamError> {
    let mut conn = db.pool().acquire().await.map_err(db_error)?;
    sqlx::query("CREATE TABLE IF NOT EXISTS iam_schema (version BIGINT NOT NULL)")
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    drop(conn);
    let mut tx = db.write().await?;
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT version FROM iam_schema")
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    let have = rows.first().map_or(0, |(v,)| *v);
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if have > known {
        return Err(IamError::service(format!(
            "the database's schema is version {have}; this Iamlet knows up to {known}: use a newer Iamlet"
        )));
    }
    // Sort keys compare byte by byte in both databases (PostgreSQL's default collation would
    // order them by the locale's rules, and pages would skip or repeat entities).
    let key = match db.dialect() {
        Dialect::Sqlite => "TEXT",
        Dialect::Postgres => "TEXT COLLATE \"C\"",
    };
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(have).unwrap_or(0))
    {
        let sql = sql.replace("{key}", key);
        for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(statement)
                .execute(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        }
        tracing::info!(version = i + 1, "applied database migration");
    }
    sqlx::query("DELETE FROM iam_schema")
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    sqlx::query("INSERT INTO iam_schema (version) VALUES ($1)")
        .bind(known)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    tx.inner.commit().await.map_err(db_error)
}
