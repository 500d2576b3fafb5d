//! The message aliases of DATT (docs/interpretations.md, DATT-KEEPS-UID) in SQLite.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use super::failed;
use crate::store::{MailboxAliases, MessageAlias, StoreResult, mailbox_ucid_fingerprint, ucid_scope};

/// Rows deleted per statement: SQLite bounds the number of bound parameters.
const CHUNK: usize = 500;

fn new_generation() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn uid(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

pub(super) async fn message_aliases(
    pool: &SqlitePool,
    account: &str,
    key: &str,
) -> StoreResult<Option<MailboxAliases>> {
    let mut connection = pool.acquire().await.map_err(failed)?;
    let Some((uid_validity, generation)) = generation_of(&mut connection, account, key).await? else {
        return Ok(None);
    };
    let rows = sqlx::query(
        "SELECT agap_uid, imap_uid FROM message_alias WHERE account = ?1 AND mailbox = ?2 ORDER BY agap_uid",
    )
    .bind(account)
    .bind(key)
    .fetch_all(&mut *connection)
    .await
    .map_err(failed)?;
    let aliases =
        rows.iter().map(|row| MessageAlias { agap_uid: uid(row.get(0)), imap_uid: uid(row.get(1)) }).collect();
    Ok(Some(MailboxAliases { uid_validity, generation, aliases }))
}

pub(super) async fn generations(pool: &SqlitePool, account: &str) -> StoreResult<HashMap<String, (u32, String)>> {
    let rows = sqlx::query("SELECT mailbox, uid_validity, generation FROM message_alias_generation WHERE account = ?1")
        .bind(account)
        .fetch_all(pool)
        .await
        .map_err(failed)?;
    Ok(rows.iter().map(|row| (row.get::<String, _>(0), (uid(row.get(1)), row.get::<String, _>(2)))).collect())
}

async fn generation_of(
    connection: &mut SqliteConnection,
    account: &str,
    key: &str,
) -> StoreResult<Option<(u32, String)>> {
    let row = sqlx::query(
        "SELECT uid_validity, generation FROM message_alias_generation WHERE account = ?1 AND mailbox = ?2",
    )
    .bind(account)
    .bind(key)
    .fetch_optional(&mut *connection)
    .await
    .map_err(failed)?;
    Ok(row.map(|row| (uid(row.get(0)), row.get(1))))
}

/// Makes sure the mailbox has a generation in `uid_validity`: a new one (`renew`, or none yet,
/// or one of another UID space, whose aliases go) or the one it has. Returns it, and whether it
/// is new. Writing first takes SQLite's write lock before anything is read, so that concurrent
/// sessions are serialised.
async fn ensure_generation(
    connection: &mut SqliteConnection,
    account: &str,
    key: &str,
    uid_validity: u32,
    renew: bool,
) -> StoreResult<(String, bool)> {
    let fresh = new_generation();
    sqlx::query(
        "INSERT INTO message_alias_generation (account, mailbox, uid_validity, generation) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account, mailbox) DO UPDATE SET
           generation = CASE WHEN ?5 OR uid_validity <> excluded.uid_validity THEN excluded.generation ELSE generation END,
           uid_validity = excluded.uid_validity",
    )
    .bind(account)
    .bind(key)
    .bind(i64::from(uid_validity))
    .bind(&fresh)
    .bind(renew)
    .execute(&mut *connection)
    .await
    .map_err(failed)?;
    let (_, generation) = generation_of(connection, account, key)
        .await?
        .ok_or_else(|| crate::store::StoreError("the alias generation just written is missing".into()))?;
    let is_new = generation == fresh;
    if is_new && !renew {
        // A new generation: aliases of an earlier UID space describe nothing any more.
        sqlx::query("DELETE FROM message_alias WHERE account = ?1 AND mailbox = ?2")
            .bind(account)
            .bind(key)
            .execute(&mut *connection)
            .await
            .map_err(failed)?;
    }
    Ok((generation, is_new))
}

pub(super) async fn record(
    pool: &SqlitePool,
    account: &str,
    key: &str,
    uid_validity: u32,
    agap_uid: u32,
    current: u32,
    new: u32,
) -> StoreResult<bool> {
    if new <= current || current < agap_uid {
        return Ok(false);
    }
    let mut transaction = pool.begin().await.map_err(failed)?;
    let (generation, is_new) = ensure_generation(&mut transaction, account, key, uid_validity, false).await?;
    let target_of = |agap: u32| {
        sqlx::query("SELECT imap_uid FROM message_alias WHERE account = ?1 AND mailbox = ?2 AND agap_uid = ?3")
            .bind(account)
            .bind(key)
            .bind(i64::from(agap))
    };
    let source_of = |imap: u32| {
        sqlx::query("SELECT agap_uid FROM message_alias WHERE account = ?1 AND mailbox = ?2 AND imap_uid = ?3")
            .bind(account)
            .bind(key)
            .bind(i64::from(imap))
    };
    let stored_as = target_of(agap_uid).fetch_optional(&mut *transaction).await.map_err(failed)?;
    let names_current = match stored_as {
        Some(row) => uid(row.get(0)) == current,
        // Not aliased yet: the UID is the IMAP UID, unless it is hidden behind another alias.
        None => {
            current == agap_uid
                && source_of(agap_uid).fetch_optional(&mut *transaction).await.map_err(failed)?.is_none()
        }
    };
    // IMAP UIDs are never reused: a `new` that an alias names already is a server's nonsense.
    let new_is_free = source_of(new).fetch_optional(&mut *transaction).await.map_err(failed)?.is_none()
        && target_of(new).fetch_optional(&mut *transaction).await.map_err(failed)?.is_none();
    if !names_current || !new_is_free {
        // Dropping the transaction rolls back the generation too.
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO message_alias (account, mailbox, agap_uid, imap_uid) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account, mailbox, agap_uid) DO UPDATE SET imap_uid = excluded.imap_uid",
    )
    .bind(account)
    .bind(key)
    .bind(i64::from(agap_uid))
    .bind(i64::from(new))
    .execute(&mut *transaction)
    .await
    .map_err(failed)?;
    if is_new {
        // The UCID counter saw the mailbox without a generation: it goes on with the same value.
        sqlx::query(
            "UPDATE change_counter SET fingerprint = ?4 WHERE account = ?1 AND scope = ?2 AND fingerprint = ?3",
        )
        .bind(account)
        .bind(ucid_scope(key))
        .bind(mailbox_ucid_fingerprint(uid_validity, None))
        .bind(mailbox_ucid_fingerprint(uid_validity, Some(&generation)))
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
    }
    transaction.commit().await.map_err(failed)?;
    Ok(true)
}

