//! E-mail through SMTP with lettre: STARTTLS (default), TLS from the first
//! byte, or none for a local relay; a login when `SMTP_USER` and
//! `SMTP_PASSWORD` are set. Each message is plain text plus simple HTML,
//! with the booking's `.ics` event or the receipt's PDF attached, and a Message-ID made from the
//! notification's idempotency key (a mail client shows a resent copy once).

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::config::{SmtpConfig, SmtpSecurity};
use super::render::Outgoing;
use super::sender::SendError;

/// Time the SMTP server has for each command.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// An SMTP sender.
pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
}

impl Email {
    /// The transport `config` describes.
    ///
    /// # Errors
    /// A sender address that is not one, or TLS parameters that cannot be made.
    pub fn new(config: &SmtpConfig) -> Result<Self, String> {
        let from: Mailbox = config.from.parse().map_err(|e| format!("SMTP_FROM '{}': {e}", config.from))?;
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str()).port(config.port).timeout(Some(SMTP_TIMEOUT));
        let tls = || TlsParameters::new(config.host.clone()).map_err(|e| format!("SMTP TLS for {}: {e}", config.host));
        builder = match config.security {
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls()?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
            SmtpSecurity::None => builder.tls(Tls::None),
        };
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
        }
        let domain = from.email.domain().to_string();
        Ok(Email { transport: builder.build(), from, domain })
    }

    /// Sends `out` to its recipient; returns the Message-ID.
    ///
    /// # Errors
    /// A recipient that is not an address (permanent), an SMTP 5xx
    /// (permanent), a 4xx, time-out or connection failure (retryable).
    pub async fn send(&self, out: &Outgoing) -> Result<String, SendError> {
        let to: Mailbox = out.recipient.parse().map_err(|e| SendError::permanent(format!("not an e-mail address: {e}")))?;
        let id_part: String = out.key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '.' }).collect();
        let message_id = format!("<{id_part}@{}>", self.domain);
        let body = MultiPart::alternative_plain_html(out.text.clone(), out.html.clone());
        let body = match &out.ics {
            Some(ics) => {
                let calendar = ContentType::parse("text/calendar; charset=utf-8; method=REQUEST")
                    .map_err(|e| SendError::permanent(format!("calendar content type: {e}")))?;
                MultiPart::mixed().multipart(body).singlepart(Attachment::new("appuntamento.ics".to_string()).body(ics.clone(), calendar))
            }
            None => body,
        };
        let body = match &out.pdf {
            Some((name, bytes)) => {
                let pdf = ContentType::parse("application/pdf").map_err(|e| SendError::permanent(format!("PDF content type: {e}")))?;
                MultiPart::mixed().multipart(body).singlepart(Attachment::new(name.clone()).body(bytes.clone(), pdf))
            }
            None => body,
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(out.subject.clone())
            .message_id(Some(message_id.clone()))
            .multipart(body)
            .map_err(|e| SendError::permanent(format!("e-mail not built: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(message_id),
            Err(e) => {
                let text = format!("SMTP: {e}");
                Err(if e.is_permanent() { SendError::permanent(text) } else { SendError::transient(text) })
            }
        }
    }
}
