//! Pre-chat forms and answers: the form of a visitor's site (`sites.prechat_form`), with what a
//! verified visitor's identity already says, and a chat's answers (`chats.prechat`).

use diesel::prelude::*;

use super::schema::{chats, sites, visitors};
use super::DbConn;
use crate::domain::{ChatId, VisitorId};

/// A visitor as the pre-chat form sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorForm {
    /// The form of the visitor's site, as stored (JSON list; `[]` when the site has none or the
    /// visitor has no site).
    pub form: String,
    /// 1 when the visitor's identity was signed by its site.
    pub verified: i32,
    /// The visitor's display name.
    pub name: String,
    /// The email its identity gave, if any.
    pub email: Option<String>,
}

/// The form `visitor` is asked; `None` when there is no such visitor. One read: the visitor
/// joined to its site (this runs in every chat start's transaction).
pub fn visitor_form(conn: &mut DbConn, visitor: VisitorId) -> QueryResult<Option<VisitorForm>> {
    let row: Option<(Option<String>, i32, String, Option<String>)> = visitors::table
        .left_join(sites::table.on(visitors::site_id.eq(sites::id.nullable())))
        .filter(visitors::id.eq(visitor))
        .select((sites::prechat_form.nullable(), visitors::verified, visitors::name, visitors::email))
        .first(conn)
        .optional()?;
    Ok(row.map(|(form, verified, name, email)| VisitorForm {
        form: form.unwrap_or_else(|| "[]".to_string()),
        verified,
        name,
        email,
    }))
}

/// Stores a chat's answers (a JSON list).
pub fn set_answers(conn: &mut DbConn, chat: ChatId, answers: &str) -> QueryResult<()> {
    diesel::update(chats::table.find(chat)).set(chats::prechat.eq(Some(answers))).execute(conn).map(drop)
}

/// A chat's answers, as stored (`None`: no form was asked).
pub fn answers(conn: &mut DbConn, chat: ChatId) -> QueryResult<Option<String>> {
    chats::table
        .find(chat)
        .select(chats::prechat)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}
