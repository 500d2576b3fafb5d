//! The embedded store: SQLite through sqlx, in WAL mode, migrated at start-up.

mod aliases;
mod presence;

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, SqlSafeStr, Sqlite};

use super::{GatewayStore, ItemMap, ItemVersion, MailboxAliases, MappedItem, Observation, StoreError, StoreResult};

fn failed(error: impl std::fmt::Display) -> StoreError {
    StoreError(error.to_string())
}

/// The schema's migrations, in order, by version and file (src/store/migrations/NNNN_name.sql).
/// Listed by hand rather than with `sqlx::migrate!`: that proc macro needs sqlx's `macros`
/// feature, which builds sqlx and a second, bundled SQLite for the build host, a large share of
/// a first release build. The checksums are sqlx's own, so databases made either way agree.
const MIGRATIONS: [(i64, &str, &str); 7] = [
    (1, "0001_folders_and_change_counters.sql", include_str!("migrations/0001_folders_and_change_counters.sql")),
    (2, "0002_filter_definitions.sql", include_str!("migrations/0002_filter_definitions.sql")),
    (3, "0003_item_map.sql", include_str!("migrations/0003_item_map.sql")),
    (4, "0004_message_alias.sql", include_str!("migrations/0004_message_alias.sql")),
    (5, "0005_collection_marks.sql", include_str!("migrations/0005_collection_marks.sql")),
    (6, "0006_presence.sql", include_str!("migrations/0006_presence.sql")),
    (7, "0007_item_sync_token.sql", include_str!("migrations/0007_item_sync_token.sql")),
];

