// Shared UI state: one store object, read by the components, changed through its methods.
import {
  CommandFailure,
  earlyFirstPage,
  listMessages,
  mailboxes,
  outboxItems,
  patients,
  readMessage,
  resumeDraft,
  setFlag,
  type AppInfo,
  type ComposeRequest,
  type EngineEvent,
  type FileInput,
  type FolderView,
  type ListScope,
  type MailboxView,
  type MessageDetail,
  type MessagePage,
  type MessageRow,
  type PatientConversation,
  type PatientRef,
  type SessionInfo,
} from "./backend";
import { dict, fmt, type Dict, type Lang } from "./i18n";
import { mark } from "./timing";

export type Theme = "system" | "light" | "dark";
export type View = "mail" | "patients" | "audit" | "outbox";

/** What the compose window starts with (new message, reply, forward, to a patient). */
export type ComposeInit = {
  /** localStorage key suffix for the draft of this compose. */
  key: string;
  from: string | null;
  to: string[];
  cc: string[];
  patient: PatientRef | null;
  subject: string;
  body: string;
  replyTo: number | null;
  /** Files attached in advance (a `pli://compose` link), shown with their full path. */
  files?: FileInput[];
  /** Notes about the link that opened this compose (refused files, bad INS, file paths). */
  notes?: string[];
};

export const PAGE_SIZE = 100;
/** Pages of the message list asked of the engine at the same time. */
const MAX_IN_FLIGHT = 2;
/** How long the list must stay put after a jump before far pages are asked. */
const SETTLE_MS = 60;
/** How long a page asked for at start-up may stand in for asking again. */
const PRIMED_FOR_MS = 5000;

/** The virtualised message list's data: pages of rows fetched by offset, cached. */
export class ListModel {
  total = $state(0);
  loaded = $state(false);
  /** Page index → rows. Replaced (not mutated) so only loaded pages are reactive. */
  pages = $state.raw<Record<number, MessageRow[]>>({});
  scope: ListScope = { kind: "unified" };
  #generation = 0;
  #inFlight = new Set<number>();
  /** Pages asked for and not yet requested, oldest first. */
  #queue: number[] = [];
  /** The pages the list shows now (first, last). */
  #wanted: [number, number] = [0, 0];
  #settle: ReturnType<typeof setTimeout> | undefined;
  onError: (e: unknown) => void = () => {};

  /** A first page of the unified inbox asked for at start-up, before the session is known. */
  #primed: { at: number; page: Promise<MessagePage | null> } | null = null;

