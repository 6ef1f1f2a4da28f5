//! Email over SMTP (`[email]`), through the outbox: every email is an `outbox` row (channel
//! `email`, target = its kind) written in the same transaction as what causes it, and sent by
//! the [`EmailCourier`] at least once. A row's id is the base of its Message-ID
//! (`<{id}@{domain of email.from}>`), so a retry sends the same Message-ID and a receiver can
//! drop the duplicate; ids are made from what causes the email (`offline_ack.{offline id}`), so
//! writing the same cause twice owes one email.
//!
//! What goes out: to the team, each offline message (Reply-To: the visitor) and each chat that
//! ended (`visitor_left`, `inactivity`) after the visitor wrote but before any agent did; to the
//! visitor, the acknowledgement of an offline message, the agent's answer (threaded under the
//! acknowledgement: In-Reply-To and References), and a closed chat's transcript on request.
//! Emails to visitor-typed addresses are "visitor-bound": an admin switch (`store::switches`)
//! stops them, checked when they are written and again when they are sent.
//!
//! The rows carry the email rendered (`render`: text and HTML in the visitor's language, every
//! typed string escaped in the HTML), so sending needs nothing but the row.

mod courier;
mod escape;
pub mod render;

use serde::{Deserialize, Serialize};

pub use courier::EmailCourier;
pub use escape::{escape_html, escape_lines};
use render::{Line, Rendered};

use super::transcripts::reader_of;
use super::{require_admin, require_agent, ServiceError, Services};
use crate::config::EmailSettings;
use crate::domain::{
    now_ms, ChatId, ChatStatus, CloseReason, Email, EventPayload, Lang, MessageBody, Principal,
};
use crate::store::outbox::{self, OutboxRow};
use crate::store::{agents, chats, messages, offline_messages, switches, visitors, DbConn, StoreError};

/// The outbox channel of emails.
pub const CHANNEL: &str = "email";

/// The kinds of email (`outbox.target`).
pub mod kind {
    /// To the team: an offline message.
    pub const OFFLINE_TEAM: &str = "offline_team";
    /// To the visitor: their offline message came in.
    pub const OFFLINE_ACK: &str = "offline_ack";
    /// To the visitor: the agent's answer to their offline message.
    pub const OFFLINE_ANSWER: &str = "offline_answer";
    /// To the team: a chat nobody answered.
    pub const UNANSWERED_CHAT: &str = "unanswered_chat";
    /// To whoever asked: a closed chat's transcript.
    pub const TRANSCRIPT: &str = "transcript";
}

/// Most messages of a chat put into one email.
const MAX_LINES: i64 = 2_000;

/// An email as an outbox row's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailPayload {
    /// The recipients' addresses.
    pub to: Vec<String>,
    /// Reply-To: a name and an address (the visitor's, on team emails).
    pub reply_to: Option<(String, String)>,
    /// The subject.
    pub subject: String,
    /// The `text/plain` part.
    pub text: String,
    /// The `text/html` part.
    pub html: String,
    /// `Content-Language`.
    pub lang: String,
    /// The Message-ID this one answers (In-Reply-To and References).
    pub in_reply_to: Option<String>,
    /// To an address a visitor typed: stopped by the admin switch.
    pub visitor_bound: bool,
}

/// What writing emails needs from `[email]`, when it is on.
#[derive(Debug, Clone)]
pub(crate) struct Mailroom {
    domain: String,
    team: Vec<String>,
}

impl Mailroom {
    /// `None` while email is off.
    pub fn new(settings: &EmailSettings) -> Option<Self> {
        if !settings.enabled() {
            return None;
        }
        let from = settings.from.parse::<lettre::message::Mailbox>().ok()?;
        Some(Self { domain: from.email.domain().to_string(), team: settings.team.clone() })
    }

    /// The Message-ID of the row `id`.
    pub fn message_id(&self, id: &str) -> String {
        format!("<{id}@{}>", self.domain)
    }

