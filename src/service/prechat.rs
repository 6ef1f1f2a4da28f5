//! Pre-chat forms: admins choose a site's fields (`Services::set_prechat_form`), the widget
//! reads them with the site's look (`Services::widget_look`), and a visitor's answers are checked against its site's
//! form in the transaction that starts its chat and stored with it (`answers_for`).

use super::sites::SiteView;
use super::{require_admin, ServiceError, Services};
use crate::domain::{
    now_ms, InvalidInput, KnownVisitor, PrechatAnswers, PrechatForm, Principal, SiteId, VisitorId,
};
use crate::store::prechat;
use crate::store::sites::{self, SiteChange};
use crate::store::DbConn;

/// What a visitor sent as `prechat`: field name → answer.
pub type RawAnswers = serde_json::Map<String, serde_json::Value>;

impl Services {
    /// Replaces a site's pre-chat form (admins only; an empty form removes it). Chats started
    /// earlier keep the answers (and labels) they were given.
    pub async fn set_prechat_form(
        &self,
        principal: &Principal,
        site_id: SiteId,
        form: PrechatForm,
    ) -> Result<SiteView, ServiceError> {
        require_admin(principal)?;
        let row = self
            .store
            .write(move |conn| {
                let change = SiteChange {
                    prechat_form: Some(form.to_stored()),
                    updated_at: now_ms(),
                    ..SiteChange::default()
                };
                if !sites::update(conn, site_id, &change)? {
                    return Err(ServiceError::SiteNotFound);
                }
                sites::find(conn, site_id)?.ok_or(ServiceError::SiteNotFound)
            })
            .await?;
        Ok(SiteView::from(row))
    }
}

/// The answers to store with a chat `visitor` starts, checked against its site's form: `None`
/// when its site has no form (then `raw` must be absent or empty). A verified visitor is not
/// asked the `name` and `email` fields; they are filled from its identity. Runs in the
/// transaction that starts the chat, so a refusal starts nothing.
pub(crate) fn answers_for(
    conn: &mut DbConn,
    visitor: VisitorId,
    raw: Option<&RawAnswers>,
) -> Result<Option<String>, ServiceError> {
    let visitor = prechat::visitor_form(conn, visitor)?.ok_or(ServiceError::VisitorNotFound)?;
    let form = PrechatForm::from_stored(&visitor.form);
    if form.is_empty() {
        if raw.is_some_and(|raw| !raw.is_empty()) {
            return Err(InvalidInput::new("prechat", "this site has no pre-chat form").into());
        }
        return Ok(None);
    }
    let known = (visitor.verified != 0)
        .then_some(KnownVisitor { name: visitor.name.as_str(), email: visitor.email.as_deref() });
    let empty = RawAnswers::new();
    let answers = PrechatAnswers::parse(&form, raw.unwrap_or(&empty), known)?;
    Ok(Some(answers.to_stored()))
}