  /**
   * Asks for the unified inbox's first page now, while the start-up still checks the
   * configuration and the session: the first `reset` to the unified inbox within a few
   * seconds uses it instead of asking again (tests/bench/app measures the first paint).
   * Dropped when unused; a failure just means `reset` asks the usual way.
   */
  prime() {
    const primed = {
      at: Date.now(),
      page: (earlyFirstPage(PAGE_SIZE) ?? listMessages({ kind: "unified" }, 0, PAGE_SIZE)).catch(() => null),
    };
    this.#primed = primed;
    setTimeout(() => {
      if (this.#primed === primed) this.#primed = null;
    }, PRIMED_FOR_MS);
  }

  /** Shows `scope` from its first page; resolves once that page arrived (or failed). */
  reset(scope: ListScope): Promise<void> {
    const primed = this.#primed;
    this.#primed = null;
    if (primed && scope.kind === "unified" && Date.now() - primed.at < PRIMED_FOR_MS) {
      return this.#resetFrom(scope, primed.page);
    }
    return this.#resetFrom(scope, null);
  }

  #resetFrom(scope: ListScope, primed: Promise<MessagePage | null> | null): Promise<void> {
    this.scope = scope;
    this.#generation++;
    this.#inFlight.clear();
    this.#queue = [];
    this.#wanted = [0, 0];
    if (this.#settle !== undefined) clearTimeout(this.#settle);
    this.#settle = undefined;
    this.pages = {};
    this.total = 0;
    this.loaded = false;
    if (!primed) return this.#fetch(0);
    const gen = this.#generation;
    this.#inFlight.add(0);
    return primed.then((page) => {
      if (gen !== this.#generation) return;
      this.#inFlight.delete(0);
      if (!page) return this.#fetch(0);
      this.#arrived(0, page);
    });
  }

  /**
   * Makes sure rows [start, end) are fetched (or being fetched). At most
   * {@link MAX_IN_FLIGHT} pages are asked of the engine at once, and a queued page the list
   * has scrolled away from is dropped before it is asked. A jump (no page next to the
   * wanted ones is loaded) waits until the list has stayed put for {@link SETTLE_MS}: dragging
   * the scroll bar across 100,000 rows asks for where it stops, not for every page it passed,
   * while scrolling row by row fetches the next page at once.
   */
  ensure(start: number, end: number) {
    const first = Math.max(0, Math.floor(start / PAGE_SIZE));
    const lastRow = this.loaded ? Math.min(end, this.total) : end;
    const last = Math.max(first, Math.floor(Math.max(0, lastRow - 1) / PAGE_SIZE));
    this.#wanted = [first, last];
    for (let p = first; p <= last; p++) {
      if (this.pages[p] === undefined && !this.#inFlight.has(p) && !this.#queue.includes(p)) {
        this.#queue.push(p);
      }
    }
    let near = false;
    for (let p = first - 1; p <= last + 1 && !near; p++) {
      near = this.pages[p] !== undefined || this.#inFlight.has(p);
    }
    if (this.#settle !== undefined) clearTimeout(this.#settle);
    this.#settle = undefined;
    if (near) {
      this.#pump();
    } else {
      this.#settle = setTimeout(() => {
        this.#settle = undefined;
        this.#pump();
      }, SETTLE_MS);
    }
  }

  #pump() {
    const [first, last] = this.#wanted;
    while (this.#inFlight.size < MAX_IN_FLIGHT && this.#queue.length > 0) {
      const p = this.#queue.shift() as number;
      if (p < first - 1 || p > last + 1) continue; // scrolled away meanwhile
      if (this.pages[p] !== undefined || this.#inFlight.has(p)) continue;
      void this.#fetch(p);
    }
  }

  /** Re-fetches the pages already shown (new mail, flags changed), keeping them until then. */
  refresh(): Promise<void> {
    this.#generation++;
    this.#inFlight.clear();
    this.#queue = [];
    const keys = Object.keys(this.pages).map(Number);
    if (keys.length === 0) keys.push(0);
    return Promise.all(keys.map((p) => this.#fetch(p))).then(() => {});
  }

  #fetch(p: number): Promise<void> {
    const gen = this.#generation;
    this.#inFlight.add(p);
    return listMessages(this.scope, p * PAGE_SIZE, PAGE_SIZE).then(
      (page) => {
        if (gen !== this.#generation) return;
        this.#inFlight.delete(p);
        this.#arrived(p, page);
      },
      (e: unknown) => {
        if (gen !== this.#generation) return;
        this.#inFlight.delete(p);
        this.loaded = true;
        this.onError(e);
        this.#pump();
      },
    );
  }

  #arrived(p: number, page: MessagePage) {
    this.total = page.total;
    this.loaded = true;
    this.pages = { ...this.pages, [p]: page.rows };
    mark("first_page");
    this.#pump();
  }

  rowAt(i: number): MessageRow | undefined {
    return this.pages[Math.floor(i / PAGE_SIZE)]?.[i % PAGE_SIZE];
  }

  indexOf(id: number): number {
    for (const [p, rows] of Object.entries(this.pages)) {
      const i = rows.findIndex((r) => r.id === id);
      if (i >= 0) return Number(p) * PAGE_SIZE + i;
    }
    return -1;
  }

  patchRow(id: number, patch: Partial<MessageRow>) {
    for (const [p, rows] of Object.entries(this.pages)) {
      const i = rows.findIndex((r) => r.id === id);
      if (i >= 0) {
        const copy = rows.slice();
        const old = copy[i];
        if (old) copy[i] = { ...old, ...patch };
        this.pages = { ...this.pages, [p]: copy };
        return;
      }
    }
  }
}

function storedTheme(): Theme {
  const v = localStorage.getItem("pli.theme");
  return v === "light" || v === "dark" ? v : "system";
}

class AppStore {
  lang = $state<Lang>(localStorage.getItem("pli.lang") === "en" ? "en" : "fr");
  t: Dict = $derived(dict(this.lang));
  theme = $state<Theme>(storedTheme());

  info = $state<AppInfo | null>(null);
  session = $state<SessionInfo | null>(null);
  /** The engine cannot be reached at all (plain browser, broken shell). */
  fatal = $state<string | null>(null);
  /** Errors from commands, shown in a role=alert region until dismissed. */
  errors = $state<string[]>([]);
  ciba = $state<{ binding: string; expiresIn: number } | null>(null);
  /** Messages in the outbox (side bar count), and a counter bumped when it changes. */
  outboxCount = $state(0);
  outboxGeneration = $state(0);
  /** Set when the session locked after inactivity (shown on the login screen). */
  lockedNotice = $state<string | null>(null);

  boxes = $state<MailboxView[]>([]);
  patientList = $state<PatientConversation[]>([]);
  view = $state<View>("mail");
  scope = $state<ListScope>({ kind: "unified" });
  selectedPatient = $state<string | null>(null);
  list = new ListModel();

  selectedIndex = $state(-1);
  selectedId = $state<number | null>(null);
  detail = $state<MessageDetail | null>(null);

  searchQuery = $state("");
  filterUnread = $state(false);
  filterDocs = $state(false);

  sync = $state<{ account: string; folder: string; phase: string; done: number; total: number } | null>(null);
  syncError = $state<string | null>(null);
  outboxState = $state<string | null>(null);

  compose = $state<ComposeInit | null>(null);
  doc = $state<{ id: number; index: number; patient: PatientRef | null } | null>(null);
  helpOpen = $state(false);

  #debounce: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.list.onError = (e) => this.report(e);
  }

  report(e: unknown) {
    const msg = e instanceof Error ? e.message : String(e);
    // A refresh already on its way when the session locked or ended: the engine refuses it,
    // and the login screen already says why.
    if (e instanceof CommandFailure && e.code === "sealed" && this.session?.logged_in !== true) return;
    if (!this.errors.includes(msg)) this.errors.push(msg);
  }

  dismissError(i: number) {
    this.errors.splice(i, 1);
  }

  setLang(l: Lang) {
    this.lang = l;
    localStorage.setItem("pli.lang", l);
  }

  setTheme(th: Theme) {
    this.theme = th;
    localStorage.setItem("pli.theme", th);
  }

  get envLabel(): string | null {
    const env = this.session?.environment ?? this.info?.environment;
    if (env === "production" || env === "bas" || env === "sandbox") return this.t.envNames[env];
    return null;
  }

  get environment(): string | null {
    return this.session?.environment ?? this.info?.environment ?? null;
  }

  refreshMailboxes(): Promise<void> {
    return mailboxes().then(
      (b) => {
        this.boxes = b;
      },
      (e: unknown) => this.report(e),
    );
  }

  /** The side bar's outbox count. */
  refreshOutboxCount(): void {
    outboxItems().then(
      (r) => (this.outboxCount = r.length),
      (e: unknown) => this.report(e),
    );
  }

  refreshPatients(): Promise<void> {
    return patients().then(
      (p) => {
        this.patientList = p;
      },
      (e: unknown) => this.report(e),
    );
  }

  /** Shows a list: a folder, the unified inbox, a search, or a patient's messages. */
  show(view: View, scope: ListScope | null): Promise<void> {
    this.view = view;
    this.clearSelection();
    if (view === "patients") this.refreshPatients();
    if (!scope) return Promise.resolve();
    // Leaving a search empties the search box and its filters: a folder shown under a search
    // term that no longer applies reads as a filtered folder.
    if (scope.kind !== "search") {
      this.searchQuery = "";
      this.filterUnread = false;
      this.filterDocs = false;
    }
    this.scope = scope;
    return this.list.reset(scope);
  }

  showPatient(ins: string) {
    this.selectedPatient = ins;
    this.show("patients", { kind: "patient", ins });
  }

  search() {
    const query = this.searchQuery.trim();
    if (!query && !this.filterUnread && !this.filterDocs) return;
    this.show("mail", { kind: "search", query, unread: this.filterUnread, has_documents: this.filterDocs });
  }

  clearSelection() {
    this.selectedIndex = -1;
    this.selectedId = null;
    this.detail = null;
  }

  select(index: number) {
    if (index < 0 || (this.list.loaded && index >= this.list.total)) return;
    this.selectedIndex = index;
    this.selectedId = this.list.rowAt(index)?.id ?? null;
  }

  /** Opens the selected row in the reading pane (marks it read). */
  open(index: number = this.selectedIndex, allowRemote = false) {
    const row = this.list.rowAt(index);
    if (!row) return;
    this.selectedIndex = index;
    this.selectedId = row.id;
    readMessage(row.id, allowRemote).then(
      (d) => {
        if (this.selectedId !== row.id) return;
        this.detail = d;
        if (row.unread) {
          this.list.patchRow(row.id, { unread: false });
          this.scheduleRefresh();
        }
      },
      (e: unknown) => this.report(e),
    );
  }

  flag(op: "unseen" | "delete" | "flag" | "unflag") {
    const id = this.detail?.row.id ?? this.selectedId;
    if (id === null || id === undefined) return;
    setFlag(id, op).then(
      () => {
        if (op === "delete") this.clearSelection();
        if (op === "unseen") {
          this.list.patchRow(id, { unread: true });
          this.detail = null;
        }
        if (op === "flag" || op === "unflag") this.list.patchRow(id, { flagged: op === "flag" });
        this.scheduleRefresh();
      },
      (e: unknown) => this.report(e),
    );
  }

  /** Whether a row is in a Drafts folder (its mailbox's folder marked \Drafts). */
  isDraft(row: Pick<MessageRow, "account" | "folder">): boolean {
    const box = this.boxes.find((b) => b.address === row.account);
    return box?.folders.some((f) => f.name === row.folder && f.special_use === "\\Drafts") ?? false;
  }

  /** Takes up the draft on screen in the compose window (its fields come from the engine). */
  resumeDraft() {
    const d = this.detail;
    if (!d) return;
    resumeDraft(d.row.id).then(
      (key) => {
        this.compose = { key, from: d.row.account, to: [], cc: [], patient: null, subject: "", body: "", replyTo: null };
      },
      (e: unknown) => this.report(e),
    );
  }

  /** Mailboxes, the list and the patients, refreshed together after ~300 ms of quiet. */
  scheduleRefresh() {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.refreshMailboxes();
      if (this.view !== "audit" && this.view !== "outbox") this.list.refresh().then(() => this.#reselect());
      // Always: the Patients tab's unread badge must follow new patient mail from any view
      // (it stayed at its login-time value while the mail view was shown).
      this.refreshPatients();
    }, 300);
  }

  #reselect() {
    if (this.selectedId === null) return;
    if (this.list.rowAt(this.selectedIndex)?.id === this.selectedId) return;
    const i = this.list.indexOf(this.selectedId);
    if (i >= 0) this.selectedIndex = i;
  }

