//! Sites: the websites that embed the widget. Admins register each one with its origins; it
//! gets a signing secret (shown once, kept sealed, rotatable) that its own server signs visitor
//! identities with, and says how the widget looks there and whether it admits only verified
//! visitors.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::site_secrets::{new_secret, shown_part};
use super::{require_admin, ServiceError, Services};
use crate::domain::{now_ms, Color, Embedding, Greeting, Lang, Principal, SiteId, SiteName, SiteOrigins};
use crate::store::sites::{self, SiteChange, SiteRow};
use crate::store::{DbConn, StoreError};

/// A site as admins see it; never its secret.
#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    /// Its id: the `data-site` of the widget's script tag.
    pub site_id: SiteId,
    /// What admins call it.
    pub name: String,
    /// Its origins.
    pub origins: Vec<String>,
    /// The secret's first characters, to tell secrets apart.
    pub secret_prefix: String,
    /// Epoch ms the secret was made.
    pub secret_rotated_at: i64,
    /// The widget's greeting there.
    pub greeting: Option<String>,
    /// The widget's color there (`#rrggbb`).
    pub color: Option<String>,
    /// The widget's language when the page does not say (`en`, `zh`, `ko`).
    pub default_lang: Option<String>,
    /// Whether only visitors with a valid identity are admitted.
    pub require_verified: bool,
    /// The pre-chat form's fields.
    pub prechat_form: serde_json::Value,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the last change.
    pub updated_at: i64,
}

