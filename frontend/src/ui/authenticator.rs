//! Setting up an authenticator app, as both places that do it show it: the patient's consent
//! authenticator and everyone's sign-in authenticator. The app scans the QR code (or takes the
//! key typed in), and the form that follows confirms it with a first code.

use leptos::prelude::*;

use crate::api::dto::TotpEnrollment;

/// The numbered steps of a new secret: its QR code, its key for typing, and the prompt for
/// the first code (the confirming form comes right after).
#[component]
pub fn EnrolmentSteps(
    /// The secret the server made.
    enrollment: TotpEnrollment,
    /// Element id of the QR image.
    qr_id: &'static str,
    /// Element id of the typed key.
    secret_id: &'static str,
) -> impl IntoView {
    let e = enrollment;
    view! {
        <ol>
            <li>"Scan this QR code with your authenticator app:"<br/>
                <img class="qr" id=qr_id src=format!("data:image/png;base64,{}", e.qr_png_base64) alt="QR code of your authenticator secret"/></li>
            <li>"Or type this key: " <code class="mono" id=secret_id>{e.secret_base32}</code></li>
            <li>"Enter the 6-digit code the app now shows:"</li>
        </ol>
    }
}