fn migrations() -> Vec<Migration> {
    MIGRATIONS
        .iter()
        .map(|(version, file, sql)| {
            // As sqlx names a migration after its file: the words after the version.
            let description = file.trim_end_matches(".sql").split_once('_').map_or(*file, |(_, words)| words);
            Migration::new(
                *version,
                description.replace('_', " ").into(),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect()
}

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    aliases: aliases::AliasCache,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path` or `sqlite::memory:`)
    /// and applies pending migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(failed)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        // An in-memory database lives as long as its one connection.
        let max_connections = if url.contains(":memory:") { 1 } else { 8 };
        // No ping before each use (sqlx's default): a connection to a local file does not go
        // stale, and the ping is a round trip to the connection's worker thread that doubled
        // what a one-row read costs.
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(failed)?;
        Migrator::with_migrations(migrations()).run(&pool).await.map_err(failed)?;
        Ok(Self { pool, aliases: aliases::AliasCache::default() })
    }
}

/// Drops cached aliases when a write of them ends, however it ends, so that no read made while
/// the write was under way is kept past it.
struct ForgetAliasesAfter<'a> {
    cache: &'a aliases::AliasCache,
    account: &'a str,
    key: Option<&'a str>,
}

impl<'a> ForgetAliasesAfter<'a> {
    fn mailbox(cache: &'a aliases::AliasCache, account: &'a str, key: &'a str) -> Self {
        cache.forget(account, key);
        Self { cache, account, key: Some(key) }
    }

    fn account(cache: &'a aliases::AliasCache, account: &'a str) -> Self {
        cache.forget_account(account);
        Self { cache, account, key: None }
    }
}

impl Drop for ForgetAliasesAfter<'_> {
    fn drop(&mut self) {
        match self.key {
            Some(key) => self.cache.forget(self.account, key),
            None => self.cache.forget_account(self.account),
        }
    }
}

// Subtrees are matched with `substr` rather than LIKE: keys may contain `%` and `_`.

#[async_trait]
impl GatewayStore for SqliteStore {
    async fn folder_kinds(&self, account: &str) -> StoreResult<HashMap<String, String>> {
        let rows = sqlx::query("SELECT upstream, kind FROM folder_kind WHERE account = ?1")
            .bind(account)
            .fetch_all(&self.pool)
            .await
            .map_err(failed)?;
        Ok(rows.iter().map(|row| (row.get::<String, _>(0), row.get::<String, _>(1))).collect())
    }

    async fn filter_definition(&self, account: &str, key: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT definition FROM filter_definition WHERE account = ?1 AND upstream = ?2")
            .bind(account)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?;
        Ok(row.map(|row| row.get::<String, _>(0)))
    }

    async fn save_filter_definition(&self, account: &str, key: &str, definition: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO filter_definition (account, upstream, definition) VALUES (?1, ?2, ?3)
             ON CONFLICT DO UPDATE SET definition = excluded.definition",
        )
        .bind(account)
        .bind(key)
        .bind(definition)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn remember_kind(&self, account: &str, key: &str, kind: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO folder_kind (account, upstream, kind) VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET kind = ?3",
        )
        .bind(account)
        .bind(key)
        .bind(kind)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn rename_subtree(&self, account: &str, old_key: &str, new_key: &str) -> StoreResult<()> {
        let _forget = ForgetAliasesAfter::account(&self.aliases, account);
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        // Stale records under the new name (of a folder deleted behind the gateway's back) would
        // collide with the moved ones; they describe nothing any more.
        for statement in [
            "DELETE FROM folder_kind
             WHERE account = ?1 AND (upstream = ?3 OR substr(upstream, 1, length(?3) + 1) = ?3 || '/')
             AND NOT (upstream = ?2 OR substr(upstream, 1, length(?2) + 1) = ?2 || '/')",
            "DELETE FROM filter_definition
             WHERE account = ?1 AND (upstream = ?3 OR substr(upstream, 1, length(?3) + 1) = ?3 || '/')
             AND NOT (upstream = ?2 OR substr(upstream, 1, length(?2) + 1) = ?2 || '/')",
            "UPDATE folder_kind SET upstream = ?3 || substr(upstream, length(?2) + 1)
             WHERE account = ?1 AND (upstream = ?2 OR substr(upstream, 1, length(?2) + 1) = ?2 || '/')",
            "UPDATE filter_definition SET upstream = ?3 || substr(upstream, length(?2) + 1)
             WHERE account = ?1 AND (upstream = ?2 OR substr(upstream, 1, length(?2) + 1) = ?2 || '/')",
        ] {
            sqlx::query(statement)
                .bind(account)
                .bind(old_key)
                .bind(new_key)
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
        }
        transaction.commit().await.map_err(failed)
    }

    async fn forget_subtree(&self, account: &str, key: &str) -> StoreResult<()> {
        let _forget = ForgetAliasesAfter::account(&self.aliases, account);
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        for statement in [
            "DELETE FROM folder_kind
             WHERE account = ?1 AND (upstream = ?2 OR substr(upstream, 1, length(?2) + 1) = ?2 || '/')",
            "DELETE FROM filter_definition
             WHERE account = ?1 AND (upstream = ?2 OR substr(upstream, 1, length(?2) + 1) = ?2 || '/')",
            "DELETE FROM message_alias
             WHERE account = ?1 AND (mailbox = ?2 OR substr(mailbox, 1, length(?2) + 1) = ?2 || '/')",
            "DELETE FROM message_alias_generation
             WHERE account = ?1 AND (mailbox = ?2 OR substr(mailbox, 1, length(?2) + 1) = ?2 || '/')",
        ] {
            sqlx::query(statement).bind(account).bind(key).execute(&mut *transaction).await.map_err(failed)?;
        }
        for prefix in ["fcid:", "ucid:"] {
            let scoped = format!("{prefix}{key}");
            sqlx::query(
                "DELETE FROM change_counter WHERE account = ?1 AND (scope = ?2 OR substr(scope, 1, length(?2) + 1) = ?2 || '/')",
            )
            .bind(account)
            .bind(&scoped)
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
        }
        transaction.commit().await.map_err(failed)
    }

    async fn observe(&self, account: &str, observations: &[Observation], now_ms: u64) -> StoreResult<Vec<u64>> {
        if observations.is_empty() {
            return Ok(Vec::new());
        }
        let known = self.read_counters(account, observations).await?;
        let changed: Vec<&Observation> = observations
            .iter()
            .filter(|o| known.get(&o.scope).is_none_or(|(fingerprint, _)| *fingerprint != o.fingerprint))
            .collect();
        if changed.is_empty() {
            return Ok(observations.iter().map(|o| known.get(&o.scope).map(|(_, v)| *v).unwrap_or(0)).collect());
        }
        let floor = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        for observation in &changed {
            // A concurrent session may have recorded the same change already: then the WHERE
            // clause makes this a no-op and both read back the same value.
            sqlx::query(
                "INSERT INTO change_counter (account, scope, fingerprint, value) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account, scope) DO UPDATE
                   SET fingerprint = excluded.fingerprint, value = max(change_counter.value + 1, excluded.value)
                   WHERE change_counter.fingerprint <> excluded.fingerprint",
            )
            .bind(account)
            .bind(&observation.scope)
            .bind(&observation.fingerprint)
            .bind(floor)
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
        }
        transaction.commit().await.map_err(failed)?;
        let current = self.read_counters(account, observations).await?;
        Ok(observations.iter().map(|o| current.get(&o.scope).map(|(_, v)| *v).unwrap_or(0)).collect())
    }

    async fn item_map(&self, account: &str, collection: &str) -> StoreResult<ItemMap> {
        let mut connection = self.pool.acquire().await.map_err(failed)?;
        read_item_map(&mut connection, account, collection).await
    }

    async fn update_item_map(
        &self,
        account: &str,
        collection: &str,
        seen: &[ItemVersion],
        removed: &[String],
        now_ms: u64,
    ) -> StoreResult<ItemMap> {
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        // Writing first takes SQLite's write lock before anything is read, so that two sessions
        // updating one map are serialised and never hand out the same UID.
        let generation = format!("{now_ms}-{:016x}", rand::random::<u64>());
        sqlx::query(
            "INSERT INTO item_map_generation (account, collection, generation, next_uid) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (account, collection) DO UPDATE SET next_uid = next_uid",
        )
        .bind(account)
        .bind(collection)
        .bind(&generation)
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
        let next: i64 = sqlx::query("SELECT next_uid FROM item_map_generation WHERE account = ?1 AND collection = ?2")
            .bind(account)
            .bind(collection)
            .fetch_one(&mut *transaction)
            .await
            .map_err(failed)?
            .get(0);
        let mut next = from_sql(next).max(1);
        let current = read_item_map(&mut transaction, account, collection).await?;
        let known: HashMap<&str, &MappedItem> = current.items.iter().map(|item| (item.href.as_str(), item)).collect();
        for version in seen {
            let (uid, alarm_uid) = match known.get(version.href.as_str()) {
                Some(mapped) => {
                    let alarm = match (mapped.alarm_uid, version.has_alarm) {
                        (Some(alarm), true) => Some(alarm),
                        (None, true) => Some(take(&mut next)),
                        (_, false) => None,
                    };
                    if mapped.etag == version.etag && mapped.alarm_uid == alarm {
                        continue;
                    }
                    (mapped.uid, alarm)
                }
                None => {
                    let uid = take(&mut next);
                    (uid, version.has_alarm.then(|| take(&mut next)))
                }
            };
            sqlx::query(
                "INSERT INTO item_map (account, collection, href, etag, uid, alarm_uid) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (account, collection, href) DO UPDATE SET etag = ?4, uid = ?5, alarm_uid = ?6",
            )
            .bind(account)
            .bind(collection)
            .bind(&version.href)
            .bind(&version.etag)
            .bind(as_sql(uid))
            .bind(alarm_uid.map(as_sql))
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
        }
        for href in removed {
            sqlx::query("DELETE FROM item_map WHERE account = ?1 AND collection = ?2 AND href = ?3")
                .bind(account)
                .bind(collection)
                .bind(href)
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
        }
        sqlx::query("UPDATE item_map_generation SET next_uid = ?3 WHERE account = ?1 AND collection = ?2")
            .bind(account)
            .bind(collection)
            .bind(as_sql(next))
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
        let updated = read_item_map(&mut transaction, account, collection).await?;
        transaction.commit().await.map_err(failed)?;
        Ok(updated)
    }

    async fn item_by_uid(&self, account: &str, collection: &str, uid: u64) -> StoreResult<Option<MappedItem>> {
        let row = sqlx::query(
            "SELECT href, etag, uid, alarm_uid FROM item_map
             WHERE account = ?1 AND collection = ?2 AND (uid = ?3 OR alarm_uid = ?3)",
        )
        .bind(account)
        .bind(collection)
        .bind(as_sql(uid))
        .fetch_optional(&self.pool)
        .await
        .map_err(failed)?;
        Ok(row.map(|row| mapped_item(&row)))
    }

    async fn forget_item_map(&self, account: &str, collection: &str) -> StoreResult<()> {
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        for statement in [
            "DELETE FROM item_map WHERE account = ?1 AND collection = ?2",
            "DELETE FROM item_map_generation WHERE account = ?1 AND collection = ?2",
            "DELETE FROM item_sync_token WHERE account = ?1 AND collection = ?2",
        ] {
            sqlx::query(statement).bind(account).bind(collection).execute(&mut *transaction).await.map_err(failed)?;
        }
        transaction.commit().await.map_err(failed)
    }

    async fn sync_token(&self, account: &str, collection: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT token FROM item_sync_token WHERE account = ?1 AND collection = ?2")
            .bind(account)
            .bind(collection)
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?;
        Ok(row.map(|row| row.get::<String, _>(0)))
    }

    async fn save_sync_token(&self, account: &str, collection: &str, token: Option<&str>) -> StoreResult<()> {
        let query = match token {
            Some(token) => sqlx::query(
                "INSERT INTO item_sync_token (account, collection, token) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO UPDATE SET token = excluded.token",
            )
            .bind(account)
            .bind(collection)
            .bind(token),
            None => sqlx::query("DELETE FROM item_sync_token WHERE account = ?1 AND collection = ?2")
                .bind(account)
                .bind(collection),
        };
        query.execute(&self.pool).await.map_err(failed)?;
        Ok(())
    }

    async fn message_aliases(&self, account: &str, key: &str) -> StoreResult<Option<MailboxAliases>> {
        self.aliases.get(&self.pool, account, key).await
    }

    async fn message_alias_generations(&self, account: &str) -> StoreResult<HashMap<String, (u32, String)>> {
        aliases::generations(&self.pool, account).await
    }

    async fn record_message_alias(
        &self,
        account: &str,
        key: &str,
        uid_validity: u32,
        agap_uid: u32,
        current: u32,
        new: u32,
    ) -> StoreResult<bool> {
        let _forget = ForgetAliasesAfter::mailbox(&self.aliases, account, key);
        aliases::record(&self.pool, account, key, uid_validity, agap_uid, current, new).await
    }

    async fn renew_message_alias_generation(&self, account: &str, key: &str, uid_validity: u32) -> StoreResult<()> {
        let _forget = ForgetAliasesAfter::mailbox(&self.aliases, account, key);
        aliases::renew(&self.pool, account, key, uid_validity).await
    }

    async fn drop_message_aliases(&self, account: &str, key: &str, imap_uids: &[u32]) -> StoreResult<()> {
        let _forget = ForgetAliasesAfter::mailbox(&self.aliases, account, key);
        aliases::drop_targets(&self.pool, account, key, imap_uids).await
    }

    async fn forget_message_aliases(&self, account: &str, key: &str) -> StoreResult<()> {
        let _forget = ForgetAliasesAfter::mailbox(&self.aliases, account, key);
        aliases::forget(&self.pool, account, key).await
    }

    async fn collection_marks(&self, account: &str) -> StoreResult<HashMap<String, String>> {
        let rows = sqlx::query("SELECT collection, mark FROM collection_mark WHERE account = ?1")
            .bind(account)
            .fetch_all(&self.pool)
            .await
            .map_err(failed)?;
        Ok(rows.iter().map(|row| (row.get::<String, _>(0), row.get::<String, _>(1))).collect())
    }

    async fn remember_collection_mark(&self, account: &str, collection: &str, mark: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO collection_mark (account, collection, mark) VALUES (?1, ?2, ?3)
             ON CONFLICT DO UPDATE SET mark = excluded.mark",
        )
        .bind(account)
        .bind(collection)
        .bind(mark)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn forget_collection_marks(&self, account: &str, collections: &[String]) -> StoreResult<()> {
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        for collection in collections {
            sqlx::query("DELETE FROM collection_mark WHERE account = ?1 AND collection = ?2")
                .bind(account)
                .bind(collection)
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
        }
        transaction.commit().await.map_err(failed)
    }
}

/// Hands out `next` and moves it on.
fn take(next: &mut u64) -> u64 {
    let uid = *next;
    *next += 1;
    uid
}

fn as_sql(uid: u64) -> i64 {
    i64::try_from(uid).unwrap_or(i64::MAX)
}

fn from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn mapped_item(row: &sqlx::sqlite::SqliteRow) -> MappedItem {
    MappedItem {
        href: row.get(0),
        etag: row.get(1),
        uid: from_sql(row.get(2)),
        alarm_uid: row.get::<Option<i64>, _>(3).map(from_sql),
    }
}

async fn read_item_map(
    connection: &mut sqlx::SqliteConnection,
    account: &str,
    collection: &str,
) -> StoreResult<ItemMap> {
    let generation: Option<String> =
        sqlx::query("SELECT generation FROM item_map_generation WHERE account = ?1 AND collection = ?2")
            .bind(account)
            .bind(collection)
            .fetch_optional(&mut *connection)
            .await
            .map_err(failed)?
            .map(|row| row.get(0));
    let rows = sqlx::query(
        "SELECT href, etag, uid, alarm_uid FROM item_map WHERE account = ?1 AND collection = ?2 ORDER BY uid",
    )
    .bind(account)
    .bind(collection)
    .fetch_all(&mut *connection)
    .await
    .map_err(failed)?;
    let items = rows.iter().map(mapped_item).collect();
    Ok(ItemMap { generation: generation.unwrap_or_default(), items })
}

impl SqliteStore {
    async fn read_counters(
        &self,
        account: &str,
        observations: &[Observation],
    ) -> StoreResult<HashMap<String, (String, u64)>> {
        let mut counters = HashMap::with_capacity(observations.len());
        // SQLite bounds the number of bound parameters; stay well below it.
        for chunk in observations.chunks(500) {
            let mut query: QueryBuilder<Sqlite> =
                QueryBuilder::new("SELECT scope, fingerprint, value FROM change_counter WHERE account = ");
            query.push_bind(account).push(" AND scope IN (");
            let mut separated = query.separated(", ");
            for observation in chunk {
                separated.push_bind(&observation.scope);
            }
            query.push(")");
            for row in query.build().fetch_all(&self.pool).await.map_err(failed)? {
                let value: i64 = row.get(2);
                counters.insert(row.get::<String, _>(0), (row.get::<String, _>(1), u64::try_from(value).unwrap_or(0)));
            }
        }
        Ok(counters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observation(scope: &str, fingerprint: &str) -> Observation {
        Observation { scope: scope.into(), fingerprint: fingerprint.into() }
    }

    #[test]
    fn every_migration_file_is_listed_once_under_its_version() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations folder")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS.iter().map(|(_, file, _)| (*file).to_owned()).collect();
        assert_eq!(listed, files);
        for (version, file, _) in MIGRATIONS {
            assert_eq!(file[..4].parse::<i64>().ok(), Some(version), "{file}");
        }
    }

    #[test]
    fn migrations_are_named_and_summed_as_sqlx_names_and_sums_them() {
        // Values sqlx::migrate! recorded in a store made before the list was written by hand.
        let made = migrations();
        assert_eq!(made[0].description, "folders and change counters");
        assert!(hex(&made[0].checksum).starts_with("83FD5488A03DF12437B1927CFB293480DDBA792EFB0D19A93E"));
        assert_eq!(made[2].description, "item map");
        assert!(hex(&made[2].checksum).starts_with("3DB49C80CA87A08B292BA8BDE5C688C59787069C7B74479E48B851CFEA18287B"));
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02X}")).collect()
    }

    async fn memory_store() -> SqliteStore {
        SqliteStore::open("sqlite::memory:").await.expect("in-memory store")
    }

    #[tokio::test]
    async fn counters_start_at_the_clock_and_grow_only_on_change() {
        let store = memory_store().await;
        let first = store.observe("alice", &[observation("fcid:INBOX", "a")], 1_000).await.expect("observe");
        assert_eq!(first, [1_000]);
        let same = store.observe("alice", &[observation("fcid:INBOX", "a")], 5_000).await.expect("observe");
        assert_eq!(same, [1_000], "no change, no new id");
        let changed = store.observe("alice", &[observation("fcid:INBOX", "b")], 1_200).await.expect("observe");
        assert_eq!(changed, [1_200]);
        let clock_behind = store.observe("alice", &[observation("fcid:INBOX", "c")], 10).await.expect("observe");
        assert_eq!(clock_behind, [1_201], "never smaller than before");
        let other_account = store.observe("bob", &[observation("fcid:INBOX", "c")], 7).await.expect("observe");
        assert_eq!(other_account, [7]);
    }

    #[tokio::test]
    async fn fold_records_follow_renames_and_deletes_of_whole_subtrees() {
        let store = memory_store().await;
        for key in ["A", "A/B", "A/B/C", "AB", "x%_"] {
            store.remember_kind("u", key, "FOLD").await.expect("remember");
        }
        store.rename_subtree("u", "A", "Z").await.expect("rename");
        let keys: std::collections::HashSet<String> =
            store.folder_kinds("u").await.expect("keys").into_keys().collect();
        assert_eq!(keys, ["Z", "Z/B", "Z/B/C", "AB", "x%_"].into_iter().map(String::from).collect());
        store.forget_subtree("u", "Z/B").await.expect("forget");
        store.forget_subtree("u", "x%").await.expect("forget nothing");
        let keys: std::collections::HashSet<String> =
            store.folder_kinds("u").await.expect("keys").into_keys().collect();
        assert_eq!(keys, ["Z", "AB", "x%_"].into_iter().map(String::from).collect());
    }

    #[tokio::test]
    async fn a_rename_replaces_stale_records_under_the_new_name() {
        let store = memory_store().await;
        store.remember_kind("u", "A", "FOLD").await.expect("remember");
        store.remember_kind("u", "Z", "FILT").await.expect("remember");
        store.remember_kind("u", "Z/old", "FOLD").await.expect("remember");
        store.save_filter_definition("u", "Z", "<stale/>").await.expect("save");
        store.rename_subtree("u", "A", "Z").await.expect("rename over stale records");
        let kinds = store.folder_kinds("u").await.expect("kinds");
        assert_eq!(kinds, [("Z".to_owned(), "FOLD".to_owned())].into_iter().collect());
        assert_eq!(store.filter_definition("u", "Z").await.expect("definition"), None);
    }

    fn seen(href: &str, etag: &str, has_alarm: bool) -> ItemVersion {
        ItemVersion { href: href.into(), etag: Some(etag.into()), has_alarm }
    }

    fn uids(map: &ItemMap) -> Vec<(String, u64, Option<u64>)> {
        map.items.iter().map(|item| (item.href.clone(), item.uid, item.alarm_uid)).collect()
    }

    #[tokio::test]
    async fn item_uids_grow_and_changed_items_keep_theirs() {
        let store = memory_store().await;
        let first = store
            .update_item_map("u", "/cal/", &[seen("/cal/a", "1", false), seen("/cal/b", "1", true)], &[], 5)
            .await
            .expect("update");
        assert_eq!(uids(&first), [("/cal/a".into(), 1, None), ("/cal/b".into(), 2, Some(3))]);
        assert!(!first.generation.is_empty());
        let second = store
            .update_item_map(
                "u",
                "/cal/",
                &[seen("/cal/a", "2", true), seen("/cal/b", "1", false), seen("/cal/c", "1", false)],
                &[],
                6,
            )
            .await
            .expect("update");
        assert_eq!(
            uids(&second),
            [("/cal/a".into(), 1, Some(4)), ("/cal/b".into(), 2, None), ("/cal/c".into(), 5, None)],
            "changed items keep their UID, a new alarm and a new item get bigger ones"
        );
        assert_eq!(second.generation, first.generation, "same map, same UCID");
        let third = store.update_item_map("u", "/cal/", &[], &["/cal/c".into()], 7).await.expect("update");
        assert_eq!(third.items.len(), 2);
        let alarm = store.item_by_uid("u", "/cal/", 4).await.expect("lookup").expect("the alarm's parent");
        assert_eq!((alarm.href.as_str(), alarm.uid), ("/cal/a", 1));
        assert_eq!(store.item_by_uid("u", "/cal/", 5).await.expect("lookup"), None, "deleted");
        let fourth = store.update_item_map("u", "/cal/", &[seen("/cal/d", "1", false)], &[], 8).await.expect("d");
        assert_eq!(fourth.items.last().map(|item| item.uid), Some(6), "the UID of a deleted item is never reused");
        store.forget_item_map("u", "/cal/").await.expect("forget");
        let rebuilt = store.update_item_map("u", "/cal/", &[seen("/cal/a", "2", false)], &[], 9).await.expect("new");
        assert_ne!(rebuilt.generation, first.generation, "a rebuilt map is a new generation");
    }

    #[tokio::test]
    async fn concurrent_updates_never_share_a_uid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("gateway.db").display());
        let store = std::sync::Arc::new(SqliteStore::open(&url).await.expect("open"));
        let mut tasks = Vec::new();
        for session in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for item in 0..10 {
                    let href = format!("/cal/{session}-{item}");
                    store.update_item_map("u", "/cal/", &[seen(&href, "1", false)], &[], 1).await.expect("update");
                }
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
        let map = store.item_map("u", "/cal/").await.expect("map");
        let mut all: Vec<u64> = map.items.iter().map(|item| item.uid).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 80);
    }

    #[tokio::test]
    async fn collection_marks_are_per_account_replaced_and_forgotten() {
        let store = memory_store().await;
        store.remember_collection_mark("alice", "/cal/a/", "TASK /Todo").await.expect("remember");
        store.remember_collection_mark("alice", "/cal/b/", "CALE /B").await.expect("remember");
        store.remember_collection_mark("bob", "/cal/a/", "CALE /Bob").await.expect("remember");
        store.remember_collection_mark("alice", "/cal/a/", "TASK /Work/Done").await.expect("replace");
        let marks = store.collection_marks("alice").await.expect("marks");
        assert_eq!(marks.len(), 2);
        assert_eq!(marks["/cal/a/"], "TASK /Work/Done");
        store.forget_collection_marks("alice", &["/cal/a/".into(), "/cal/none/".into()]).await.expect("forget");
        let marks = store.collection_marks("alice").await.expect("marks");
        assert_eq!(marks.keys().collect::<Vec<_>>(), ["/cal/b/"]);
        assert_eq!(store.collection_marks("bob").await.expect("marks")["/cal/a/"], "CALE /Bob");
    }

    #[tokio::test]
    async fn the_store_survives_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("gateway.db").display());
        {
            let store = SqliteStore::open(&url).await.expect("open");
            store.remember_kind("u", "Projects", "FOLD").await.expect("remember");
            store.save_filter_definition("u", "Projects", "<FILTER/>").await.expect("save");
            store.observe("u", &[observation("fcid:", "x")], 42).await.expect("observe");
        }
        let reopened = SqliteStore::open(&url).await.expect("reopen");
        assert_eq!(reopened.folder_kinds("u").await.expect("kinds").get("Projects").map(String::as_str), Some("FOLD"));
        assert_eq!(
            reopened.filter_definition("u", "Projects").await.expect("definition").as_deref(),
            Some("<FILTER/>")
        );
        assert_eq!(reopened.observe("u", &[observation("fcid:", "x")], 99).await.expect("observe"), [42]);
    }
}
