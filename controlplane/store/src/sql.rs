//! The statements every entity's operations share: counting (for quotas and deletion conflicts),
//! one-id statements, and listing a table of named entities by path prefix, page by page.

use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::names::PathPrefix;
use crate::page::{Page, Paged};
use sqlx::any::AnyRow;

impl Tx {
    /// What `SELECT COUNT(*) …` counts, with `$1` bound to `id` when one is given.
    pub(crate) async fn count(&mut self, sql: &str, id: Option<&str>) -> Result<usize, IamError> {
        let mut q = sqlx::query_as::<_, (i64,)>(sql);
        if let Some(id) = id {
            q = q.bind(id);
        }
        let (n,) = q.fetch_one(&mut *self.inner).await.map_err(db_error)?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Runs a statement with `$1` bound to `id`; how many rows it changed.
    pub(crate) async fn exec_id(&mut self, sql: &str, id: &str) -> Result<u64, IamError> {
        sqlx::query(sql)
            .bind(id)
            .execute(&mut *self.inner)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_error)
    }

    /// `DeleteConflict` with the message of the first check (a `COUNT(*)` with `$1` = `id`) that
    /// finds anything: what must go before an entity can.
    pub(crate) async fn refuse_while_any(
        &mut self,
        id: &str,
        checks: &[(&str, &str)],
    ) -> Result<(), IamError> {
        for (sql, message) in checks {
            if self.count(sql, Some(id)).await? > 0 {
                return Err(IamError::delete_conflict(*message));
            }
        }
        Ok(())
    }

    /// A page of a table of named entities (`name`, `name_key`, `path` columns) whose path starts
    /// with the prefix, by name.
    pub(crate) async fn list_named<R>(
        &mut self,
        columns: &str,
        table: &str,
        prefix: &PathPrefix,
        page: &Page,
        name: impl Fn(&R) -> &str,
    ) -> Result<Paged<R>, IamError>
    where
        R: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
    {
        let rows: Vec<R> = sqlx::query_as(&format!(
            "SELECT {columns} FROM {table} \
             WHERE name_key > $1 AND substr(path, 1, length($2)) = $2 ORDER BY name_key LIMIT $3"
        ))
        .bind(page.after())
        .bind(prefix.as_str().unwrap_or("/"))
        .bind(page.limit())
        .fetch_all(&mut *self.inner)
        .await
        .map_err(db_error)?;
        Ok(page.cut(rows, |r| name(r).to_ascii_lowercase()))
    }

    /// Renames or moves a named entity.
    pub(crate) async fn rename(
        &mut self,
        table: &str,
        id: &str,
        name: &crate::Name,
        path: &crate::IamPath,
    ) -> Result<(), IamError> {
        sqlx::query(&format!(
            "UPDATE {table} SET name = $1, name_key = $2, path = $3 WHERE id = $4"
        ))
        .bind(name.as_str())
        .bind(name.key())
        .bind(path.as_str())
        .bind(id)
        .execute(&mut *self.inner)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}

/// `LimitExceeded` (`Cannot exceed quota for NAME: MAX`, AWS's words) once `count` has reached `max`.
pub(crate) fn within_quota(count: usize, max: usize, name: &str) -> Result<(), IamError> {
    if count >= max {
        return Err(IamError::limit_exceeded(format!(
            "Cannot exceed quota for {name}: {max}"
        )));
    }
    Ok(())
}
