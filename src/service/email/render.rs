//! The emails' words: a subject, a plain text part and an HTML part, per language. Every string
//! a person typed goes into the HTML part through [`escape_html`] (or [`escape_lines`]).

use super::escape::{escape_html, escape_lines};
use crate::domain::{CloseReason, Lang, Sender};

/// One email's subject and two bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject.
    pub subject: String,
    /// The `text/plain` part.
    pub text: String,
    /// The `text/html` part.
    pub html: String,
}

/// One chat message in a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Epoch ms.
    pub at: i64,
    /// Who wrote it.
    pub from: Sender,
    /// The writer's display name, when known.
    pub name: Option<String>,
    /// The text.
    pub body: String,
}

/// The fixed words of one language.
struct Words {
    ack_subject: &'static str,
    hello: &'static str,
    ack: &'static str,
    your_message: &'static str,
    transcript_subject: &'static str,
    transcript_intro: &'static str,
    visitor: &'static str,
    agent: &'static str,
    system: &'static str,
}

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &Words {
            ack_subject: "We received your message",
            hello: "Hello {name},",
            ack: "Thank you for your message. We will answer you by email as soon as we can.",
            your_message: "Your message:",
            transcript_subject: "Your chat transcript",
            transcript_intro: "Here is the transcript of your chat (times in UTC):",
            visitor: "Visitor",
            agent: "Agent",
            system: "System",
        },
        Lang::Zh => &Words {
            ack_subject: "我们已收到您的留言",
            hello: "{name}，您好：",
            ack: "感谢您的留言。我们会尽快通过电子邮件回复您。",
            your_message: "您的留言：",
            transcript_subject: "您的聊天记录",
            transcript_intro: "以下是您的聊天记录（时间为 UTC）：",
            visitor: "访客",
            agent: "客服",
            system: "系统",
        },
        Lang::Ko => &Words {
            ack_subject: "메시지를 받았습니다",
            hello: "{name}님, 안녕하세요.",
            ack: "메시지를 보내 주셔서 감사합니다. 최대한 빨리 이메일로 답변드리겠습니다.",
            your_message: "보내신 메시지:",
            transcript_subject: "채팅 기록",
            transcript_intro: "채팅 기록입니다 (시간은 UTC):",
            visitor: "방문자",
            agent: "상담원",
            system: "시스템",
        },
    }
}

/// A whole HTML document around `body` (already escaped).
fn page(lang: Lang, subject: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{body}</body>\n</html>\n",
        lang.as_str(),
        escape_html(subject)
    )
}

fn quoted(text: &str) -> String {
    text.lines().map(|line| format!("> {line}\n")).collect()
}

/// To the visitor: their offline message came in.
pub fn offline_ack(lang: Lang, name: &str, body: &str) -> Rendered {
    let w = words(lang);
    let subject = w.ack_subject.to_string();
    let text =
        format!("{}\n\n{}\n\n{}\n{}", w.hello.replace("{name}", name), w.ack, w.your_message, quoted(body));
    let html = page(
        lang,
        &subject,
        &format!(
            "<p>{}</p>\n<p>{}</p>\n<p>{}</p>\n<blockquote>{}</blockquote>\n",
            escape_html(&w.hello.replace("{name}", name)),
            escape_html(w.ack),
            escape_html(w.your_message),
            escape_lines(body)
        ),
    );
    Rendered { subject, text, html }
}

/// To the visitor: the agent's answer, under the acknowledgement's subject.
pub fn offline_answer(lang: Lang, name: &str, body: &str, answer: &str, agent: &str) -> Rendered {
    let w = words(lang);
    let subject = format!("Re: {}", w.ack_subject);
    let hello = w.hello.replace("{name}", name);
    let text = format!("{hello}\n\n{answer}\n\n{agent}\n\n{}\n{}", w.your_message, quoted(body));
    let html = page(
        lang,
        &subject,
        &format!(
            "<p>{}</p>\n<p>{}</p>\n<p>{}</p>\n<p>{}</p>\n<blockquote>{}</blockquote>\n",
            escape_html(&hello),
            escape_lines(answer),
            escape_html(agent),
            escape_html(w.your_message),
            escape_lines(body)
        ),
    );
    Rendered { subject, text, html }
}

