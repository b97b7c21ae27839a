//! Mounts the app; everything else lives in the library so its logic is testable on the host.

fn main() {
    #[cfg(target_arch = "wasm32")]
    {
        console_error_panic_hook::set_once();
        leptos::mount::mount_to_body(medvault_frontend::App);
    }
}
