// Accessibility and visual smoke test of the built UI (ui/dist) in headless Chromium.
// Serves dist/ with the app's CSP, injects a fake Tauri bridge (tests/fixtures.mjs) before the
// page's scripts, walks the main screens in light and dark themes, runs axe-core on each and
// fails on any "serious" or "critical" violation. Screenshots: target/ui-screenshots/.
import { createServer } from "node:http";
import { readFile, mkdir, readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { extname, join, normalize, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { fixtures, installFake } from "./fixtures.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "dist");
const shots = join(here, "..", "..", "target", "ui-screenshots");
const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "font-src 'self'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'";
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
  const file = join(dist, path === "/" ? "index.html" : path);
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-security-policy": CSP });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
await mkdir(shots, { recursive: true });
for (const f of await readdir(shots)) if (f.endsWith(".png")) await rm(join(shots, f));

const results = [];
const problems = [];
let shotNo = 0;

async function check(page, name) {
  await page.waitForTimeout(150);
  shotNo++;
  const file = join(shots, `${String(shotNo).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file });
  await page.evaluate(axeSource);
  const out = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] } }),
  );
  const bad = out.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  results.push({ name, violations: out.violations.length, serious: bad.length, file });
  for (const v of out.violations) {
    const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ") + (process.env.AXE_DEBUG ? " :: " + n.failureSummary : "")).join(" | ");
    console.log(`  [${name}] ${v.impact} ${v.id}: ${v.help} — ${where}`);
  }
  if (bad.length) problems.push(`${name}: ${bad.map((v) => v.id).join(", ")}`);
}

function expect(cond, what) {
  if (!cond) problems.push(`assertion: ${what}`);
}

async function newPage(theme, opts) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: theme, locale: "fr-FR" });
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`page error (${theme}): ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error (${theme}): ${m.text()}`);
  });
  await page.addInitScript({ content: `(${installFake.toString()})(${JSON.stringify(fixtures)}, ${JSON.stringify(opts)});` });
  await page.goto(base);
  return page;
}

// Without the desktop shell: the app says so and shows nothing else.
{
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base);
  const alert = await page.locator("[role=alert]").first().textContent({ timeout: 5000 });
  expect(alert?.includes("hors de l’application de bureau"), "plain browser shows the 'hors de l'application de bureau' alert");
  await context.close();
}

// Start-up: public/boot.js asks the first three requests before the bundle runs, and the
// bundle takes their answers instead of asking again (one call each, boot's mark first).
{
  const page = await newPage("light", { loggedIn: true });
  await page.waitForSelector("[data-testid=message-row]");
  const { calls, offsets, marks } = await page.evaluate(() => ({ calls: window.__pliFake.calls, offsets: window.__pliFake.listCalls, marks: window.__pliTimings }));
  const count = (cmd) => calls.filter((c) => c === cmd).length;
  expect(typeof marks?.boot === "number" && marks.boot <= marks.script, `boot.js ran before the bundle (${JSON.stringify(marks)})`);
  for (const cmd of ["app_info", "session_resume"]) expect(count(cmd) === 1, `${cmd} asked once at start-up (${count(cmd)})`);
  expect(offsets.filter((o) => o === 0).length === 1, `the inbox's first page asked once (${offsets.join()})`);
  expect(calls.slice(0, 3).join() === "app_info,session_resume,list_messages", `boot.js's requests come first (${calls.slice(0, 5).join()})`);
  await page.context().close();
}

// First run without any configuration file: environment, address, servers from DNS, anchors.
for (const theme of ["light", "dark"]) {
  const page = await newPage(theme, { loggedIn: false, setup: true });
  await page.waitForSelector("#setup-address");
  await check(page, `${theme}-setup`);
  await page.check("[data-testid=setup-env-bas]");
  await page.fill("#setup-address", "anne.lefevre@hopital.mssante.fr");
  await page.click("#setup-discover");
  await page.waitForFunction(() => document.querySelector("#setup-imap-host")?.value === "imap.hopital.mssante.fr");
  expect((await page.inputValue("#setup-smtp-port")) === "587", "discovered SMTP port filled in");
  expect(await page.isVisible("#setup-client-id"), "client id asked when the build has none");
  await page.fill("#setup-client-id", "pli-bas");
  await page.fill("#setup-anchors", "igc-sante.pem");
  await page.click("#setup-save");
  await page.waitForSelector("[data-testid=setup-problem]");
  await check(page, `${theme}-setup-problem`);
  await page.fill("#setup-anchors", "/etc/pli/igc-sante.pem");
  await page.click("#setup-save");
  await page.waitForSelector("#login-ciba");
  await page.context().close();
}

// Dragging the scroll bar across the 50,000-row inbox: pages are asked where the list is, not
// for every page passed on the way (each costs the engine tens of ms), and the rows where the
// drag stops appear.
{
  const page = await newPage("light", { loggedIn: true, listDelayMs: 60 });
  await page.waitForSelector("[data-testid=message-row]");
  const before = await page.evaluate(() => window.__pliFake.listCalls.length);
  // One step a frame, driven inside the page (no round trip between steps): a fast drag.
  await page.evaluate(
    () =>
      new Promise((done) => {
        const s = document.querySelector(".list-scroll");
        let step = 0;
        const tick = () => {
          step++;
          if (s) s.scrollTop = step * 500 * 60;
          if (step < 50) requestAnimationFrame(tick);
          else done(null);
        };
        requestAnimationFrame(tick);
      }),
  );
  await page.waitForSelector('[data-testid=message-row][data-id="1025005"]', { timeout: 5000 });
  const asked = await page.evaluate((n) => window.__pliFake.listCalls.slice(n), before);
  expect(asked.length <= 20, `a fast drag over 50 positions asked ${asked.length} pages (at most 20 expected; every position would be about 100): ${asked}`);
  expect(asked.includes(25000), "the page where the drag stopped was asked");
  console.log(`  drag: ${asked.length} pages asked for 50 scroll positions`);
  await page.context().close();
}

for (const theme of ["light", "dark"]) {
  console.log(`— ${theme}`);
  const page = await newPage(theme, { loggedIn: false, n1: true, mismatch: true });

  // Login, then CIBA pending with the binding message.
  await page.waitForSelector("#login-ciba");
  await check(page, `${theme}-login`);
  await page.fill("#login-national-id", "810012345678");
  await page.click("#login-ciba");
  await page.waitForSelector("[data-testid=login-pending] .binding");
  expect((await page.textContent("[data-testid=login-pending]"))?.includes("PLI-4821"), "binding message shown");
  await check(page, `${theme}-login-pending`);
  await page.evaluate(() => window.__pliFake.approve());

  // Main window: unified inbox of 50 000 rows, virtualised.
  await page.waitForSelector("[data-testid=message-row]");
  const rendered = await page.locator("[data-testid=message-row]").count();
  expect(rendered > 0 && rendered < 60, `virtualised list renders few rows (${rendered})`);
  expect((await page.textContent("#session-name")) === "Dr Anne LEFÈVRE", "session name in header");
  await page.evaluate(() => {
    const s = document.querySelector(".list-scroll");
    if (s) s.scrollTop = 25000 * 60;
  });
  await page.waitForSelector('[data-testid=message-row][data-id="1025005"]');
  await page.evaluate(() => {
    const s = document.querySelector(".list-scroll");
    if (s) s.scrollTop = 0;
  });
  await page.waitForSelector('[data-testid=message-row][data-id="1000003"]');
  await check(page, `${theme}-main`);

  // Reading pane with a patient banner (row 3 is from a patient), keyboard j/k.
  await page.click('[data-testid=message-row][data-id="1000000"]');
  await page.keyboard.press("j");
  await page.keyboard.press("j");
  await page.keyboard.press("j");
  await page.keyboard.press("Enter");
  await page.waitForSelector("[data-testid=patient-banner]");
  expect((await page.textContent("[data-testid=patient-banner]"))?.includes("INS"), "patient banner has the INS");
  await check(page, `${theme}-reading`);
  expect((await page.locator("[data-testid=resume-draft]").count()) === 0, "no 'resume draft' on a received message");

  // Document viewer (N1: Document / PDF tabs; patient mismatch warning).
  await page.click('[data-testid=attachment][data-index="0"]');
  await page.waitForSelector("#document-frame");
  await page.waitForSelector("[data-testid=patient-mismatch]");
  await check(page, `${theme}-document`);
  await page.click("#tab-pdf");
  await page.waitForSelector("[data-testid=pdf-viewer] canvas", { timeout: 10000 });
  await check(page, `${theme}-document-pdf`);
  await page.keyboard.press("Escape");
  await page.waitForSelector("[data-testid=document-viewer]", { state: "detached" });

  // Patients, with the end-of-exchange confirmation open.
  await page.click("[data-testid=patients-tab]");
  await page.click('[data-testid=patient-conversation][data-ins="258037512345678"]');
  await page.waitForSelector("[data-testid=message-row]");
  await page.click("[data-testid=end-exchange]");
  await page.waitForSelector("[data-testid=confirm-end]");
  await check(page, `${theme}-patients-confirm`);
  await page.keyboard.press("Escape");
  await page.waitForSelector("[data-testid=confirm-dialog]", { state: "detached" });

  // A search, then a folder: the search box empties (the folder is not filtered by it).
  await page.fill("#search-input", "bilan");
  await page.press("#search-input", "Enter");
  await page.waitForSelector('[data-testid=message-row][data-id="3000000"]');
  // A message of the Drafts folder is taken up in the compose window with its fields.
  await page.click('[data-testid=folder][data-folder-id="3"]');
  await page.waitForSelector('[data-testid=message-row][data-id="30000000"]');
  expect((await page.inputValue("#search-input")) === "", "the search box is emptied when a folder is shown");
  await page.click('[data-testid=message-row][data-id="30000001"]');
  await page.waitForSelector("[data-testid=resume-draft]");
  const draftSubject = await page.textContent("#reading-subject");
  await check(page, `${theme}-draft-reading`);
  await page.click("[data-testid=resume-draft]");
  await page.waitForSelector("[data-testid=compose]");
  await page.waitForFunction((s) => document.querySelector("#compose-subject")?.value === s, draftSubject);
  await page.keyboard.press("Escape");
  await page.waitForSelector("[data-testid=compose]", { state: "detached" });

  // Compose with directory suggestions.
  await page.click("[data-testid=unified-inbox]");
  await page.waitForSelector("[data-testid=message-row]");
  await page.locator("body").press("c");
  await page.waitForSelector("[data-testid=compose]");
  await page.fill("#compose-subject", "Demande d'avis");
  // Closing keeps the draft (in the engine, not in localStorage); reopening restores it.
  await page.keyboard.press("Escape");
  await page.waitForSelector("[data-testid=compose]", { state: "detached" });
  await page.locator("body").press("c");
  await page.waitForSelector("[data-testid=compose]");
  await page.waitForFunction(() => document.querySelector("#compose-subject")?.value === "Demande d'avis");
  expect(
    (await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("pli.draft.")).length)) === 0,
    "no draft left in localStorage",
  );
  if (theme === "light") {
    // A directory that does not answer: this computer's suggestion shows at once, the field
    // says the directory is being asked, then says it did not answer; picking still works.
    await page.evaluate(() => window.__pliFake.stallDirectory());
    await page.locator("#compose-to").pressSequentially("mar", { delay: 20 });
    await page.waitForSelector('[data-testid=suggestion][data-mail="marc.martin@medecin.mssante.fr"]');
    await page.waitForSelector("[data-testid=suggestion-asking]");
    expect((await page.locator("[data-testid=suggestion]").count()) === 1, "only the local suggestion while the directory is asked");
    await check(page, `${theme}-compose-asking`);
    await page.evaluate(() => window.__pliFake.failDirectory());
    const notice = await page.locator("[data-testid=suggestion-notice]").textContent({ timeout: 5000 });
    expect(notice?.includes("ne répond pas"), `the stalled directory is reported in the field: ${notice}`);
    expect((await page.locator("[data-testid=suggestion]").count()) === 1, "the local suggestion stays after the failure");
    expect((await page.locator("[data-testid=error]").count()) === 0, "a silent directory is not an application error");
    await check(page, `${theme}-compose-notice`);
  } else {
    await page.locator("#compose-to").pressSequentially("mar", { delay: 20 });
    // The live directory's answer replaces the local one (three entries match "mar").
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=suggestion]").length === 3);
    expect((await page.locator("[data-testid=suggestion-asking]").count()) === 0, "no 'asking' line once the directory answered");
  }
  await check(page, `${theme}-compose`);
  await page.keyboard.press("Enter");
  await page.click("[data-testid=send]");
  await page.waitForSelector('[data-testid=send-result][data-state="sent"]');
  await page.waitForSelector("[data-testid=compose]", { state: "detached", timeout: 5000 });

  // Audit log.
  await page.click("[data-testid=audit-tab]");
  await page.waitForSelector("[data-testid=audit-row]");
  await page.click("[data-testid=export-audit]");
  await page.waitForSelector("[data-testid=export-result]");
  await check(page, `${theme}-audit`);

  // The outbox, with a withdrawal being confirmed.
  await page.click("[data-testid=outbox-tab]");
  await page.waitForSelector("[data-testid=outbox-item]");
  await check(page, `${theme}-outbox`);
  await page.click("[data-testid=outbox-item][data-state=failed] [data-testid=outbox-discard]");
  await page.waitForSelector("[data-testid=confirm-dialog]");
  await check(page, `${theme}-outbox-discard`);
  await page.keyboard.press("Escape");
  await page.waitForSelector("[data-testid=confirm-dialog]", { state: "detached", timeout: 5000 });

  // Adding a service mailbox.
  await page.click("[data-testid=add-mailbox]");
  await page.waitForSelector("[data-testid=add-mailbox-dialog] #add-mailbox-address");
  await page.fill("#add-mailbox-address", "secretariat@hopital.mssante.fr");
  await check(page, `${theme}-add-mailbox`);
  await page.keyboard.press("Escape");
  await page.waitForSelector("[data-testid=add-mailbox-dialog]", { state: "detached", timeout: 5000 });

  // Help overlay.
  await page.locator("body").press("?");
  await page.waitForSelector("[data-testid=help-overlay]");
  await check(page, `${theme}-help`);
  await page.keyboard.press("Escape");

  // The smallest window the shell allows (900 × 600).
  await page.setViewportSize({ width: 900, height: 600 });
  await page.keyboard.press("Escape");
  await page.click("[data-testid=unified-inbox]");
  await page.waitForSelector("[data-testid=message-row]");
  await page.click('[data-testid=message-row][data-id="1000003"]');
  await page.waitForSelector("#reading-subject");
  await check(page, `${theme}-small-window`);
  await page.setViewportSize({ width: 1280, height: 800 });

  // English, main window.
  await page.click("[data-testid=lang-toggle]");
  await page.click("[data-testid=unified-inbox]");
  await page.waitForSelector("[data-testid=message-row]");
  await check(page, `${theme}-english`);
  await page.click("[data-testid=lang-toggle]");
  await page.context().close();
}

await browser.close();
server.close();

console.log("\nscreen                     violations  serious+critical");
for (const r of results) console.log(`${r.name.padEnd(26)} ${String(r.violations).padStart(10)}  ${String(r.serious).padStart(16)}`);
if (problems.length) {
  console.error("\nFAILED:\n- " + problems.join("\n- "));
  process.exit(1);
}
console.log(`\nOK — screenshots in ${shots}`);
