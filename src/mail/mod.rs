//! Mail. Whatever causes a mail writes it, rendered, to the outbox in its own transaction
//! ([`queue`]); a background worker ([`worker`]) sends it through the configured SMTP server, with
//! retries, so a request never waits for a mail server and a mail server that is down loses
//! nothing. Without SMTP configured nothing is queued, and each place that would mail says so.

pub mod outbox;
pub mod smtp;
pub mod worker;

use askama::Template;

use crate::db::{Exec, now};

/// One mail to one person, as queued.
#[derive(Debug, Clone)]
pub struct Mail {
    /// What it is (`reset`, `confirm`, `invitation`, `test`, …), for the admin's outbox view.
    pub kind: &'static str,
    /// The account it is for, when it is for one.
    pub recipient_id: Option<i64>,
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A notification mail's one-click unsubscribe address (RFC 8058).
    pub unsubscribe_url: Option<String>,
}

impl Mail {
    /// A mail with its two rendered parts (text, HTML); the name and subject on one line each.
    fn addressed(
        kind: &'static str,
        recipient_id: Option<i64>,
        to_address: &str,
        to_name: &str,
        subject: &str,
        (text, html): (String, String),
    ) -> Mail {
        Mail {
            kind,
            recipient_id,
            to_address: to_address.to_owned(),
            to_name: one_line(to_name, 100),
            subject: one_line(subject, 200),
            text,
            html,
            unsubscribe_url: None,
        }
    }
}

/// What a simple mail says: a greeting, a few paragraphs, one button (and its link in the text
/// part), and a line on why the person got it. Rendered to both parts by [`Message::mail`].
pub struct Message {
    pub subject: String,
    pub greeting: String,
    pub paragraphs: Vec<String>,
    pub action: Option<Action>,
    /// Paragraphs after the button (how long a link works, what to do if it was not you).
    pub after: Vec<String>,
    /// Why this mail came, at the bottom.
    pub footer: String,
}

pub struct Action {
    pub label: String,
    pub url: String,
}

/// A mail that lists things (notifications, a digest): sections of items, each a line of text with
/// an optional quote and a link, then a button, and at the bottom where to change what is mailed.
pub struct Listing {
    pub subject: String,
    pub greeting: String,
    pub intro: String,
    pub sections: Vec<Section>,
    pub action: Option<Action>,
    pub footer: String,
    /// The person's mail settings page.
    pub settings_url: String,
    /// The one-click unsubscribe address for this kind of mail.
    pub unsubscribe_url: String,
}

pub struct Section {
    pub title: String,
    pub items: Vec<Item>,
}

pub struct Item {
    pub text: String,
    /// A quote of what it is about (a post's first words), or empty.
    pub quote: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "mail/listing.txt")]
struct ListingText<'a> {
    site: &'a str,
    m: &'a Listing,
}

#[derive(Template)]
#[template(path = "mail/listing.html")]
struct ListingHtml<'a> {
    site: &'a str,
    m: &'a Listing,
}

impl Listing {
    pub fn mail(
        &self,
        site: &str,
        kind: &'static str,
        recipient_id: i64,
        to_address: &str,
        to_name: &str,
    ) -> Result<Mail, askama::Error> {
        let parts = (ListingText { site, m: self }.render()?, ListingHtml { site, m: self }.render()?);
        let mail = Mail::addressed(kind, Some(recipient_id), to_address, to_name, &self.subject, parts);
        Ok(Mail { unsubscribe_url: Some(self.unsubscribe_url.clone()), ..mail })
    }
}

#[derive(Template)]
#[template(path = "mail/message.txt")]
struct TextPart<'a> {
    site: &'a str,
    m: &'a Message,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct HtmlPart<'a> {
    site: &'a str,
    m: &'a Message,
}

impl Message {
    /// The mail to `to_address`, with both parts rendered; `site` is the site's name.
    pub fn mail(
        &self,
        site: &str,
        kind: &'static str,
        recipient_id: Option<i64>,
        to_address: &str,
        to_name: &str,
    ) -> Result<Mail, askama::Error> {
        let parts = (TextPart { site, m: self }.render()?, HtmlPart { site, m: self }.render()?);
        Ok(Mail::addressed(kind, recipient_id, to_address, to_name, &self.subject, parts))
    }
}