/// To the team: an offline message (in English: the team's language is not known).
pub fn offline_team(name: &str, email: &str, body: &str, lang: Option<Lang>) -> Rendered {
    let subject = format!("Offline message from {name}");
    let lang_note = lang.map_or(String::new(), |lang| format!(" (widget language: {})", lang.as_str()));
    let text = format!(
        "{name} <{email}> left a message while nobody was online{lang_note}. Reply to this email to answer, or answer from the console.\n\n{body}\n"
    );
    let html = page(
        Lang::En,
        &subject,
        &format!(
            "<p>{} &lt;{}&gt; left a message while nobody was online{}. Reply to this email to answer, or answer from the console.</p>\n<blockquote>{}</blockquote>\n",
            escape_html(name),
            escape_html(email),
            escape_html(&lang_note),
            escape_lines(body)
        ),
    );
    Rendered { subject, text, html }
}

/// The clock time of epoch ms `at`, UTC: `HH:MM`.
fn clock(at: i64) -> String {
    let minutes = at.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn who(w: &Words, line: &Line) -> String {
    match (&line.name, line.from) {
        (Some(name), Sender::Visitor | Sender::Agent) => name.clone(),
        (_, Sender::Visitor) => w.visitor.to_string(),
        (_, Sender::Agent) => w.agent.to_string(),
        (_, Sender::System) => w.system.to_string(),
    }
}

fn lines_text(w: &Words, lines: &[Line]) -> String {
    lines.iter().map(|line| format!("[{}] {}: {}\n", clock(line.at), who(w, line), line.body)).collect()
}

fn lines_html(w: &Words, lines: &[Line]) -> String {
    let rows: String = lines
        .iter()
        .map(|line| {
            format!(
                "<tr><td>{}</td><th>{}</th><td>{}</td></tr>\n",
                clock(line.at),
                escape_html(&who(w, line)),
                escape_lines(&line.body)
            )
        })
        .collect();
    format!("<table>\n{rows}</table>\n")
}

/// To whoever asked: a closed chat's messages.
pub fn transcript(lang: Lang, lines: &[Line]) -> Rendered {
    let w = words(lang);
    let subject = w.transcript_subject.to_string();
    let text = format!("{}\n\n{}", w.transcript_intro, lines_text(w, lines));
    let html = page(
        lang,
        &subject,
        &format!("<p>{}</p>\n{}", escape_html(w.transcript_intro), lines_html(w, lines)),
    );
    Rendered { subject, text, html }
}

/// To the team: a chat that ended before any agent wrote in it.
pub fn unanswered_chat(visitor: &str, reason: CloseReason, lines: &[Line]) -> Rendered {
    let w = words(Lang::En);
    let why = match reason {
        CloseReason::Inactivity => "went quiet",
        CloseReason::VisitorLeft => "left",
        _ => "ended",
    };
    let subject = format!("Unanswered chat: {visitor} {why} before an agent wrote");
    let intro =
        format!("{visitor} {why} before any agent wrote in the chat. What they wrote (times in UTC):");
    let text = format!("{intro}\n\n{}", lines_text(w, lines));
    let html = page(Lang::En, &subject, &format!("<p>{}</p>\n{}", escape_html(&intro), lines_html(w, lines)));
    Rendered { subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_visitor_typed_is_escaped_in_the_html_part_only() {
        let name = "<script>alert(1)</script>";
        let mail = offline_ack(Lang::En, name, "a & b\n<i>c</i>");
        assert!(mail.text.contains(name) && mail.text.contains("<i>c</i>"));
        assert!(!mail.html.contains("<script>") && !mail.html.contains("<i>"), "{}", mail.html);
        assert!(
            mail.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                && mail.html.contains("a &amp; b<br>")
        );
        let lines =
            [Line { at: 0, from: Sender::Visitor, name: Some(name.into()), body: "<b>hi</b>".into() }];
        for mail in [transcript(Lang::Ko, &lines), unanswered_chat(name, CloseReason::Inactivity, &lines)] {
            assert!(!mail.html.contains("<script>") && !mail.html.contains("<b>"), "{}", mail.html);
        }
    }

    #[test]
    fn each_language_has_its_own_words() {
        assert_eq!(offline_ack(Lang::Zh, "安", "x").subject, "我们已收到您的留言");
        assert!(offline_ack(Lang::Ko, "안", "x").html.starts_with("<!DOCTYPE html>\n<html lang=\"ko\">"));
        assert_eq!(offline_answer(Lang::En, "Ana", "q", "a", "Bo").subject, "Re: We received your message");
        assert_eq!(clock(25 * 3_600_000 + 61_000), "01:01");
    }
}