    fn row(&self, kind: &str, key: &str, payload: &EmailPayload) -> Result<OutboxRow, ServiceError> {
        let payload = serde_json::to_string(payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(OutboxRow::new(format!("{kind}.{key}"), CHANNEL, kind.to_string(), None, payload, now_ms()))
    }

    /// Writes an email to the team.
    fn to_team(
        &self,
        conn: &mut DbConn,
        kind: &str,
        key: &str,
        mail: Rendered,
        reply_to: Option<(String, String)>,
    ) -> Result<(), ServiceError> {
        let payload = EmailPayload {
            to: self.team.clone(),
            reply_to,
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
            lang: Lang::En.as_str().to_string(),
            in_reply_to: None,
            visitor_bound: false,
        };
        outbox::enqueue(conn, &[self.row(kind, key, &payload)?])?;
        Ok(())
    }

    /// Writes an email to an address a visitor gave; returns the row's id.
    #[allow(clippy::too_many_arguments)]
    fn to_visitor(
        &self,
        conn: &mut DbConn,
        kind: &str,
        key: &str,
        to: &str,
        lang: Lang,
        mail: Rendered,
        in_reply_to: Option<String>,
    ) -> Result<String, ServiceError> {
        let payload = EmailPayload {
            to: vec![to.to_string()],
            reply_to: None,
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
            lang: lang.as_str().to_string(),
            in_reply_to,
            visitor_bound: true,
        };
        let row = self.row(kind, key, &payload)?;
        let id = row.id.clone();
        outbox::enqueue(conn, &[row])?;
        Ok(id)
    }

    /// In the transaction that stores offline message `id`: the team's email and, when visitor
    /// email is on, the visitor's acknowledgement (then answers true).
    pub fn offline_message(
        &self,
        conn: &mut DbConn,
        row: &offline_messages::OfflineMessageRow,
    ) -> Result<bool, ServiceError> {
        let lang = row.lang.as_deref().map(|lang| Lang::from_stored(Some(lang)));
        let team = render::offline_team(&row.name, &row.email, &row.body, lang);
        let reply_to = Some((row.name.clone(), row.email.clone()));
        self.to_team(conn, kind::OFFLINE_TEAM, &row.id, team, reply_to)?;
        if switches::visitor_email_on(conn)? {
            let lang = lang.unwrap_or_default();
            let ack = render::offline_ack(lang, &row.name, &row.body);
            self.to_visitor(conn, kind::OFFLINE_ACK, &row.id, &row.email, lang, ack, None)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// In the transaction that ended `chat_id` for `reason`: the team's email, if the visitor
    /// wrote and no agent did.
    pub fn chat_ended(
        &self,
        conn: &mut DbConn,
        chat_id: ChatId,
        reason: CloseReason,
    ) -> Result<(), ServiceError> {
        if messages::has_agent_message(conn, chat_id)? {
            return Ok(());
        }
        let lines = lines_of(conn, chat_id)?;
        if !lines.iter().any(|line| line.from == crate::domain::Sender::Visitor) {
            return Ok(());
        }
        let chat = chats::find(conn, chat_id)?.ok_or(ServiceError::ChatNotFound)?;
        let visitor =
            visitors::find(conn, chat.visitor_id)?.map_or_else(|| "A visitor".to_string(), |v| v.name);
        let mail = render::unanswered_chat(&visitor, reason, &lines);
        self.to_team(conn, kind::UNANSWERED_CHAT, &chat_id.to_string(), mail, None)
    }
}

/// Counts an email to a visitor-typed address once its write committed (`kind` of [`kind`]).
pub(crate) fn count_visitor_email(kind: &'static str) {
    metrics::counter!("switchboard_visitor_emails_total", "kind" => kind).increment(1);
}

/// The messages of a chat, as transcript lines.
fn lines_of(conn: &mut DbConn, chat_id: ChatId) -> Result<Vec<Line>, ServiceError> {
    let mut lines = Vec::new();
    for row in messages::after(conn, chat_id, 0, MAX_LINES)? {
        let event = row.into_event()?;
        if let EventPayload::Message { from, body, sender_name, .. } = event.payload {
            lines.push(Line { at: event.at, from, name: sender_name, body });
        }
    }
    Ok(lines)
}

/// The answer to an offline message, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineAnswer {
    /// The offline message.
    pub id: String,
    /// Epoch ms.
    pub answered_at: i64,
    /// Whether an email to the visitor was written (email on, visitor email not switched off).
    pub emailed: bool,
}

/// The email settings admins see and change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailStatus {
    /// `[email]` is configured.
    pub configured: bool,
    /// Email to visitor-typed addresses is on.
    pub visitor_email: bool,
}

impl Services {
    /// What writing emails needs, while email is on.
    pub(crate) fn mailroom(&self) -> Option<Mailroom> {
        Mailroom::new(&self.settings.email)
    }

    /// Wakes the outbox sender after a write that added emails committed.
    pub(crate) fn emails_written(&self) {
        self.outbox_wake.notify_one();
    }