  handleEvent(e: EngineEvent) {
    switch (e.event) {
      case "sync_progress":
        this.sync = e.done >= e.total ? null : { ...e };
        break;
      case "mail_changed":
        this.scheduleRefresh();
        break;
      case "sync_failed":
        this.syncError = fmt(this.t.syncFailed, e.account, e.error);
        this.sync = null;
        break;
      case "ciba_started":
        this.ciba = { binding: e.binding_message, expiresIn: e.expires_in };
        break;
      case "outbox_changed":
        this.outboxGeneration++;
        this.refreshOutboxCount();
        this.scheduleRefresh();
        break;
      case "session_ended":
        this.session = this.session ? { ...this.session, logged_in: false } : null;
        break;
      case "locked":
        // Hide everything that was on screen, then show the login screen with the reason.
        this.compose = null;
        this.doc = null;
        this.detail = null;
        this.selectedId = null;
        this.lockedNotice = fmt(this.t.lockedNotice, String(e.after_minutes));
        this.session = this.session ? { ...this.session, logged_in: false } : null;
        break;
    }
  }

  // --- compose helpers

  newMessage(patient: PatientRef | null = null, from: string | null = null) {
    this.compose = {
      key: patient ? `patient-${patient.ins}` : "new",
      from,
      to: [],
      cc: [],
      patient,
      subject: "",
      body: "",
      replyTo: null,
    };
  }

