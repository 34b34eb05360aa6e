//! Email through SMTP with lettre: multipart text + HTML, charts inline by
//! Content-ID, STARTTLS, implicit TLS or plain (local relays), optional auth,
//! and a deterministic Message-ID so a resend is recognisable.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use super::delivery::{DeliveryError, Secret};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587). The default.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS at all: only for relays on the same host or network.
    None,
}

/// An email receiver.
#[derive(Debug, Clone)]
pub struct EmailReceiver {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    pub to: Vec<String>,
    pub timeout: Duration,
}

/// An image shown inside the HTML part (`<img src="cid:...">`).
#[derive(Debug, Clone, PartialEq)]
pub struct InlineImage {
    /// Referenced as `cid:<content_id>` from the HTML.
    pub content_id: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailMessage {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub inline_images: Vec<InlineImage>,
    /// Stable per (event, receiver), e.g. `<evt-123.ops-mail@verdict>`.
    pub message_id: String,
}

/// `<{event}.{receiver}@verdict>`: the same event sent again to the same
/// receiver has the same Message-ID, so mail clients show it as a resend.
pub fn message_id(event_id: &str, receiver: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!("<{}.{}@verdict>", clean(event_id), clean(receiver))
}

impl EmailReceiver {
    fn permanent(&self, reason: impl Into<String>) -> DeliveryError {
        DeliveryError::Permanent {
            receiver: self.name.clone(),
            reason: reason.into(),
        }
    }

    /// Builds the MIME message: multipart/alternative of text and a
    /// multipart/related HTML part carrying the inline images.
    pub fn build(&self, msg: &EmailMessage) -> Result<Message, DeliveryError> {
        let from: Mailbox = self
            .from
            .parse()
            .map_err(|e| self.permanent(format!("invalid from address {:?}: {e}", self.from)))?;
        let mut builder = Message::builder()
            .from(from)
            .subject(msg.subject.clone())
            .message_id(Some(msg.message_id.clone()));
        if self.to.is_empty() {
            return Err(self.permanent("no recipients (`to` is empty)"));
        }
        for to in &self.to {
            let mailbox: Mailbox = to
                .parse()
                .map_err(|e| self.permanent(format!("invalid recipient {to:?}: {e}")))?;
            builder = builder.to(mailbox);
        }
        let mut related = MultiPart::related().singlepart(SinglePart::html(msg.html.clone()));
        for img in &msg.inline_images {
            let content_type = ContentType::parse(&img.content_type).map_err(|e| {
                self.permanent(format!("invalid image type {:?}: {e}", img.content_type))
            })?;
            related = related.singlepart(
                Attachment::new_inline(img.content_id.clone())
                    .body(img.bytes.clone(), content_type),
            );
        }
        let body = MultiPart::alternative()
            .singlepart(SinglePart::plain(msg.text.clone()))
            .multipart(related);
        builder
            .multipart(body)
            .map_err(|e| self.permanent(format!("cannot build the message: {e}")))
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliveryError> {
        let mut builder = match self.security {
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&self.host).map_err(|e| {
                    self.permanent(format!("invalid SMTP host {:?}: {e}", self.host))
                })?
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&self.host)
                .map_err(|e| self.permanent(format!("invalid SMTP host {:?}: {e}", self.host)))?,
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            }
        }
        .port(self.port)
        .timeout(Some(self.timeout));
        if let (Some(user), Some(password)) = (&self.username, &self.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(builder.build())
    }

    /// Sends the message. Connection problems and SMTP 4xx replies are
    /// retryable; 5xx replies (rejected recipient, auth failure) are not.
    pub async fn send(&self, msg: &EmailMessage) -> Result<(), DeliveryError> {
        let message = self.build(msg)?;
        let transport = self.transport()?;
        match transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let reason = match &self.password {
                    Some(p) => p.scrub(&format!("SMTP {}:{}: {e}", self.host, self.port)),
                    None => format!("SMTP {}:{}: {e}", self.host, self.port),
                };
                if e.is_permanent() {
                    Err(self.permanent(reason))
                } else {
                    Err(DeliveryError::Retryable {
                        receiver: self.name.clone(),
                        reason,
                        retry_after: None,
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_and_safe() {
        assert_eq!(
            message_id("evt 42", "ops mail"),
            "<evt-42.ops-mail@verdict>"
        );
        assert_eq!(
            message_id("evt 42", "ops mail"),
            message_id("evt 42", "ops mail")
        );
    }

    #[test]
    fn invalid_addresses_are_permanent_errors() {
        let r = EmailReceiver {
            name: "ops".into(),
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "not an address".into(),
            to: vec!["sre@example.org".into()],
            timeout: Duration::from_secs(1),
        };
        let msg = EmailMessage {
            subject: "s".into(),
            text: "t".into(),
            html: "<p>h</p>".into(),
            inline_images: vec![],
            message_id: message_id("e", "ops"),
        };
        let err = r.build(&msg).unwrap_err();
        assert!(!err.is_retryable());
        assert!(
            err.to_string()
                .starts_with("ops: invalid from address \"not an address\""),
            "{err}"
        );
    }
}
