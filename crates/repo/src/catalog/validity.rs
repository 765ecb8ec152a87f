//! The validity-range bookkeeping shared by container states, item states and permissions.
//!
//! A versioned table has identity key columns, `valid_from`, `valid_to` (exclusive, `NULL` = current) and a
//! `fingerprint` of the state. Ranges of one identity never overlap and are never empty: a state replaced or deleted
//! within the same instant it was recorded is rewritten or removed instead of leaving a zero-length row. That makes
//! every record call idempotent: repeating it with the same instant finds the state already there.

use sqlx::{AnyConnection, Row};

use super::{CatalogError, Result, StateChange};

/// A table with validity ranges, e.g. `item_states` keyed by `container_id, item_id`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Versioned {
    /// Table name.
    pub table: &'static str,
    /// Identity key columns, bound as `$1..$n` in this order.
    pub keys: &'static [&'static str],
}

/// What recording a new state must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The current state is identical.
    Unchanged,
    /// Overwrite the row starting at `valid_from` (recorded at the same instant, or closed at exactly this instant
    /// with the same state) and make it current.
    Rewrite { valid_from: i64 },
    /// Close the current row starting at `close` (if any) at the instant, then insert a new row.
    Insert { close: Option<i64> },
}

/// What recording a deletion must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeletePlan {
    /// Nothing current: already deleted or never seen.
    Unchanged,
    /// Set `valid_to` of the current row starting at `valid_from`.
    Close { valid_from: i64 },
    /// The current row started at this very instant: remove it.
    Remove { valid_from: i64 },
}

impl Versioned {
    /// `k1 = $1 AND k2 = $2 ...`
    pub fn key_where(&self) -> String {
        self.keys.iter().enumerate().map(|(i, k)| format!("{k} = ${}", i + 1)).collect::<Vec<_>>().join(" AND ")
    }

    fn bind_keys<'q>(
        &self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        key_values: &[&str],
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for v in key_values {
            q = q.bind(v.to_string());
        }
        q
    }

    /// The latest row of an identity: (valid_from, valid_to, fingerprint).
    async fn latest(
        &self,
        conn: &mut AnyConnection,
        key_values: &[&str],
    ) -> Result<Option<(i64, Option<i64>, String)>> {
        let sql = format!(
            "SELECT valid_from, valid_to, fingerprint FROM {} WHERE {} ORDER BY valid_from DESC LIMIT 1",
            self.table,
            self.key_where()
        );
        let row = self.bind_keys(sqlx::query(&sql), key_values).fetch_optional(conn).await?;
        row.map(|r| -> Result<_> { Ok((r.try_get("valid_from")?, r.try_get("valid_to")?, r.try_get("fingerprint")?)) })
            .transpose()
    }

    fn out_of_order(&self, key_values: &[&str], at: i64, later: i64) -> CatalogError {
        CatalogError::InvalidState(format!(
            "{} {:?}: recording at instant {at} but a state at {later} exists (instants must not go backwards)",
            self.table, key_values
        ))
    }

    /// Decides how to record a state with `fingerprint` at instant `at`.
    pub async fn plan(
        &self,
        conn: &mut AnyConnection,
        key_values: &[&str],
        fingerprint: &str,
        at: i64,
    ) -> Result<Plan> {
        let Some((from, to, current)) = self.latest(conn, key_values).await? else {
            return Ok(Plan::Insert { close: None });
        };
        if from > at {
            return Err(self.out_of_order(key_values, at, from));
        }
        match to {
            None if current == fingerprint => Ok(Plan::Unchanged),
            None if from == at => Ok(Plan::Rewrite { valid_from: from }),
            None => Ok(Plan::Insert { close: Some(from) }),
            Some(to) if to > at => Err(self.out_of_order(key_values, at, to)),
            // Deleted at this very instant and seen again unchanged (e.g. a re-run batch): undo the close.
            Some(to) if to == at && current == fingerprint => Ok(Plan::Rewrite { valid_from: from }),
            Some(_) => Ok(Plan::Insert { close: None }),
        }
    }

    /// Decides how to record a deletion at instant `at`.
    pub async fn plan_delete(&self, conn: &mut AnyConnection, key_values: &[&str], at: i64) -> Result<DeletePlan> {
        let Some((from, to, _)) = self.latest(conn, key_values).await? else {
            return Ok(DeletePlan::Unchanged);
        };
        match to {
            Some(to) if to > at => Err(self.out_of_order(key_values, at, to)),
            Some(_) => Ok(DeletePlan::Unchanged),
            None if from > at => Err(self.out_of_order(key_values, at, from)),
            None if from == at => Ok(DeletePlan::Remove { valid_from: from }),
            None => Ok(DeletePlan::Close { valid_from: from }),
        }
    }

    /// Sets `valid_to = at` on the row starting at `valid_from`.
    pub async fn close(&self, conn: &mut AnyConnection, key_values: &[&str], valid_from: i64, at: i64) -> Result<()> {
        let n = self.keys.len();
        let sql = format!(
            "UPDATE {} SET valid_to = ${} WHERE {} AND valid_from = ${}",
            self.table,
            n + 1,
            self.key_where(),
            n + 2
        );
        self.bind_keys(sqlx::query(&sql), key_values).bind(at).bind(valid_from).execute(conn).await?;
        Ok(())
    }

    /// Deletes the row starting at `valid_from` (dependent rows go with it through `ON DELETE CASCADE`).
    pub async fn remove(&self, conn: &mut AnyConnection, key_values: &[&str], valid_from: i64) -> Result<()> {
        let sql =
            format!("DELETE FROM {} WHERE {} AND valid_from = ${}", self.table, self.key_where(), self.keys.len() + 1);
        self.bind_keys(sqlx::query(&sql), key_values).bind(valid_from).execute(conn).await?;
        Ok(())
    }

    /// Makes room for a new state with `fingerprint` at `at`: closes or removes what it replaces. Returns the
    /// `valid_from` the caller must insert the new row with (its `valid_to` is `NULL`), or `None` when the current
    /// state is identical and nothing must be written.
    pub async fn prepare(
        &self,
        conn: &mut AnyConnection,
        key_values: &[&str],
        fingerprint: &str,
        at: i64,
    ) -> Result<Option<i64>> {
        match self.plan(conn, key_values, fingerprint, at).await? {
            Plan::Unchanged => Ok(None),
            Plan::Rewrite { valid_from } => {
                self.remove(conn, key_values, valid_from).await?;
                Ok(Some(valid_from))
            }
            Plan::Insert { close } => {
                if let Some(from) = close {
                    self.close(conn, key_values, from, at).await?;
                }
                Ok(Some(at))
            }
        }
    }

    /// Records that the identity disappeared at `at`.
    pub async fn delete(&self, conn: &mut AnyConnection, key_values: &[&str], at: i64) -> Result<StateChange> {
        match self.plan_delete(conn, key_values, at).await? {
            DeletePlan::Unchanged => Ok(StateChange::Unchanged),
            DeletePlan::Close { valid_from } => {
                self.close(conn, key_values, valid_from, at).await?;
                Ok(StateChange::Closed)
            }
            DeletePlan::Remove { valid_from } => {
                self.remove(conn, key_values, valid_from).await?;
                Ok(StateChange::Closed)
            }
        }
    }
}