/// `text` on one line, at most `most` characters: a name or subject can never carry a line break
/// into a mail's headers.
pub fn one_line(text: &str, most: usize) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    flat.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(most).collect()
}

/// Writes `mail` to the outbox in the caller's transaction. Call [`wake`] after the commit. An
/// address the mail system cannot use is refused here, before anything is promised.
pub async fn queue(db: &mut impl Exec, mail: &Mail, site_host: &str) -> Result<i64, QueueError> {
    if mail.to_address.parse::<lettre::Address>().is_err() {
        return Err(QueueError::Address(mail.to_address.clone()));
    }
    let message_id = format!("<{}@{}>", uuid::Uuid::new_v4().simple(), site_host);
    Ok(outbox::insert(db, mail, &message_id, now()).await?)
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("`{0}` is not an address mail can be sent to")]
    Address(String),
    #[error("the mail was not rendered: {0}")]
    Render(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Mail as this site sends it: the configuration's public origin for links, the site's name in
/// every mail. `None` when no SMTP server is configured.
pub struct Outgoing<'a> {
    pub origin: &'a str,
}

impl<'a> Outgoing<'a> {
    pub fn of(config: &'a crate::config::Config) -> Option<Outgoing<'a>> {
        config.mail.as_ref()?;
        config.public_url.as_deref().map(|origin| Outgoing { origin })
    }

    /// The address of `path` (`/password/…`) on the site.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.origin.trim_end_matches('/'))
    }

    /// Renders `message` for `to` and queues it in `db`'s transaction (call [`wake`] after the commit).
    pub async fn queue(
        &self,
        db: &mut impl Exec,
        message: &Message,
        kind: &'static str,
        recipient_id: Option<i64>,
        to_address: &str,
        to_name: &str,
    ) -> Result<i64, QueueError> {
        let site = crate::site::name();
        let mail = message.mail(&site, kind, recipient_id, to_address, to_name)?;
        queue(db, &mail, host_of(self.origin)).await
    }
}

impl From<askama::Error> for QueueError {
    fn from(e: askama::Error) -> Self {
        QueueError::Render(e.to_string())
    }
}

impl From<QueueError> for crate::web::AppError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Address(address) => {
                crate::web::AppError::BadRequest(format!("Mail cannot be sent to `{address}`: check the address."))
            }
            QueueError::Render(why) => crate::web::AppError::Internal(format!("a mail was not rendered: {why}")),
            QueueError::Database(e) => e.into(),
        }
    }
}

/// Wakes this process's worker: a mail was queued (call after the commit). Other processes find it
/// within a second.
pub fn wake() {
    worker::QUEUED.notify_one();
}

/// The host part of the site's public address, for Message-IDs (`townhall.example.com`).
pub fn host_of(public_url: &str) -> &str {
    let rest = public_url.split_once("://").map_or(public_url, |(_, r)| r);
    rest.split(['/', ':']).next().filter(|h| !h.is_empty()).unwrap_or("townhall.invalid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_subjects_lose_line_breaks() {
        assert_eq!(one_line("Ana\r\nBcc: eve@evil.example", 100), "Ana Bcc: eve@evil.example");
        assert_eq!(one_line("  a \t b  ", 100), "a b");
        assert_eq!(one_line("abcdef", 3), "abc");
    }

    #[test]
    fn both_parts_carry_the_link_and_the_html_part_escapes() {
        let message = Message {
            subject: "Reset".into(),
            greeting: "Hello <Ana>,".into(),
            paragraphs: vec!["Someone asked & so on.".into()],
            action: Some(Action { label: "Choose a new password".into(), url: "https://t.example/password/ab".into() }),
            after: vec![],
            footer: "You got this because".into(),
        };
        let mail = message.mail("Townhall", "reset", Some(1), "ana@example.com", "Ana").unwrap();
        assert!(mail.text.contains("https://t.example/password/ab"));
        assert!(mail.text.contains("Hello <Ana>,"));
        assert!(mail.html.contains("href=\"https://t.example/password/ab\""));
        assert!(mail.html.contains("Hello &#60;Ana&#62;,") || mail.html.contains("Hello &lt;Ana&gt;,"));
        assert!(mail.html.contains("asked &#38; so on") || mail.html.contains("asked &amp; so on"));
    }

    #[test]
    fn message_ids_use_the_public_host() {
        assert_eq!(host_of("https://townhall.example.com"), "townhall.example.com");
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1");
    }
}
