//! Sends the outbox's email rows over SMTP with lettre.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{EmailPayload, Mailroom, CHANNEL};
use crate::config::{EmailSettings, SmtpTls};
use crate::service::outbox::{Backoff, Courier, Delivering, Delivery};
use crate::store::outbox::OutboxRow;
use crate::store::{switches, Store, StoreError};

/// Delivers `email` rows to the SMTP server of `[email]`.
pub struct EmailCourier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    mailroom: Mailroom,
    backoff: Backoff,
    store: Store,
}

impl EmailCourier {
    /// The courier `settings` describe; `None` while email is off. A server name that TLS
    /// cannot use is an error.
    pub fn new(settings: &EmailSettings, store: Store) -> Result<Option<Arc<Self>>, String> {
        let (Some(mailroom), Ok(from)) = (Mailroom::new(settings), settings.from.parse::<Mailbox>()) else {
            return Ok(None);
        };
        let server = settings.server.as_str();
        let builder = match settings.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(server)
                .map_err(|e| format!("email.server {server:?}: {e}"))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(server)
                .map_err(|e| format!("email.server {server:?}: {e}"))?,
        };
        let mut builder =
            builder.port(settings.port).timeout(Some(Duration::from_secs(settings.timeout_secs.max(1))));
        if !settings.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                settings.username.expose().to_string(),
                settings.password.expose().to_string(),
            ));
        }
        let backoff =
            Backoff { first: Duration::from_millis(settings.retry_first_ms.max(1)), ..Backoff::default() };
        Ok(Some(Arc::new(Self { transport: builder.build(), from, mailroom, backoff, store })))
    }

    /// The message of `row`; `Err` when it can never be built (an address that is none).
    fn message(&self, row: &OutboxRow, email: &EmailPayload) -> Result<Message, String> {
        build(&self.from, self.mailroom.message_id(&row.id), email)
    }

    async fn send(&self, row: &OutboxRow) -> Delivery {
        let email: EmailPayload = match serde_json::from_str(&row.payload) {
            Ok(email) => email,
            Err(error) => return Delivery::Refused { status: None, error: format!("payload: {error}") },
        };
        if email.visitor_bound {
            let on = self.store.run(|conn| switches::visitor_email_on(conn).map_err(StoreError::from)).await;
            match on {
                Ok(true) => {}
                Ok(false) => {
                    return Delivery::Refused { status: None, error: "visitor email is switched off".into() }
                }
                Err(error) => return Delivery::Retry { status: None, error: error.to_string() },
            }
        }
        let message = match self.message(row, &email) {
            Ok(message) => message,
            Err(error) => return Delivery::Refused { status: None, error },
        };
        match self.transport.send(message).await {
            Ok(response) => Delivery::Sent { status: code(&response.code().to_string()) },
            Err(error) => {
                let status = error.status().and_then(|status| code(&status.to_string()));
                if error.is_permanent() {
                    Delivery::Refused { status, error: error.to_string() }
                } else {
                    Delivery::Retry { status, error: error.to_string() }
                }
            }
        }
    }
}

/// The message `email` describes, from `from`, with `message_id`; `Err` when it can never be
/// built (an address that is none).
fn build(from: &Mailbox, message_id: String, email: &EmailPayload) -> Result<Message, String> {
    let mut builder =
        Message::builder().from(from.clone()).subject(one_line(&email.subject)).message_id(Some(message_id));
    for to in &email.to {
        builder = builder.to(to.parse::<Mailbox>().map_err(|e| format!("to {to:?}: {e}"))?);
    }
    if let Some((name, address)) = &email.reply_to {
        let address = address.parse().map_err(|e| format!("reply-to {address:?}: {e}"))?;
        builder = builder.reply_to(Mailbox::new(Some(one_line(name)), address));
    }
    if let Some(parent) = &email.in_reply_to {
        builder = builder.in_reply_to(parent.clone()).references(parent.clone());
    }
    builder = builder
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Content-Language"), email.lang.clone()));
    let body = MultiPart::alternative()
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(email.text.clone()))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(email.html.clone()));
    builder.multipart(body).map_err(|e| e.to_string())
}

/// `text` for a header: every control character (a typed line break above all) becomes a
/// space, so no typed text can end a header or start another — and lettre, which refuses to
/// write such a header, never meets one.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// An SMTP reply code as a number.
fn code(text: &str) -> Option<i32> {
    text.parse().ok()
}

impl Courier for EmailCourier {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    fn backoff(&self) -> Backoff {
        self.backoff
    }

    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> Delivering<'a> {
        Box::pin(self.send(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_break_typed_into_a_header_cannot_add_a_header() {
        let email = EmailPayload {
            to: vec!["team@example.com".into()],
            reply_to: Some(("Ana\r\nBcc: evil@example.com".into(), "ana@example.com".into())),
            subject: "Offline message from Ana\r\nBcc: evil@example.com".into(),
            text: "hello".into(),
            html: "<p>hello</p>".into(),
            lang: "en".into(),
            in_reply_to: None,
            visitor_bound: false,
        };
        let from: Mailbox = "help@example.com".parse().expect("an address");
        let message = build(&from, "<x@example.com>".into(), &email).expect("builds");
        let raw = String::from_utf8(message.formatted()).expect("text");
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
        assert!(raw.contains("Offline message from Ana  Bcc: evil@example.com"), "{raw}");
        assert_eq!(message.envelope().to().len(), 1, "one recipient: {raw}");
    }
}
