//! stub
use leptos::prelude::*;
/// x
#[component] pub fn Details() -> impl IntoView { view!{<p>"x"</p>} }
/// x
#[component] pub fn HistoryPage() -> impl IntoView { view!{<p>"x"</p>} }
/// x
#[component] pub fn Records() -> impl IntoView { view!{<p>"x"</p>} }
/// x
#[component] pub fn Requests() -> impl IntoView { view!{<p>"x"</p>} }
/// x
#[component] pub fn Grants() -> impl IntoView { view!{<p>"x"</p>} }
/// x
#[component] pub fn AccessLog() -> impl IntoView { view!{<p>"x"</p>} }
/// x
#[component] pub fn Security() -> impl IntoView { view!{<p>"x"</p>} }