    /// An agent answers offline message `id`: the answer is stored with it and, when email is
    /// on, goes to the visitor threaded under the acknowledgement.
    pub async fn answer_offline_message(
        &self,
        principal: &Principal,
        id: String,
        answer: MessageBody,
    ) -> Result<OfflineAnswer, ServiceError> {
        let agent_id = require_agent(principal)?;
        let mailroom = self.mailroom();
        let answered = self
            .store
            .write(move |conn| {
                let row = offline_messages::find(conn, &id)?.ok_or(ServiceError::OfflineMessageNotFound)?;
                let now = now_ms();
                if !offline_messages::answer(conn, &id, answer.as_str(), &agent_id.to_string(), now)? {
                    return Err(ServiceError::AlreadyAnswered);
                }
                let mut emailed = false;
                if let Some(room) = mailroom {
                    if switches::visitor_email_on(conn)? {
                        let agent = agents::find(conn, agent_id)?.map(|agent| agent.name).unwrap_or_default();
                        let lang = Lang::from_stored(row.lang.as_deref());
                        let mail =
                            render::offline_answer(lang, &row.name, &row.body, answer.as_str(), &agent);
                        let ack = room.message_id(&format!("{}.{}", kind::OFFLINE_ACK, row.id));
                        room.to_visitor(
                            conn,
                            kind::OFFLINE_ANSWER,
                            &row.id,
                            &row.email,
                            lang,
                            mail,
                            Some(ack),
                        )?;
                        emailed = true;
                    }
                }
                Ok::<_, ServiceError>(OfflineAnswer { id, answered_at: now, emailed })
            })
            .await?;
        if answered.emailed {
            count_visitor_email(kind::OFFLINE_ANSWER);
            self.emails_written();
        }
        Ok(answered)
    }

    /// Emails the transcript of closed chat `chat_id` to `to`: asked by its visitor (from the
    /// widget), its agent or an admin. `lang` defaults to the language the widget last showed
    /// the visitor. Returns the email's id.
    pub async fn email_transcript(
        &self,
        principal: &Principal,
        chat_id: ChatId,
        to: Email,
        lang: Option<Lang>,
    ) -> Result<String, ServiceError> {
        let room = self.mailroom();
        let principal = *principal;
        let id = self
            .store
            .write(move |conn| {
                let chat = chats::find(conn, chat_id)?.ok_or(ServiceError::ChatNotFound)?;
                reader_of(&principal, &chat)?;
                if chat.status != ChatStatus::Closed {
                    return Err(ServiceError::ChatStillOpen);
                }
                let room = room.ok_or(ServiceError::EmailOff("email is not configured on this server"))?;
                if !switches::visitor_email_on(conn)? {
                    return Err(ServiceError::EmailOff("email to visitors is switched off"));
                }
                let lang = match lang {
                    Some(lang) => lang,
                    None => Lang::from_stored(visitors::lang(conn, chat.visitor_id)?.as_deref()),
                };
                let lines = lines_of(conn, chat_id)?;
                let mail = render::transcript(lang, &lines);
                let key = format!("{chat_id}.{}", uuid::Uuid::new_v4().simple());
                room.to_visitor(conn, kind::TRANSCRIPT, &key, to.as_str(), lang, mail, None)
            })
            .await?;
        count_visitor_email(kind::TRANSCRIPT);
        self.emails_written();
        Ok(id)
    }

    /// Whether email is configured and visitor email on (admins).
    pub async fn email_status(&self, principal: &Principal) -> Result<EmailStatus, ServiceError> {
        require_admin(principal)?;
        let visitor_email =
            self.store.run(|conn| switches::visitor_email_on(conn).map_err(ServiceError::from)).await?;
        Ok(EmailStatus { configured: self.settings.email.enabled(), visitor_email })
    }

    /// Turns email to visitor-typed addresses on or off (admins): off, none is written and
    /// none already written is sent.
    pub async fn set_visitor_email(
        &self,
        principal: &Principal,
        on: bool,
    ) -> Result<EmailStatus, ServiceError> {
        let admin = require_admin(principal)?;
        let value = if on { "on" } else { "off" };
        self.store
            .write(move |conn| {
                switches::set(conn, switches::VISITOR_EMAIL, value, &admin.to_string(), now_ms())
                    .map_err(ServiceError::from)
            })
            .await?;
        log::info!("admin {admin} turned visitor email {value}");
        Ok(EmailStatus { configured: self.settings.email.enabled(), visitor_email: on })
    }
}
