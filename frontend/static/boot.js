// Loads the WebAssembly app; main() mounts it into <body>.
import init from "/pkg/medvault.js?v=@HASH@";

// Content-Security-Policy violations since the page loaded, kept for diagnostics (the browser
// tests assert there are none).
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
  console.warn("CSP violation:", e.violatedDirective, e.blockedURI);
});
init({ module_or_path: "/pkg/medvault_bg.wasm?v=@HASH@" }).catch((err) => {
  console.error(err);
  document.body.textContent = "medvault could not start in this browser. Please reload the page.";
});
