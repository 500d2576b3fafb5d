//! The account's calendar and contact collections: listing them with their marks, and keeping
//! each mark where the server allows (docs/calendars.md, "Where a collection's place is kept"):
//! on the collection where the server keeps dead properties, else in the gateway's store.

use agap_adapter_api::collection::{CollectionInfo, ItemKind, MarkOutcome};

use super::Account;
use crate::error::{AgapError, AgapResult};
use crate::folder::{ReservedSetup, mark, reserved_setup, with_stored_marks};
use crate::gateway::Gateway;

impl Account {
    /// The account's collections with their marks. When the DAV server fails, the mail folders
    /// stay usable: the tree is shown without collections (logged), and commands on them answer
    /// 410.
    pub(super) async fn list_collections(&self, gateway: &Gateway) -> Vec<CollectionInfo> {
        match self.marked_collections(gateway).await {
            Ok(list) => list,
            Err(error) => {
                tracing::warn!(user = %self.user, %error, "could not list calendars and address books");
                Vec::new()
            }
        }
    }

    /// Every collection, each with its mark from the server or, where the server keeps none, from
    /// the store; stored marks of collections gone (or marked on the server now) are forgotten.
    async fn marked_collections(&self, gateway: &Gateway) -> AgapResult<Vec<CollectionInfo>> {
        let Some(collections) = &self.collections else { return Ok(Vec::new()) };
        // The store first: see `with_stored_marks`.
        let stored = gateway.store.collection_marks(&self.user).await?;
        let listing = collections.list_collections().await?;
        let (marked, stale) = with_stored_marks(listing, &stored);
        if !stale.is_empty()
            && let Err(error) = gateway.store.forget_collection_marks(&self.user, &stale).await
        {
            tracing::warn!(user = %self.user, %error, "could not forget the marks of collections gone");
        }
        Ok(marked)
    }

    /// Makes sure /CALENDAR, /TASK, /JOURNAL and /CONTACT exist (draft 2.9.4;
    /// docs/interpretations.md, RESERVED-FOLDERS): a collection marked for the folder; else an
    /// existing one adopted (see `reserved_setup`); else a new one. Nothing is made unless the
    /// listing succeeded.
    pub(super) async fn ensure_reserved_collections(&self, gateway: &Gateway) -> AgapResult<()> {
        if self.collections.is_none() {
            return Ok(());
        }
        let existing = self.marked_collections(gateway).await?;
        for (reserved, action) in reserved_setup(&existing) {
            let (kind, path) = (reserved.kind(), reserved.path());
            let Some(items) = kind.item_kind() else { continue };
            let result = match action {
                ReservedSetup::Present => continue,
                ReservedSetup::Adopt(info) => {
                    tracing::info!(user = %self.user, folder = reserved.agap_name(), collection = %info.id, "adopting an existing collection");
                    let mark = mark(kind, &path);
                    let name = info.display_name.as_deref().unwrap_or(reserved.display_name());
                    match self.mark_collection(gateway, &info.id, &mark, name).await {
                        // Where the server keeps no mark, the reserved collection's display name
                        // is what finds it again once the store is lost (`reserved_setup`).
                        Ok(MarkOutcome::NotKept) if name != reserved.display_name() => {
                            self.mark_collection(gateway, &info.id, &mark, reserved.display_name()).await.map(|_| ())
                        }
                        outcome => outcome.map(|_| ()),
                    }
                }
                ReservedSetup::Create => {
                    tracing::info!(user = %self.user, folder = reserved.agap_name(), "creating the collection");
                    self.create_collection(gateway, items, &mark(kind, &path), reserved.display_name())
                        .await
                        .map(|_| ())
                }
            };
            if let Err(error) = result {
                tracing::warn!(user = %self.user, folder = reserved.agap_name(), %error, "could not set up reserved folder");
            }
        }
        Ok(())
    }

    /// Creates a collection for `items` with `mark`. Where the server did not keep the mark, the
    /// store keeps it; where that fails, or the server made a collection that cannot hold
    /// `items`, the collection is removed again: none is left behind unmarked.
    pub async fn create_collection(
        &self,
        gateway: &Gateway,
        items: ItemKind,
        mark: &str,
        display_name: &str,
    ) -> AgapResult<CollectionInfo> {
        let collections = self.collections()?;
        let made = collections.create_collection(items, mark, display_name).await?;
        let kept = if !made.accepts.contains(&items) {
            Err(AgapError::invalid(format!("the server made a collection that cannot hold {items:?}")))
        } else if made.agap_mark.as_deref() == Some(mark) {
            Ok(())
        } else {
            gateway.store.remember_collection_mark(&self.user, &made.id, mark).await.map_err(AgapError::from)
        };
        if let Err(error) = kept {
            if let Err(undo) = collections.delete_collection(&made.id).await {
                tracing::warn!(user = %self.user, collection = %made.id, error = %undo, "could not remove a collection left without its mark");
            }
            return Err(error);
        }
        Ok(CollectionInfo { agap_mark: Some(mark.to_owned()), ..made })
    }

    /// Gives an existing collection `mark` and `display_name`: on the collection where the
    /// server keeps it, else in the store (replacing a mark kept in the other place).
    pub async fn mark_collection(
        &self,
        gateway: &Gateway,
        collection: &str,
        mark: &str,
        display_name: &str,
    ) -> AgapResult<MarkOutcome> {
        let outcome = self.collections()?.set_mark(collection, mark, display_name).await?;
        match outcome {
            MarkOutcome::Kept => {
                gateway.store.forget_collection_marks(&self.user, &[collection.to_owned()]).await?;
            }
            MarkOutcome::NotKept => gateway.store.remember_collection_mark(&self.user, collection, mark).await?,
        }
        Ok(outcome)
    }

    /// Forgets what the store keeps of a deleted collection: its UID map and its mark.
    pub async fn forget_collection(&self, gateway: &Gateway, collection: &str) -> AgapResult<()> {
        gateway.store.forget_item_map(&self.user, collection).await?;
        gateway.store.forget_collection_marks(&self.user, &[collection.to_owned()]).await?;
        Ok(())
    }
}
