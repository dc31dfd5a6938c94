// Start-up requests sent while the page's code still loads (tests/bench/app: the bundle takes
// 40-100 ms to arrive and run; the shell answers these three in a few ms). A plain script in
// index.html's head, so it runs before the bundle. The bundle takes each answer once
// (ui/src/lib/backend.ts, `early`) and asks again for anything not here; should this script
// ever run after the bundle has started, it asks nothing.
// Plain JavaScript on purpose: it is not bundled, and it only calls the Tauri bridge.
(function () {
  "use strict";
  var bridge = window.__TAURI_INTERNALS__;
  if (!bridge || "__pliEarly" in window) return;
  var early = {};
  function ask(cmd, args) {
    args = args || {};
    var answer = bridge.invoke(cmd, args);
    // Kept for the bundle; a failure is its to report, not an unhandled rejection here.
    answer.catch(function () {});
    early[cmd] = { at: Date.now(), args: JSON.stringify(args), answer: answer };
  }
  ask("app_info");
  ask("session_resume");
  // The unified inbox's first page (ui/src/lib/state.svelte.ts, PAGE_SIZE).
  ask("list_messages", { scope: { kind: "unified" }, offset: 0, limit: 100 });
  window.__pliEarly = early;
  window.__pliTimings = window.__pliTimings || {};
  window.__pliTimings.boot = Math.round(performance.now());
})();
