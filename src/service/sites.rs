//! Sites: the websites that embed the widget. Admins register each one with its origins; it
//! gets a signing secret (shown once, kept sealed, rotatable) that its own server signs visitor
//! identities with, and says how the widget looks there and whether it admits only verified
//! visitors.

use serde::Serialize;

use super::site_secrets::{new_secret, shown_part};
use super::{require_admin, ServiceError, Services};
use crate::domain::{now_ms, Color, Greeting, Lang, Principal, SiteId, SiteName, SiteOrigins};
use crate::store::sites::{self, SiteRow};

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
            secret_sealed: self.site_key.seal(&secret),
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

    /// A site's signing secret, opened with this node's site key.
    pub fn site_secret(&self, row: &SiteRow) -> Result<String, ServiceError> {
        self.site_key.open(&row.secret_sealed).map_err(|_| ServiceError::SiteKeyMismatch)
    }
}