  /** A compose window asked for by a `mailto:` or `pli://compose` link (never sent by itself). */
  fromLink(req: ComposeRequest) {
    this.compose = {
      key: `link-${Date.now()}`,
      from: null,
      to: [...req.to],
      cc: [...req.cc],
      patient: req.patient_ins
        ? { ins: req.patient_ins, address: "", birth_name: null, given_name: null }
        : null,
      subject: req.subject,
      body: req.body,
      replyTo: null,
      files: req.attachments.map((f) => ({ name: f.name, base64: f.base64 })),
      notes: [
        ...req.attachments.map((f) => fmt(this.t.linkedFile, f.path)),
        ...req.problems,
      ],
    };
  }

  replyTo(kind: "reply" | "all" | "forward") {
    const d = this.detail;
    if (!d) return;
    const t = this.t;
    const row = d.row;
    const bare = row.subject.replace(/^((re|tr|fwd?)\s*:\s*)+/i, "");
    const sender = row.from_addr;
    const quoteDate = row.date ? formatLong(row.date) : "";
    if (kind === "forward") {
      this.compose = {
        key: `fwd-${row.id}`,
        from: row.account,
        to: [],
        cc: [],
        patient: null,
        subject: t.forwardPrefix + bare,
        body: `\n\n${t.forwardHeader}\n${t.from} : ${row.from_name ?? ""} <${sender ?? ""}>\n${t.date} : ${quoteDate}\n${t.subject} : ${row.subject}\n\n${d.text}`,
        replyTo: null,
      };
      return;
    }
    const quoted = d.text
      .split("\n")
      .map((l) => "> " + l)
      .join("\n");
    const to = row.from_patient || !sender ? [] : [sender];
    const cc =
      kind === "all"
        ? [...d.to, ...d.cc].filter((a) => a !== row.account && a !== sender && !to.includes(a))
        : [];
    this.compose = {
      key: `reply-${row.id}`,
      from: row.account,
      to,
      cc,
      patient: row.from_patient ? d.patient : null,
      subject: t.replyPrefix + bare,
      body: `\n\n${fmt(t.quoteHeader, quoteDate, row.from_name ?? sender ?? "")}\n${quoted}`,
      replyTo: row.id,
    };
  }
}

