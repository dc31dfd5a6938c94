const [count, px, done] = [%d, %d, arguments[arguments.length - 1]];
const el = document.querySelector('.list-scroll');
if (!el) { done({error: 'no .list-scroll'}); return; }
const frames = []; let last = null; let n = 0;
function tick(t) {
  if (last !== null) frames.push(t - last);
  last = t;
  if (n++ >= count) {
    done({frames, top: el.scrollTop, height: el.scrollHeight,
          rows: document.querySelectorAll('[data-testid=message-row]').length});
    return;
  }
  if (px) el.scrollTop += px;
  requestAnimationFrame(tick);
}
requestAnimationFrame(tick);
