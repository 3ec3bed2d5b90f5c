//! Handing one mail to the SMTP server, through `lettre` (STARTTLS or implicit TLS over rustls,
//! optional AUTH), and telling a refusal for good (5xx) from one worth retrying (4xx, no connection,
//! a timeout). Each mail has a connection of its own, closed after it: lettre's async client bounds
//! only the connect with its timeout, so a conversation is cut off from outside, and a connection cut
//! off mid-command must never carry the next mail. Townhall opens the TCP connection itself with
//! Nagle's algorithm off (and, for `smtps://`, its TLS with rustls) and hands it to lettre: lettre
//! writes a mail's end in small pieces, and with Nagle on each conversation waited out the peer's
//! delayed acknowledgement (about 40 ms), which held the worker to 78 mails a second
//! (docs/benchmarks.md).

use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use super::outbox::Claimed;
use crate::config::{MailConfig, SmtpTls};

/// Mails handed to the server side by side, each on its own connection.
pub const CONNECTIONS: u32 = 4;

/// The configured SMTP server, ready to send.
#[derive(Clone)]
pub struct Smtp {
    host: String,
    port: u16,
    /// STARTTLS's parameters, when it is required.
    starttls: Option<TlsParameters>,
    /// The TLS client for implicit TLS, when the URL is `smtps://`.
    implicit: Option<tokio_rustls::TlsConnector>,
    credentials: Option<Credentials>,
    hello: ClientId,
    from: Mailbox,
    /// The longest one mail's whole conversation may take.
    timeout: std::time::Duration,
}

/// What went wrong in a conversation Townhall led itself.
enum Trouble {
    Smtp(lettre::transport::smtp::Error),
    Connect(std::io::Error),
}

/// Why a mail did not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Worth trying again later: the server said 4xx, could not be reached, or stalled.
    Later(String),
    /// The server refused for good (5xx), or the mail cannot be made.
    Never(String),
}

impl Smtp {
    /// The transport for `config`; the error says what in the configuration is wrong.
    pub fn new(config: &MailConfig) -> Result<Smtp, String> {
        let from: Mailbox = config.from.parse().map_err(|e| format!("TOWNHALL_MAIL_FROM: {e}"))?;
        let tls_parameters = || -> Result<TlsParameters, String> {
            let mut builder = TlsParameters::builder(config.host.clone());
            if let Some(file) = &config.ca_file {
                let pem = std::fs::read(file).map_err(|e| format!("TOWNHALL_SMTP_CA_FILE: {}: {e}", file.display()))?;
                let certificate = Certificate::from_pem(&pem)
                    .map_err(|e| format!("TOWNHALL_SMTP_CA_FILE: {}: {e}", file.display()))?;
                builder = builder.add_root_certificate(certificate);
            }
            builder.build_rustls().map_err(|e| format!("TLS for {}: {e}", config.host))
        };
        let starttls = match config.tls {
            SmtpTls::StartTls => Some(tls_parameters()?),
            _ => None,
        };
        let implicit = match config.tls {
            SmtpTls::Implicit => Some(implicit_tls(config)?),
            _ => None,
        };
        let credentials =
            config.credentials.as_ref().map(|(user, password)| Credentials::new(user.clone(), password.clone()));
        Ok(Smtp {
            host: config.host.clone(),
            port: config.port,
            starttls,
            implicit,
            credentials,
            hello: ClientId::default(),
            from,
            timeout: config.timeout,
        })
    }