pub(super) async fn renew(pool: &SqlitePool, account: &str, key: &str, uid_validity: u32) -> StoreResult<()> {
    let mut transaction = pool.begin().await.map_err(failed)?;
    let existing = generation_of(&mut transaction, account, key).await?;
    if existing.is_some_and(|(old, _)| old != uid_validity) {
        sqlx::query("DELETE FROM message_alias WHERE account = ?1 AND mailbox = ?2")
            .bind(account)
            .bind(key)
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
    }
    ensure_generation(&mut transaction, account, key, uid_validity, true).await?;
    transaction.commit().await.map_err(failed)
}

pub(super) async fn drop_targets(pool: &SqlitePool, account: &str, key: &str, imap_uids: &[u32]) -> StoreResult<()> {
    for chunk in imap_uids.chunks(CHUNK) {
        let mut query: QueryBuilder<Sqlite> = QueryBuilder::new("DELETE FROM message_alias WHERE account = ");
        query.push_bind(account).push(" AND mailbox = ").push_bind(key).push(" AND imap_uid IN (");
        let mut separated = query.separated(", ");
        for imap_uid in chunk {
            separated.push_bind(i64::from(*imap_uid));
        }
        query.push(")");
        query.build().execute(pool).await.map_err(failed)?;
    }
    Ok(())
}

pub(super) async fn forget(pool: &SqlitePool, account: &str, key: &str) -> StoreResult<()> {
    let mut transaction = pool.begin().await.map_err(failed)?;
    for statement in [
        "DELETE FROM message_alias WHERE account = ?1 AND mailbox = ?2",
        "DELETE FROM message_alias_generation WHERE account = ?1 AND mailbox = ?2",
    ] {
        sqlx::query(statement).bind(account).bind(key).execute(&mut *transaction).await.map_err(failed)?;
    }
    transaction.commit().await.map_err(failed)
}

#[cfg(test)]
mod tests {
    use crate::store::{GatewayStore, MessageAlias, Observation, SqliteStore, mailbox_ucid_fingerprint, ucid_scope};

    async fn memory_store() -> SqliteStore {
        SqliteStore::open("sqlite::memory:").await.expect("in-memory store")
    }

    async fn aliases(store: &SqliteStore, key: &str) -> Vec<(u32, u32)> {
        let stored = store.message_aliases("u", key).await.expect("aliases").unwrap_or_default();
        stored.aliases.iter().map(|MessageAlias { agap_uid, imap_uid }| (*agap_uid, *imap_uid)).collect()
    }

