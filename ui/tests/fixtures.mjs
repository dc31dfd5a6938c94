// Test-only fixtures and a fake of the Tauri IPC bridge (window.__TAURI_INTERNALS__), injected
// by tests/a11y.mjs before the page's scripts. Never imported by the app (src/ never sees this).

// A one-page PDF ("Compte rendu"), small enough to keep inline.
const PDF_SOURCE = `%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 420 300] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj
4 0 obj << /Length 96 >> stream
BT /F1 20 Tf 40 240 Td (Compte rendu de consultation) Tj 0 -40 Td /F1 12 Tf (Patient : DURAND Marie) Tj ET
endstream endobj
5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj
trailer << /Root 1 0 R >>
%%EOF
`;

const CDA_HTML = `<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>body{font:14px/1.5 system-ui,sans-serif;color:#1b2430;margin:24px;background:#fff}h1{font-size:20px}table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:4px 8px;text-align:left}</style>
</head><body><h1>Compte rendu de consultation de cardiologie</h1>
<p><strong>Patient :</strong> DURAND Marie, née le 12/03/1958 — INS 258037512345678</p>
<h2>Conclusion</h2><p>Examen cardiovasculaire sans particularité. ECG normal. Poursuite du traitement.</p>
<table><tr><th>Traitement</th><th>Posologie</th></tr><tr><td>Bisoprolol 2,5 mg</td><td>1 cp le matin</td></tr></table>
</body></html>`;

const now = Math.floor(Date.now() / 1000);

