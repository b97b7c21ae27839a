// Loads the WebAssembly app; main() mounts it into <body>.
import init from "/pkg/medvault.js?v=@HASH@";
init({ module_or_path: "/pkg/medvault_bg.wasm?v=@HASH@" }).catch((err) => {
  console.error(err);
  document.body.textContent = "medvault could not start in this browser. Please reload the page.";
});