    /// Sends one mail from the outbox.
    pub async fn send(&self, mail: &Claimed) -> Result<(), Refusal> {
        let message = self.message(mail).map_err(Refusal::Never)?;
        match tokio::time::timeout(self.timeout, self.converse(&message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Trouble::Smtp(e))) if e.is_permanent() => Err(Refusal::Never(describe(&e))),
            Ok(Err(Trouble::Smtp(e))) => Err(Refusal::Later(describe(&e))),
            Ok(Err(Trouble::Connect(e))) => {
                Err(Refusal::Later(format!("cannot connect to {}:{}: {e}", self.host, self.port)))
            }
            Err(_) => Err(Refusal::Later(format!("the server did not finish within {} s", self.timeout.as_secs()))),
        }
    }

    /// One conversation on a connection of Townhall's own: TLS first for `smtps://`, EHLO, STARTTLS
    /// when required, AUTH when configured, the mail, QUIT.
    async fn converse(&self, message: &Message) -> Result<(), Trouble> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port)).await.map_err(Trouble::Connect)?;
        tcp.set_nodelay(true).map_err(Trouble::Connect)?;
        let stream: Box<dyn AsyncTokioStream> = match &self.implicit {
            Some(connector) => {
                let name = ServerName::try_from(self.host.clone())
                    .map_err(|e| Trouble::Connect(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
                Box::new(ImplicitTls(connector.connect(name, tcp).await.map_err(Trouble::Connect)?))
            }
            None => Box::new(tcp),
        };
        let mut connection =
            AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await.map_err(Trouble::Smtp)?;
        if let Some(parameters) = &self.starttls {
            connection.starttls(parameters.clone(), &self.hello).await.map_err(Trouble::Smtp)?;
        }
        if let Some(credentials) = &self.credentials {
            connection.auth(DEFAULT_MECHANISMS, credentials).await.map_err(Trouble::Smtp)?;
        }
        connection.send(message.envelope(), &message.formatted()).await.map_err(Trouble::Smtp)?;
        // The server has the mail; a failed goodbye changes nothing.
        let _ = connection.quit().await;
        Ok(())
    }

    fn message(&self, mail: &Claimed) -> Result<Message, String> {
        let address = mail.to_address.parse().map_err(|_| format!("`{}` is not a usable address", mail.to_address))?;
        let name = super::one_line(&mail.to_name, 100);
        let to = Mailbox::new((!name.is_empty()).then_some(name), address);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(super::one_line(&mail.subject, 200))
            .message_id(Some(mail.message_id.clone()))
            .date_now()
            .header(AutoSubmitted);
        if let Some(url) = &mail.unsubscribe_url {
            builder = builder.header(ListUnsubscribe(url.clone())).header(ListUnsubscribePost);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(mail.text_body.clone(), mail.html_body.clone()))
            .map_err(|e| format!("the mail cannot be made: {e}"))
    }
}

/// The TLS client for `smtps://`: the public authorities (webpki-roots, as lettre's own) and the
/// configured CA file's, over rustls with ring.
fn implicit_tls(config: &MailConfig) -> Result<tokio_rustls::TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(file) = &config.ca_file {
        let certificates = CertificateDer::pem_file_iter(file)
            .map_err(|e| format!("TOWNHALL_SMTP_CA_FILE: {}: {e}", file.display()))?;
        for certificate in certificates {
            let certificate = certificate.map_err(|e| format!("TOWNHALL_SMTP_CA_FILE: {}: {e}", file.display()))?;
            roots.add(certificate).map_err(|e| format!("TOWNHALL_SMTP_CA_FILE: {}: {e}", file.display()))?;
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS for {}: {e}", config.host))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(tls)))
}

/// An implicit-TLS connection, handed to lettre as its stream.
struct ImplicitTls(tokio_rustls::client::TlsStream<TcpStream>);

impl std::fmt::Debug for ImplicitTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImplicitTls")
    }
}

impl AsyncRead for ImplicitTls {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// The server's own words when it answered, else what went wrong on the way.
fn describe(error: &lettre::transport::smtp::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text.chars().take(500).collect()
}

/// `Auto-Submitted: auto-generated` (RFC 3834): out-of-office replies are not sent back to us.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// `List-Unsubscribe: <https://…>` for one-click unsubscribing from notification mails (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.trim_matches(['<', '>']).to_owned()))
    }
    fn display(&self) -> HeaderValue {
        // The address is the site's own URL with a hex token: no character that could break a header.
        let url: String = self.0.chars().filter(|c| c.is_ascii_graphic() && *c != '<' && *c != '>').collect();
        HeaderValue::new(Self::name(), format!("<{url}>"))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}