export const app = new AppStore();

// --- formatting helpers (dates are shown in French format whatever the language)

const timeFmt = new Intl.DateTimeFormat("fr-FR", { hour: "2-digit", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat("fr-FR", { day: "2-digit", month: "2-digit", year: "numeric" });

/** List date: HH:MM today, else dd/mm/yyyy. */
export function formatShort(ts: number | null): string {
  if (ts === null) return "";
  const d = new Date(ts * 1000);
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeFmt.format(d) : dayFmt.format(d);
}

export function formatLong(ts: number | null): string {
  if (ts === null) return "";
  const d = new Date(ts * 1000);
  return `${dayFmt.format(d)} ${timeFmt.format(d)}`;
}

export function formatDay(ts: number | null): string {
  return ts === null ? "" : dayFmt.format(new Date(ts * 1000));
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} o`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} ko`;
  return `${(bytes / 1024 / 1024).toFixed(1).replace(".", ",")} Mo`;
}

/** "NOM Prénom", or null when the names are unknown. */
export function patientName(p: PatientRef): string | null {
  const parts = [p.birth_name?.toUpperCase(), p.given_name].filter((x): x is string => !!x);
  return parts.length > 0 ? parts.join(" ") : null;
}

/** Folder name as shown: INBOX and RFC 6154 special-use folders translated. */
export function folderLabel(f: Pick<FolderView, "name" | "special_use">, t: Dict): string {
  if (f.name.toUpperCase() === "INBOX") return t.folderNames.inbox;
  switch (f.special_use) {
    case "\\Sent":
      return t.folderNames.sent;
    case "\\Drafts":
      return t.folderNames.drafts;
    case "\\Trash":
      return t.folderNames.trash;
    case "\\Junk":
      return t.folderNames.junk;
    case "\\Archive":
      return t.folderNames.archive;
    default:
      return f.name;
  }
}

/** True when a keyboard event comes from a text field (shortcuts must not fire). */
export function isTyping(e: KeyboardEvent): boolean {
  const el = e.target;
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (el as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit", "reset", "file"].includes(type);
  }
  return false;
}