export const fixtures = {
  now,
  pdfBase64: Buffer.from(PDF_SOURCE, "latin1").toString("base64"),
  cdaHtml: CDA_HTML,
  appInfo: {
    version: "0.1.0",
    environment: "sandbox",
    config_path: "/home/medecin/.config/pli/pli.toml",
    config_error: null,
    needs_setup: false,
    accounts: [
      { address: "anne.lefevre@medecin.mssante.fr", kind: "PER", display_name: "Dr Anne LEFÈVRE" },
      { address: "cardiologie@chu-exemple.mssante.fr", kind: "ORG", display_name: "Cardiologie — CHU Exemple" },
    ],
  },
  session: {
    logged_in: true,
    environment: "sandbox",
    display_name: "Dr Anne LEFÈVRE",
    national_id: "810012345678",
    profession: "10",
    error: null,
  },
  mailboxes: [
    {
      address: "anne.lefevre@medecin.mssante.fr",
      kind: "PER",
      display_name: "Dr Anne LEFÈVRE",
      unread: 14,
      folders: [
        { id: 1, name: "INBOX", special_use: null, unread: 12, total: 48210 },
        { id: 2, name: "Sent", special_use: "\\Sent", unread: 0, total: 1790 },
        { id: 3, name: "Drafts", special_use: "\\Drafts", unread: 0, total: 2 },
        { id: 4, name: "Archives", special_use: "\\Archive", unread: 2, total: 312 },
        { id: 5, name: "Trash", special_use: "\\Trash", unread: 0, total: 41 },
        { id: 6, name: "Junk", special_use: "\\Junk", unread: 0, total: 0 },
      ],
    },
    {
      address: "cardiologie@chu-exemple.mssante.fr",
      kind: "ORG",
      display_name: "Cardiologie — CHU Exemple",
      unread: 3,
      folders: [
        { id: 11, name: "INBOX", special_use: null, unread: 3, total: 620 },
        { id: 12, name: "Sent", special_use: "\\Sent", unread: 0, total: 88 },
      ],
    },
  ],
  patients: [
    {
      patient: { ins: "258037512345678", address: "258037512345678@patient.mssante.fr", birth_name: "Durand", given_name: "Marie Louise" },
      messages: 6, unread: 2, last_at: now - 3600, ended_at: null, account: "anne.lefevre@medecin.mssante.fr",
    },
    {
      patient: { ins: "179022A12345612", address: "179022a12345612@patient.mssante.fr", birth_name: "Santoni", given_name: "Paul" },
      messages: 3, unread: 1, last_at: now - 86400 * 2, ended_at: null, account: "anne.lefevre@medecin.mssante.fr",
    },
    {
      patient: { ins: "290117512399941", address: "290117512399941@patient.mssante.fr", birth_name: "Martin", given_name: "Chloé" },
      messages: 9, unread: 0, last_at: now - 86400 * 20, ended_at: now - 86400 * 15, account: "cardiologie@chu-exemple.mssante.fr",
    },
    {
      patient: { ins: "185057512311122", address: "185057512311122@patient.mssante.fr", birth_name: null, given_name: null },
      messages: 1, unread: 0, last_at: now - 86400 * 40, ended_at: null, account: "anne.lefevre@medecin.mssante.fr",
    },
  ],
  senders: [
    ["Dr Jean MOREAU", "jean.moreau@medecin.mssante.fr"],
    ["Laboratoire Bio-Ouest", "resultats@bio-ouest.mssante.fr"],
    ["Service des urgences — CH Nord", "urgences@ch-nord.mssante.fr"],
    ["Dr Sophie BERNARD", "sophie.bernard@medecin.mssante.fr"],
    ["Centre d'imagerie du Parc", "imagerie@cip.mssante.fr"],
    ["Mme Isabelle PETIT (IDE)", "isabelle.petit@infirmier.mssante.fr"],
  ],
  subjects: [
    "Compte rendu de consultation de cardiologie",
    "Résultats d'analyses biologiques du jour",
    "Lettre de liaison de sortie d'hospitalisation",
    "Demande d'avis : douleur thoracique atypique",
    "Compte rendu d'IRM lombaire",
    "Suivi des soins infirmiers à domicile — semaine 12",
    "Renouvellement d'ordonnance",
  ],
  directory: [
    { mail: "marc.martin@medecin.mssante.fr", kind: "PER", display_name: "Dr Marc MARTIN", given_name: "Marc", family_name: "MARTIN", profession: "Médecin", specialty: "Cardiologie", organisation: null, service: null, street: "4 rue des Lilas", postal_code: "35000", city: "Rennes", department: "35", dematerialisation: true },
    { mail: "marie.marchand@pharmacien.mssante.fr", kind: "PER", display_name: "Marie MARCHAND", given_name: "Marie", family_name: "MARCHAND", profession: "Pharmacien", specialty: null, organisation: "Pharmacie du Marché", service: null, street: null, postal_code: "44000", city: "Nantes", department: "44", dematerialisation: null },
    { mail: "secretariat.marne@ch-marne.mssante.fr", kind: "ORG", display_name: "CH de Marne — Secrétariat médical", given_name: null, family_name: null, profession: null, specialty: null, organisation: "CH de Marne", service: "Secrétariat", street: null, postal_code: "77000", city: "Melun", department: "77", dematerialisation: null },
  ],
  audit: Array.from({ length: 40 }, (_, i) => ({
    at: now - i * 1800,
    actor: i % 4 === 0 ? "pli" : "810012345678",
    account: i % 5 === 0 ? null : "anne.lefevre@medecin.mssante.fr",
    action: ["login", "sync", "read", "send", "open_document"][i % 5],
    request: i % 5 === 1 ? "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 4211)" : i % 5 === 3 ? "MAIL FROM:<anne.lefevre@medecin.mssante.fr> RCPT TO:<jean.moreau@medecin.mssante.fr>" : `message ${1000 + i}`,
    outcome: i % 9 === 0 ? "échec : délai dépassé" : "ok",
  })),
};

