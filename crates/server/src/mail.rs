//! Email to patients (the consent code) over SMTP with `lettre`, when `[smtp]` is configured.
//! Sending happens after the request committed, in the background; a failure is logged
//! without the code or the address and never fails the request (the code is in the inbox).

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// `[smtp]` configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name.
    pub host: String,
    /// Port (587 for STARTTLS, 465 for TLS, 25 or a sink's port for plain).
    pub port: u16,
    /// `starttls` (default), `tls`, or `none` (only for a local relay or a test sink).
    #[serde(default = "default_security")]
    pub security: String,
    /// Sender, e.g. `medvault <no-reply@hospital.example>`.
    pub from: String,
    /// Login, if the server needs one.
    pub username: Option<String>,
    /// Password, if the server needs one.
    pub password: Option<SecretString>,
}

fn default_security() -> String {
    "starttls".into()
}

/// A configured SMTP transport.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Builds the transport (no connection is made until the first send).
    pub fn new(cfg: &SmtpConfig) -> anyhow::Result<Self> {
        let builder = match cfg.security.as_str() {
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host)?,
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)?,
            other => anyhow::bail!("smtp.security must be starttls, tls or none, not {other:?}"),
        };
        let mut builder = builder.port(cfg.port);
        if let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                pass.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from: cfg.from.parse()?,
        })
    }

    /// Sends the patient their one-time consent code, in the background, with what the
    /// request asks for (`scope`: who, which records and notes, why, for how long).
    pub fn send_consent_code(&self, to: &str, scope: &str, code: &str) {
        self.send(
            to,
            "Your medvault consent code",
            format!(
                "{scope}.\n\n\
                 If you agree, read this one-time code to them: {code}\n\n\
                 It is valid for a few minutes. If you do not agree, ignore this email or deny \
                 the request in the app. You can revoke access at any time.\n"
            ),
            "consent",
        );
    }

    /// Tells the old address that staff changed the account's e-mail to `new`.
    pub fn send_email_changed(&self, old: &str, new: &str) {
        self.send(
            old,
            "Your medvault e-mail address was changed",
            format!(
                "Staff changed the e-mail address of your medvault account to {new}.\n\n\
                 If you did not ask for this, contact your clinic at once. Until you confirm \
                 the new address in the app, consent codes are not sent to it for 24 hours.\n"
            ),
            "e-mail change notice",
        );
    }

    /// Tells the patient that a doctor gave too many wrong authenticator codes for their
    /// consent and can no longer use them.
    pub fn send_totp_locked(&self, to: &str) {
        self.send(
            to,
            "Wrong authenticator codes were given for your medvault consent",
            "A doctor gave several wrong authenticator codes for access to your records and can no \
             longer use your authenticator codes. Nobody got access with them.\n\n\
             If you did not expect this, tell your clinic. You can see the attempts in \"Who saw \
             my records\" and lift the lock on the Security page.\n"
                .to_owned(),
            "authenticator lock notice",
        );
    }

    /// Sends a new account's (or a reset's) temporary password to its owner: staff never see
    /// it when SMTP is configured.
    pub fn send_temporary_password(&self, to: &str, password: &str) {
        self.send(
            to,
            "Your medvault temporary password",
            format!(
                "A medvault account is ready for you (or its password was reset).\n\n\
                 Sign in with this temporary password: {password}\n\n\
                 It works once and for 24 hours; you will choose your own password right \
                 after signing in. If you did not expect this e-mail, tell your clinic.\n"
            ),
            "temporary password",
        );
    }

    /// Tells the owner that failed sign-ins locked their account, with the code that lifts the
    /// lock (and a link to the unlock page when the public address is known).
    pub fn send_account_locked(&self, to: &str, code: &str, link: Option<&str>) {
        let how = link.map_or_else(
            || format!("open the medvault sign-in page, choose \"Unlock your account\" and enter this code:\n\n{code}"),
            |link| format!("open this link:\n\n{link}"),
        );
        self.send(
            to,
            "Your medvault sign-in is locked",
            format!(
                "Several wrong passwords or codes were tried for your medvault account, so \
                 sign-in from that place is locked for a while.\n\n\
                 If that was you and you know your password now, {how}\n\n\
                 The code works once, for an hour. If it was not you, your account is safe: \
                 tell your clinic, and consider changing your password.\n"
            ),
            "account lock notice",
        );
    }

    /// Tells a user that an administrator removed their sign-in authenticator app.
    pub fn send_mfa_reset(&self, to: &str) {
        self.send(
            to,
            "Your medvault sign-in authenticator was reset",
            "An administrator removed the authenticator app that guarded your medvault sign-in,              and signed out your sessions. Staff accounts set up a new one at the next sign-in.

             If you did not ask for this, tell your clinic's administrator at once.
"
                .to_owned(),
            "second factor reset notice",
        );
    }

    /// Tells the patient at once that a doctor opened emergency access to their records.
    pub fn send_emergency_notice(
        &self,
        to: &str,
        doctor: &str,
        reason: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) {
        self.send(
            to,
            "Emergency access to your medvault records",
            format!(
                "{doctor} opened emergency access to your health records (reason: {reason}). \
                 It lets them read your records and notes without your consent until {} UTC.\n\n\
                 Emergency access is for when you cannot be asked. Every read is recorded and \
                 an administrator reviews each emergency access; you will see the outcome in \
                 the app, under \"Who saw my records\". If this is unexpected, tell your clinic.\n",
                until.format("%Y-%m-%d %H:%M")
            ),
            "emergency access notice",
        );
    }

    /// Builds and sends one plain-text message in the background; failures are logged (with
    /// `what`, never the content).
    fn send(&self, to: &str, subject: &str, body: String, what: &'static str) {
        let message = match to
            .parse::<Mailbox>()
            .map_err(anyhow::Error::from)
            .and_then(|to| {
                Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(subject)
                    .body(body)
                    .map_err(anyhow::Error::from)
            }) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, what, "email not built");
                return;
            }
        };
        let transport = self.transport.clone();
        tokio::spawn(async move {
            if let Err(e) = transport.send(message).await {
                tracing::warn!(error = %e, what, "email not sent");
            }
        });
    }
}
