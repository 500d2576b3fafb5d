//! Presence rows (`crate::store::PresenceStore`) in SQLite.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqliteStore, failed};
use crate::store::{Availability, PresenceRecord, PresenceStore, PresenceText, SessionPresence, StoreResult};

#[async_trait]
impl PresenceStore for SqliteStore {
    async fn announce(
        &self,
        account: &str,
        session: &str,
        presence: &SessionPresence,
        max_sessions: usize,
        now: i64,
    ) -> StoreResult<bool> {
        // A write first: it takes SQLite's write lock, so that the count and the insert see the
        // same rows even with several gateway processes on one file.
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        sqlx::query("DELETE FROM presence_session WHERE account = ?1 AND session <> ?2 AND expires <= ?3")
            .bind(account)
            .bind(session)
            .bind(now)
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
        let others: i64 = sqlx::query("SELECT count(*) FROM presence_session WHERE account = ?1 AND session <> ?2")
            .bind(account)
            .bind(session)
            .fetch_one(&mut *transaction)
            .await
            .map_err(failed)?
            .get(0);
        if usize::try_from(others).unwrap_or(usize::MAX) >= max_sessions {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO presence_session (session, account, availability, since, expires) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (session) DO UPDATE SET account = excluded.account, availability = excluded.availability,
               since = excluded.since, expires = excluded.expires",
        )
        .bind(session)
        .bind(account)
        .bind(presence.availability.as_str())
        .bind(presence.since)
        .bind(presence.expires)
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
        transaction.commit().await.map_err(failed)?;
        Ok(true)
    }

    async fn set_presence_text(&self, account: &str, which: PresenceText, text: Option<&str>) -> StoreResult<()> {
        let statement = match which {
            PresenceText::Status => {
                "INSERT INTO presence_account (account, status) VALUES (?1, ?2)
                 ON CONFLICT (account) DO UPDATE SET status = excluded.status"
            }
            PresenceText::Location => {
                "INSERT INTO presence_account (account, location) VALUES (?1, ?2)
                 ON CONFLICT (account) DO UPDATE SET location = excluded.location"
            }
        };
        sqlx::query(statement).bind(account).bind(text).execute(&self.pool).await.map_err(failed)?;
        Ok(())
    }

    async fn end_presence_session(&self, account: &str, session: &str, now: i64) -> StoreResult<()> {
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        sqlx::query("DELETE FROM presence_session WHERE session = ?1")
            .bind(session)
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
        sqlx::query(
            "INSERT INTO presence_account (account, offline_since) VALUES (?1, ?2)
             ON CONFLICT (account) DO UPDATE SET offline_since = excluded.offline_since",
        )
        .bind(account)
        .bind(now)
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
        transaction.commit().await.map_err(failed)
    }

    async fn presence(&self, account: &str) -> StoreResult<PresenceRecord> {
        let rows = sqlx::query("SELECT availability, since, expires FROM presence_session WHERE account = ?1")
            .bind(account)
            .fetch_all(&self.pool)
            .await
            .map_err(failed)?;
        let sessions = rows
            .iter()
            .filter_map(|row| {
                Some(SessionPresence {
                    availability: Availability::parse(row.get::<&str, _>(0))?,
                    since: row.get(1),
                    expires: row.get(2),
                })
            })
            .collect();
        let texts = sqlx::query("SELECT status, location, offline_since FROM presence_account WHERE account = ?1")
            .bind(account)
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?;
        let mut record = PresenceRecord { sessions, ..PresenceRecord::default() };
        if let Some(row) = texts {
            record.status = row.get(0);
            record.location = row.get(1);
            record.offline_since = row.get(2);
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here(since: i64, expires: Option<i64>) -> SessionPresence {
        SessionPresence { availability: Availability::Here, since, expires }
    }

    #[tokio::test]
    async fn announcements_are_per_session_bounded_and_end_with_the_session() {
        let store = SqliteStore::open("sqlite::memory:").await.expect("store");
        assert!(store.announce("a", "s1", &here(10, None), 2, 10).await.expect("first"));
        assert!(store.announce("a", "s1", &here(11, None), 2, 11).await.expect("same session again"));
        assert!(store.announce("a", "s2", &here(12, Some(20)), 2, 12).await.expect("second"));
        assert!(!store.announce("a", "s3", &here(13, None), 2, 13).await.expect("third refused"));
        assert!(store.announce("b", "s4", &here(13, None), 2, 13).await.expect("another account"));
        // s2's FOR ran out: it no longer counts against the bound, and goes.
        assert!(store.announce("a", "s3", &here(21, None), 2, 21).await.expect("after expiry"));
        let record = store.presence("a").await.expect("record");
        assert_eq!(record.sessions.len(), 2);
        assert_eq!(record.offline_since, None);
        store.end_presence_session("a", "s1", 30).await.expect("end");
        store.set_presence_text("a", PresenceText::Status, Some("busy")).await.expect("text");
        let record = store.presence("a").await.expect("record");
        assert_eq!(record.sessions, [here(21, None)]);
        assert_eq!((record.status.as_deref(), record.offline_since), (Some("busy"), Some(30)));
        store.set_presence_text("a", PresenceText::Status, None).await.expect("cleared");
        assert_eq!(store.presence("a").await.expect("record").status, None);
        assert_eq!(store.presence("nobody").await.expect("record"), PresenceRecord::default());
    }
}
