// Opens the first message of the list (a click, as a person does); resolves with true once
// the reading pane shows it (its subject heading), or with an error text after 10 s.
const done = arguments[arguments.length - 1];
document.querySelector('[data-testid=message-row]').click();
const t0 = performance.now();
(function wait() {
  if (document.querySelector('#reading-subject')) { setTimeout(() => done(true), 300); return; }
  if (performance.now() - t0 > 10000) { done('no message shown'); return; }
  requestAnimationFrame(wait);
})();