impl From<SiteRow> for SiteView {
    fn from(row: SiteRow) -> Self {
        Self {
            site_id: row.id,
            name: row.name,
            origins: SiteOrigins::from_stored(&row.origins).iter().map(|o| o.as_str().to_string()).collect(),
            secret_prefix: row.secret_prefix,
            secret_rotated_at: row.secret_rotated_at,
            greeting: row.greeting,
            color: row.color,
            default_lang: row.default_lang,
            require_verified: row.require_verified != 0,
            prechat_form: serde_json::from_str(&row.prechat_form).unwrap_or_else(|_| serde_json::json!([])),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// What an admin gives for a new site.
#[derive(Debug, Clone)]
pub struct NewSite {
    /// Its name.
    pub name: SiteName,
    /// Its origins.
    pub origins: SiteOrigins,
    /// The widget's greeting there.
    pub greeting: Option<Greeting>,
    /// The widget's color there.
    pub color: Option<Color>,
    /// The widget's language there when the page does not say.
    pub default_lang: Option<Lang>,
    /// Whether only verified visitors are admitted.
    pub require_verified: bool,
}

/// What an admin changes of a site: `None` leaves a field as it is; `Some(None)` clears the
/// greeting, color or default language.
#[derive(Debug, Clone, Default)]
pub struct SiteEdit {
    /// New name.
    pub name: Option<SiteName>,
    /// New origins.
    pub origins: Option<SiteOrigins>,
    /// New greeting, or none.
    pub greeting: Option<Option<Greeting>>,
    /// New color, or none.
    pub color: Option<Option<Color>>,
    /// New default language, or none.
    pub default_lang: Option<Option<Lang>>,
    /// New verification rule.
    pub require_verified: Option<bool>,
}

impl SiteEdit {
    /// True when it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.origins.is_none()
            && self.greeting.is_none()
            && self.color.is_none()
            && self.default_lang.is_none()
            && self.require_verified.is_none()
    }
}

/// What the widget's frame needs of its site (public: nothing secret, nothing about visitors).
#[derive(Debug, Clone, Serialize)]
pub struct WidgetLook {
    /// The site's id.
    pub site_id: SiteId,
    /// Its name.
    pub name: String,
    /// The greeting at the top of an empty chat, shown as text.
    pub greeting: Option<String>,
    /// The accent color (`#rrggbb`).
    pub color: Option<String>,
    /// The language when the page does not say.
    pub default_lang: Option<String>,
    /// Whether visitors need a valid identity there.
    pub require_verified: bool,
    /// The pre-chat form's fields.
    pub prechat_form: serde_json::Value,
}

/// What deleting a site did.
#[derive(Debug, Clone, Serialize)]
pub struct DeletedSite {
    /// The site as it was.
    pub site: SiteView,
    /// How many of its visitors now belong to no site (their chats are kept).
    pub visitors_detached: usize,
}

impl Services {
    /// Registers a site (admins only): answers it and its signing secret, which is never shown
    /// again.
    pub async fn create_site(
        &self,
        principal: &Principal,
        site: NewSite,
    ) -> Result<(SiteView, String), ServiceError> {
        require_admin(principal)?;
        let secret = new_secret();
        let now = now_ms();
        let row = SiteRow {
            id: SiteId::new(),
            name: site.name.as_str().to_string(),
            origins: site.origins.to_stored(),
            secret_sealed: self.sealing_key().await?.seal(&secret),
            secret_prefix: shown_part(&secret),
            secret_rotated_at: now,
            greeting: site.greeting.map(|g| g.as_str().to_string()),
            color: site.color.map(|c| c.as_str().to_string()),
            default_lang: site.default_lang.map(|l| l.as_str().to_string()),
            require_verified: i32::from(site.require_verified),
            prechat_form: "[]".to_string(),
            created_at: now,
            updated_at: now,
        };
        let stored = row.clone();
        self.store.write(move |conn| Ok::<_, ServiceError>(sites::insert(conn, &stored)?)).await?;
        self.site_origins.put(row.id, site.origins);
        Ok((SiteView::from(row), secret))
    }

    /// Every site, oldest first (admins only).
    pub async fn sites(&self, principal: &Principal) -> Result<Vec<SiteView>, ServiceError> {
        require_admin(principal)?;
        let rows = self.store.run(|conn| sites::all(conn).map_err(ServiceError::from)).await?;
        Ok(rows.into_iter().map(SiteView::from).collect())
    }

    /// The site with this id, as stored; `SiteNotFound` when there is none.
    pub async fn site_row(&self, site_id: SiteId) -> Result<SiteRow, ServiceError> {
        self.store
            .run(move |conn| sites::find(conn, site_id).map_err(ServiceError::from))
            .await?
            .ok_or(ServiceError::SiteNotFound)
    }

    /// The node's site key (`[sites]`). Its first use reads or makes the key file, which is
    /// file I/O (with an fsync): done on a blocking thread, never on an async worker.
    async fn sealing_key(&self) -> Result<&super::site_secrets::SiteKey, ServiceError> {
        if let Some(key) = self.site_key.loaded() {
            return Ok(key);
        }
        let cell = Arc::clone(&self.site_key);
        tokio::task::spawn_blocking(move || cell.get().map(drop).map_err(|error| error.to_string()))
            .await
            .map_err(|error| error.to_string())
            .and_then(|read| read)
            .map_err(ServiceError::SiteKeyUnavailable)?;
        self.site_key.loaded().ok_or_else(|| ServiceError::SiteKeyUnavailable("not read".into()))
    }

    /// A site's signing secret, opened with this node's site key.
    pub async fn site_secret(&self, row: &SiteRow) -> Result<String, ServiceError> {
        self.sealing_key().await?.open(&row.secret_sealed).map_err(|_| ServiceError::SiteKeyMismatch)
    }

    /// One site (admins only).
    pub async fn site(&self, principal: &Principal, site_id: SiteId) -> Result<SiteView, ServiceError> {
        require_admin(principal)?;
        Ok(SiteView::from(self.site_row(site_id).await?))
    }

    /// Changes a site (admins only); its new origins count on this node at once, on the others
    /// within [`site_origins::RELOAD_EVERY`](super::site_origins::RELOAD_EVERY).
    pub async fn change_site(
        &self,
        principal: &Principal,
        site_id: SiteId,
        edit: SiteEdit,
    ) -> Result<SiteView, ServiceError> {
        require_admin(principal)?;
        let change = SiteChange {
            name: edit.name.map(|name| name.as_str().to_string()),
            origins: edit.origins.as_ref().map(SiteOrigins::to_stored),
            greeting: edit.greeting.map(|g| g.map(|g| g.as_str().to_string())),
            color: edit.color.map(|c| c.map(|c| c.as_str().to_string())),
            default_lang: edit.default_lang.map(|l| l.map(|l| l.as_str().to_string())),
            require_verified: edit.require_verified.map(i32::from),
            prechat_form: None,
            updated_at: now_ms(),
        };
        let row = self
            .store
            .write(move |conn| {
                if !sites::update(conn, site_id, &change)? {
                    return Err(ServiceError::SiteNotFound);
                }
                sites::find(conn, site_id)?.ok_or(ServiceError::SiteNotFound)
            })
            .await?;
        self.site_origins.put(site_id, SiteOrigins::from_stored(&row.origins));
        Ok(SiteView::from(row))
    }

    /// Gives a site a new signing secret (admins only), answered here only. The old one stops
    /// working at once on every node: each identity check opens the secret from the store.
    pub async fn rotate_site_secret(
        &self,
        principal: &Principal,
        site_id: SiteId,
    ) -> Result<(SiteView, String), ServiceError> {
        require_admin(principal)?;
        let secret = new_secret();
        let (sealed, prefix) = (self.sealing_key().await?.seal(&secret), shown_part(&secret));
        let row = self
            .store
            .write(move |conn| {
                if !sites::set_secret(conn, site_id, &sealed, &prefix, now_ms())? {
                    return Err(ServiceError::SiteNotFound);
                }
                sites::find(conn, site_id)?.ok_or(ServiceError::SiteNotFound)
            })
            .await?;
        Ok((SiteView::from(row), secret))
    }

    /// Deletes a site (admins only). Its visitors are kept, with their chats and transcripts,
    /// as visitors of no site; its origins stop admitting the widget (at once here, on the
    /// other nodes within [`site_origins::RELOAD_EVERY`](super::site_origins::RELOAD_EVERY)).
    pub async fn delete_site(
        &self,
        principal: &Principal,
        site_id: SiteId,
    ) -> Result<DeletedSite, ServiceError> {
        require_admin(principal)?;
        let (row, visitors_detached) = self
            .store
            .write(move |conn| {
                let row = sites::find(conn, site_id)?.ok_or(ServiceError::SiteNotFound)?;
                let detached = sites::detach_visitors(conn, site_id)?;
                sites::delete(conn, site_id)?;
                Ok::<_, ServiceError>((row, detached))
            })
            .await?;
        self.site_origins.remove(site_id);
        Ok(DeletedSite { site: SiteView::from(row), visitors_detached })
    }

    /// What the widget's frame shows on a site (public).
    pub async fn widget_look(&self, site_id: SiteId) -> Result<WidgetLook, ServiceError> {
        let view = SiteView::from(self.site_row(site_id).await?);
        Ok(WidgetLook {
            site_id: view.site_id,
            name: view.name,
            greeting: view.greeting,
            color: view.color,
            default_lang: view.default_lang,
            require_verified: view.require_verified,
            prechat_form: view.prechat_form,
        })
    }

    /// Refuses a widget of site `row` that says it runs in a page outside that site's origins
    /// (unless `cors.allowed_origins` or this server's own pages admit it).
    pub fn check_site_embedding(&self, row: &SiteRow, embedding: &Embedding) -> Result<(), ServiceError> {
        let listed = SiteOrigins::from_stored(&row.origins).contains(&embedding.origin);
        if listed || self.allowed_origins.admits(embedding) {
            Ok(())
        } else {
            Err(ServiceError::OriginNotAllowed)
        }
    }

    /// Reads every site's origins into memory (at start, before the first request).
    pub fn load_site_origins_blocking(&self) -> Result<usize, StoreError> {
        let changes = self.site_origins.changes();
        let origins = self.store.run_blocking(read_origins)?;
        let count = origins.len();
        self.site_origins.replace(origins, changes);
        Ok(count)
    }

    /// Reads every site's origins into memory again: other nodes' changes arrive. False when a
    /// change made here meanwhile deferred it.
    pub async fn reload_site_origins(&self) -> Result<bool, ServiceError> {
        let changes = self.site_origins.changes();
        let origins = self.store.run(read_origins).await?;
        Ok(self.site_origins.replace(origins, changes))
    }
}

fn read_origins(conn: &mut DbConn) -> Result<HashMap<SiteId, SiteOrigins>, StoreError> {
    let rows = sites::all_origins(conn)?;
    Ok(rows.into_iter().map(|(id, origins)| (id, SiteOrigins::from_stored(&origins))).collect())
}