    #[tokio::test]
    async fn a_second_replacement_collapses_to_one_hop() {
        let store = memory_store().await;
        assert_eq!(store.message_aliases("u", "INBOX").await.expect("none"), None);
        assert!(store.record_message_alias("u", "INBOX", 7, 5, 5, 12).await.expect("first"));
        assert!(store.record_message_alias("u", "INBOX", 7, 5, 12, 13).await.expect("second"));
        assert_eq!(aliases(&store, "INBOX").await, [(5, 13)]);
        let stored = store.message_aliases("u", "INBOX").await.expect("aliases").expect("some");
        assert_eq!(stored.uid_validity, 7);
        assert_eq!(aliases(&store, "Other").await, []);
    }

    #[tokio::test]
    async fn a_stale_or_impossible_replacement_is_refused_and_changes_nothing() {
        let store = memory_store().await;
        assert!(store.record_message_alias("u", "INBOX", 7, 5, 5, 12).await.expect("first"));
        let generation = store.message_aliases("u", "INBOX").await.expect("read").expect("some").generation;
        // Another session replaced 5 already: it is no longer stored as 5.
        assert!(!store.record_message_alias("u", "INBOX", 7, 5, 5, 14).await.expect("stale"));
        // 12 is where 5 is stored: no message has the UID 12.
        assert!(!store.record_message_alias("u", "INBOX", 7, 12, 12, 15).await.expect("hidden"));
        // New UIDs are larger, and no alias points there yet.
        assert!(!store.record_message_alias("u", "INBOX", 7, 6, 6, 6).await.expect("not larger"));
        assert!(!store.record_message_alias("u", "INBOX", 7, 6, 6, 12).await.expect("taken"));
        assert!(!store.record_message_alias("u", "INBOX", 7, 6, 6, 5).await.expect("smaller"));
        assert_eq!(aliases(&store, "INBOX").await, [(5, 12)]);
        let after = store.message_aliases("u", "INBOX").await.expect("read").expect("some").generation;
        assert_eq!(after, generation);
    }

    #[tokio::test]
    async fn aliases_kept_in_memory_follow_every_write_of_this_store() {
        let store = memory_store().await;
        assert!(store.record_message_alias("u", "Box/a", 7, 5, 5, 12).await.expect("record"));
        assert_eq!(aliases(&store, "Box/a").await, [(5, 12)], "read and kept");
        store.rename_subtree("u", "Box", "Crate").await.expect("rename");
        store.forget_subtree("u", "Box").await.expect("forget the folder");
        assert_eq!(aliases(&store, "Box/a").await, [], "a subtree gone takes its kept aliases");
        assert!(store.record_message_alias("u", "Box/a", 7, 6, 6, 13).await.expect("record"));
        assert_eq!(aliases(&store, "Box/a").await, [(6, 13)]);
        store.drop_message_aliases("u", "Box/a", &[13]).await.expect("drop");
        assert_eq!(aliases(&store, "Box/a").await, []);
    }

    #[tokio::test]
    async fn a_new_uid_space_starts_without_aliases() {
        let store = memory_store().await;
        assert!(store.record_message_alias("u", "INBOX", 7, 5, 5, 12).await.expect("first"));
        assert!(store.record_message_alias("u", "INBOX", 8, 2, 2, 3).await.expect("new space"));
        assert_eq!(aliases(&store, "INBOX").await, [(2, 3)]);
        store.forget_message_aliases("u", "INBOX").await.expect("forget");
        assert_eq!(store.message_aliases("u", "INBOX").await.expect("none"), None);
    }

    #[tokio::test]
    async fn aliases_of_gone_messages_are_dropped_and_the_generation_stays() {
        let store = memory_store().await;
        for (agap, imap) in [(1, 10), (2, 11), (3, 12)] {
            assert!(store.record_message_alias("u", "INBOX", 7, agap, agap, imap).await.expect("record"));
        }
        let before = store.message_alias_generations("u").await.expect("generations");
        store.drop_message_aliases("u", "INBOX", &[10, 12, 99]).await.expect("drop");
        assert_eq!(aliases(&store, "INBOX").await, [(2, 11)]);
        store.drop_message_aliases("u", "INBOX", &[11]).await.expect("drop");
        assert_eq!(store.message_alias_generations("u").await.expect("generations"), before, "the UCID stays");
        store.forget_subtree("u", "INBOX").await.expect("forget the folder");
        assert!(store.message_alias_generations("u").await.expect("generations").is_empty());
    }