/** Runs in the page (serialised by a11y.mjs): a fake `__TAURI_INTERNALS__` answering from `fx`. */
export function installFake(fx, opts) {
  const callbacks = new Map();
  const listeners = []; // { event, eventId, handler }
  let nextId = 1;
  let loggedIn = opts.loggedIn;
  let setupDone = !opts.setup;
  const drafts = new Map();
  let approve = null;
  // list_messages offsets asked, in order, for tests of the list's paging.
  const listCalls = [];
  const directory = { stalled: false, waiting: [] };

  const emit = (payload) => {
    for (const l of listeners) {
      if (l.event !== "engine") continue;
      const cb = callbacks.get(l.handler);
      if (cb) cb({ event: "engine", id: l.eventId, payload });
    }
  };

  const totals = { unified: 50000, patient: 6, search: 37 };
  const folderTotal = (id) => {
    for (const b of fx.mailboxes) for (const f of b.folders) if (f.id === id) return [b, f];
    return [fx.mailboxes[0], fx.mailboxes[0].folders[0]];
  };

  // A deterministic row for (scope, index): ids encode both so read_message can rebuild it.
  function row(base, i, account, folder, patientIns) {
    const [name, addr] = fx.senders[i % fx.senders.length];
    const isPatient = patientIns !== null || i % 7 === 3;
    const p = fx.patients[i % 2].patient;
    return {
      id: base + i,
      account,
      folder,
      from_addr: isPatient ? p.address : addr,
      from_name: isPatient ? `${p.given_name} ${p.birth_name.toUpperCase()}` : name,
      to_first: "jean.moreau@medecin.mssante.fr",
      subject: fx.subjects[i % fx.subjects.length],
      date: fx.now - 1200 - i * 2300,
      unread: i < 4 || i % 11 === 5,
      flagged: i % 13 === 2,
      answered: i % 6 === 1,
      has_documents: i % 3 === 0,
      xdm: i % 6 === 0,
      patient_ins: isPatient ? (patientIns ?? p.ins) : null,
      receipt: i % 7 === 3 ? "read" : i % 11 === 5 ? "failed" : i % 5 === 1 ? "delivered" : null,
      from_patient: isPatient,
      snippet: "Chère consœur, veuillez trouver ci-joint…",
    };
  }

  function list(scope, offset, limit) {
    let total, base, account = fx.mailboxes[0].address, folder = "INBOX", ins = null;
    if (scope.kind === "unified") { total = totals.unified; base = 1_000_000; }
    else if (scope.kind === "patient") { total = totals.patient; base = 2_000_000; ins = scope.ins; }
    else if (scope.kind === "search") { total = totals.search; base = 3_000_000; }
    else {
      const [b, f] = folderTotal(scope.folder_id);
      total = f.total; base = 10_000_000 * scope.folder_id; account = b.address; folder = f.name;
    }
    const rows = [];
    for (let i = offset; i < Math.min(total, offset + limit); i++) rows.push(row(base, i, account, folder, ins));
    return { total, offset, rows };
  }

  function detail(id) {
    const i = id % 1_000_000;
    // A folder's rows keep their mailbox and folder (ids are 10,000,000 × folder id + index).
    const base = id - i;
    const [b, f] = base >= 10_000_000 ? folderTotal(base / 10_000_000) : [fx.mailboxes[0], { name: "INBOX" }];
    const r = row(base, i, b.address, f.name, null);
    const patient = r.patient_ins ? fx.patients.find((c) => c.patient.ins === r.patient_ins)?.patient ?? null : null;
    return {
      row: { ...r, unread: false },
      message_id: `<${id}@fixture.test>`,
      to: ["anne.lefevre@medecin.mssante.fr"],
      cc: i % 2 ? ["cardiologie@chu-exemple.mssante.fr"] : [],
      text:
        "Chère consœur,\n\nJe vous adresse le compte rendu de la consultation de ce jour pour votre patiente, " +
        "vue pour un bilan cardiologique de contrôle. L'examen clinique est sans particularité ; l'ECG est normal. " +
        "Je propose de poursuivre le traitement actuel et de la revoir dans six mois.\n\nBien confraternellement,\n\nDr Jean MOREAU\nCardiologue",
      html: null,
      remote_blocked: i % 4 === 1,
      body_available: true,
      attachments: r.has_documents
        ? [
            { index: 0, name: "CR-consultation.xml", mime_type: "text/xml", size: 48213, is_document: true },
            { index: 1, name: "CR-consultation.pdf", mime_type: "application/pdf", size: 912, is_document: true },
            { index: 2, name: "photo-plaie.jpg", mime_type: "image/jpeg", size: 1843211, is_document: false },
          ]
        : [],
      patient,
      // Every third message asks for a read receipt, so the a11y pass sees the prompt.
      deliveries: id % 2 === 0 ? [
        { recipient: "bruno.girard@cabinet-sandbox.mssante.fr", state: "read", detail: "manual-action/MDN-sent-manually; displayed", explanation: null, at: 1763800000 },
        { recipient: "279035121518989@patient.mssante.fr", state: "failed", detail: "5.1.1", explanation: "non distribué : ce patient n'a pas de messagerie Mon espace santé ouverte (compte fermé, INS inconnu ou adresse invalide) (code 5.1.1)", at: 1763790000 },
      ] : [],
      receipt_request: id % 3 === 0 ? { to: r.from_addr ?? "expediteur@x.mssante.fr", differs_from_return_path: id % 2 === 0 } : null,
    };
  }

  function document(index) {
    const patient = fx.patients[0].patient;
    if (index === 1)
      return { kind: "pdf", name: "CR-consultation.pdf", html: null, pdf_base64: fx.pdfBase64, title: "Compte rendu de consultation", level: null, patient: null, patient_mismatch: null, xdm_documents: [], warnings: [] };
    return {
      kind: "xdm",
      name: "CR-consultation.xml",
      html: fx.cdaHtml,
      pdf_base64: opts.n1 ? fx.pdfBase64 : null,
      title: "Compte rendu de consultation de cardiologie",
      level: opts.n1 ? "N1" : "N3",
      patient,
      patient_mismatch: opts.mismatch ? "Le document concerne DURAND Marie (INS 258037512345678), pas le patient du message (SANTONI Paul)." : null,
      xdm_documents: [
        { path: "IHE_XDM/SUBSET01/DOC0001.XML", mime_type: "text/xml", hash_ok: true },
        { path: "IHE_XDM/SUBSET01/DOC0002.PDF", mime_type: "application/pdf", hash_ok: null },
      ],
      warnings: opts.mismatch ? ["La taille déclarée de DOC0002.PDF ne correspond pas."] : [],
    };
  }

  const sent = (subject) => ({ message_id: "<x@pli>", subject, state: "sent", error: null, refused: [] });

  /** Every command asked, in order (the start-up test counts them). */
  const calls = [];

  async function invoke(cmd, args) {
    calls.push(cmd);
    await new Promise((r) => setTimeout(r, 5));
    switch (cmd) {
      case "plugin:event|listen": {
        const eventId = nextId++;
        listeners.push({ event: args.event, eventId, handler: args.handler });
        return eventId;
      }
      case "plugin:event|unlisten":
        return null;
      case "app_info":
        return setupDone ? fx.appInfo : { ...fx.appInfo, environment: null, config_path: null, needs_setup: true, accounts: [], config_error: "aucune configuration" };
      case "save_draft":
        drafts.set(args.key, { draft: args.withFiles ? args.draft : { ...args.draft, attachments: drafts.get(args.key)?.draft.attachments ?? [] }, updated_at: Math.floor(Date.now() / 1000) });
        return null;
      case "load_draft":
        return drafts.get(args.key) ?? null;
      case "resume_draft": {
        const key = `draft-${args.id}`;
        if (!drafts.has(key)) {
          const d = detail(args.id);
          drafts.set(key, {
            draft: { from: d.row.account, to: d.to, cc: d.cc, patient_ins: null, subject: d.row.subject, body: d.text, receipt: false, delivery_receipt: false, reply_to_message: null, attachments: [] },
            updated_at: Math.floor(Date.now() / 1000),
          });
        }
        return key;
      }
      case "delete_draft":
        drafts.delete(args.key);
        return null;
      case "setup_defaults":
        return {
          environments: [
            { id: "production", psc_issuer: "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet", directory: "ldap://ldap.annuaire.mssante.fr:389", psc_client_id: null },
            { id: "bas", psc_issuer: "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet", directory: "ldap://partenaires.annuaire.sante.fr:389", psc_client_id: null },
            { id: "sandbox", psc_issuer: "http://127.0.0.1:18080/auth/realms/esante-wallet", directory: "ldap://127.0.0.1:10389", psc_client_id: "pli-desktop" },
          ],
          user_config_path: "/home/medecin/.config/pli/pli.toml",
        };
      case "setup_discover":
        return {
          imap: { host: "imap.hopital.mssante.fr", port: 993, security: "tls" },
          smtp: { host: "smtp.hopital.mssante.fr", port: 587, security: "starttls" },
          error: null,
        };
      case "setup_complete":
        if (!args.request.trust_anchors.startsWith("/")) throw { code: "invalid", message: "autorités de confiance : indiquez le chemin complet du fichier PEM" };
        setupDone = true;
        return fx.appInfo;
      case "session_info":
      case "session_resume":
        return loggedIn ? fx.session : { ...fx.session, logged_in: false, display_name: null, national_id: null, profession: null };
      case "login_ciba":
      case "login_browser":
        if (cmd === "login_ciba")
          setTimeout(() => emit({ event: "ciba_started", binding_message: "PLI-4821", expires_in: 120 }), 30);
        return new Promise((resolve) => {
          approve = () => {
            loggedIn = true;
            resolve(fx.session);
          };
        });
      case "logout":
        loggedIn = false;
        return null;
      case "mailboxes":
        return fx.mailboxes;
      case "list_messages":
        listCalls.push(args.offset);
        // As slow as a page of the real cache under load, so asking too much shows.
        if (opts.listDelayMs) await new Promise((r) => setTimeout(r, opts.listDelayMs));
        return list(args.scope, args.offset, args.limit);
      case "read_message":
        return detail(args.id);
      case "set_flag":
        return null;
      case "patients":
        return fx.patients;
      case "sync_now":
        emit({ event: "sync_progress", account: fx.mailboxes[0].address, folder: "INBOX", phase: "headers", done: 120, total: 400 });
        return null;
      case "open_attachment":
        return document(args.index);
      case "save_attachment_pdf":
        return "/home/anne/Téléchargements/CR-BIO_DUPOND_2024-01-04.pdf";
      case "send_message":
        return sent(args.draft.subject);
      case "end_exchange":
        return sent("Fin d'échange");
      case "directory_suggest": {
        // This computer's part: the one recent correspondent (Dr Marc MARTIN).
        const q = (args.query.text ?? "").toLowerCase();
        const entries = fx.directory.slice(0, 1).filter((e) => (e.display_name ?? "").toLowerCase().includes(q) || e.mail.includes(q));
        return { entries, truncated: false, source: "local", notice: null };
      }
      case "directory_search": {
        const q = (args.query.text ?? "").toLowerCase();
        if (directory.stalled)
          // A directory that does not answer: the search fails only when the test says so.
          return new Promise((_, reject) => directory.waiting.push(reject));
        const entries = fx.directory.filter((e) => (e.display_name ?? "").toLowerCase().includes(q) || e.mail.includes(q));
        return { entries, truncated: q.length < 4, source: "ldap", notice: null };
      }
      case "audit_entries":
        return fx.audit;
      case "export_audit":
        return "/home/medecin/Téléchargements/pli-audit-2025.csv";
      case "take_compose_requests":
        return [];
      case "touch":
        return 7200;
      case "add_mailbox":
        return null;
      case "outbox_items":
        return [
          { id: 1, account: fx.mailboxes[0].address, message_id: "a@x", subject: "Compte rendu de consultation — Mme DURAND", recipients: ["bruno.girard@cabinet-sandbox.mssante.fr"], state: "pending", attempts: 2, last_error: "connexion SMTP impossible : Connection refused (nouvel essai dans 60 s)" },
          { id: 2, account: fx.mailboxes[0].address, message_id: "b@x", subject: "Résultats", recipients: ["inconnu@ch-exemple.mssante.fr"], state: "failed", attempts: 1, last_error: "550 5.1.1 <inconnu@ch-exemple.mssante.fr>: Recipient address rejected" },
        ];
      case "retry_outbox":
        return sent("Compte rendu de consultation — Mme DURAND");
      case "discard_outbox":
        return null;
      case "answer_receipt":
        return args.send ? { message_id: "mdn@x", subject: "Accusé de lecture", state: "sent", error: null, refused: [] } : null;
      default:
        // Failures come as the shell sends them (pli-core `CommandError`).
        throw { code: "failed", message: `commande inconnue : ${cmd}` };
    }
  }

  window.__TAURI_INTERNALS__ = {
    invoke,
    transformCallback(cb, once) {
      const id = nextId++;
      callbacks.set(id, (p) => {
        if (once) callbacks.delete(id);
        cb(p);
      });
      return id;
    },
    unregisterCallback(id) {
      callbacks.delete(id);
    },
    convertFileSrc: (p) => p,
    metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener() {} };
  window.__pliFake = {
    emit,
    approve: () => approve?.(),
    listCalls,
    calls,
    stallDirectory: () => (directory.stalled = true),
    failDirectory: () => {
      directory.stalled = false;
      for (const reject of directory.waiting.splice(0)) reject({ code: "failed", message: "l'annuaire ne répond pas (plus de 65 s) : réessayez plus tard" });
    },
  };
}
