// Start-up milestones (ms since the page's navigation start), first occurrence only, kept in
// `window.__pliTimings` so that tests/bench/app can say where the time to the first inbox paint
// goes. Nothing is sent anywhere; the names are the steps, never data.
// public/boot.js may have put its own mark there first.
const marks: Record<string, number> =
  (window as unknown as { __pliTimings?: Record<string, number> }).__pliTimings ?? {};

export function mark(step: string) {
  if (step in marks) return;
  marks[step] = Math.round(performance.now());
  (window as unknown as { __pliTimings: Record<string, number> }).__pliTimings = marks;
}