    #[tokio::test]
    async fn the_first_alias_keeps_the_ucid_and_a_renewal_changes_it() {
        let store = memory_store().await;
        let ucid = |fingerprint: String| Observation { scope: ucid_scope("INBOX"), fingerprint };
        let plain = mailbox_ucid_fingerprint(7, None);
        let seen = store.observe("u", &[ucid(plain.clone())], 1_000).await.expect("observe");
        assert!(store.record_message_alias("u", "INBOX", 7, 5, 5, 12).await.expect("record"));
        let (_, generation) = store.message_alias_generations("u").await.expect("read")["INBOX"].clone();
        let with_aliases = mailbox_ucid_fingerprint(7, Some(&generation));
        assert_ne!(with_aliases, plain);
        assert_eq!(store.observe("u", &[ucid(with_aliases.clone())], 2_000).await.expect("observe"), seen);
        store.renew_message_alias_generation("u", "INBOX", 7).await.expect("renew");
        let (_, renewed) = store.message_alias_generations("u").await.expect("read")["INBOX"].clone();
        assert_ne!(renewed, generation);
        let after = store.observe("u", &[ucid(mailbox_ucid_fingerprint(7, Some(&renewed)))], 3_000).await;
        assert_eq!(after.expect("observe"), [3_000], "a new UCID");
        assert_eq!(aliases(&store, "INBOX").await, [(5, 12)], "the aliases stay right");
    }

    #[tokio::test]
    async fn concurrent_replacements_of_one_message_leave_one_alias() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("gateway.db").display());
        let store = std::sync::Arc::new(SqliteStore::open(&url).await.expect("open"));
        let mut tasks = Vec::new();
        for session in 0..8u32 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.record_message_alias("u", "INBOX", 7, 5, 5, 100 + session).await.expect("record")
            }));
        }
        let mut recorded = 0;
        for task in tasks {
            recorded += usize::from(task.await.expect("task"));
        }
        assert_eq!(recorded, 1);
        assert_eq!(aliases(&store, "INBOX").await.len(), 1);
    }
}

/// Mailboxes whose aliases are kept in memory at once (each weighs one plus its aliases).
const CACHE_WEIGHT: u64 = 1_000_000;

/// How long a mailbox's aliases read from the file are trusted without reading them again. This
/// process drops them at once when it writes them; the time bounds how long a change made by
/// another gateway process sharing the file stays unseen (docs/interpretations.md, ALIAS-CACHE).
/// (A shared store for several instances must answer this differently: issue 17.)
const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// The aliases of recently used mailboxes: nearly every command on a message folder needs them
/// (to translate UIDs), nearly every mailbox has none, and a read through the pool costs more
/// than the IMAP command it serves (two thread hand-offs).
#[derive(Debug, Clone)]
pub struct AliasCache {
    cache: moka::sync::Cache<(String, String), Option<MailboxAliases>>,
    /// Counts the forgets: a read that saw one happen while it ran keeps nothing (it may have
    /// read what the write replaced).
    forgets: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Default for AliasCache {
    fn default() -> Self {
        let cache = moka::sync::Cache::builder()
            .max_capacity(CACHE_WEIGHT)
            .weigher(|_, aliases: &Option<MailboxAliases>| {
                u32::try_from(1 + aliases.as_ref().map_or(0, |found| found.aliases.len())).unwrap_or(u32::MAX)
            })
            .time_to_live(CACHE_TTL)
            .support_invalidation_closures()
            .build();
        Self { cache, forgets: Default::default() }
    }
}

impl AliasCache {
    /// The aliases of mailbox `key`, from memory or read through `pool`.
    pub async fn get(&self, pool: &SqlitePool, account: &str, key: &str) -> StoreResult<Option<MailboxAliases>> {
        let id = (account.to_owned(), key.to_owned());
        if let Some(known) = self.cache.get(&id) {
            return Ok(known);
        }
        let before = self.forgets.load(std::sync::atomic::Ordering::SeqCst);
        let read = message_aliases(pool, account, key).await?;
        if self.forgets.load(std::sync::atomic::Ordering::SeqCst) == before {
            self.cache.insert(id, read.clone());
        }
        Ok(read)
    }

    /// Forgets what is kept of mailbox `key` (its aliases are being written).
    pub fn forget(&self, account: &str, key: &str) {
        self.forgets.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.cache.invalidate(&(account.to_owned(), key.to_owned()));
    }

    /// Forgets what is kept of every mailbox of `account` (a subtree moved or went).
    pub fn forget_account(&self, account: &str) {
        self.forgets.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let account = account.to_owned();
        // Only fails when closures are not supported, which the builder asked for.
        let _ = self.cache.invalidate_entries_if(move |(owner, _), _| *owner == account);
    }
}
