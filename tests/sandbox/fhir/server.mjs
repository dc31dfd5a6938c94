// The sandbox's stand-in for the FHIR Annuaire Santé v2 API (node stdlib only).
//
// Our own small FHIR R4 server, written from the published API documentation and the
// Annuaire Santé implementation guide (ansforge/IG-fhir-annuaire); it is not ANS code and only
// covers what an MSSanté client uses: Practitioner, PractitionerRole and Organization, read and
// search, shaped like the national API (identifiers, FR Core e-mail type and the
// as-ext-mailbox-mss-metadata extension on MSSanté telecoms, Bundle paging through
// `link[next]` with `_getpages`, the gateway's `ESANTE-API-KEY` and its 401/429 answers).
//
// Data: the sandbox directory's own LDIF (the 20,000 generated entries and the identities that
// slapd serves), so LDAP and FHIR describe the same people:
//   PER with a structure (`o`)   -> Practitioner + PractitionerRole (mailbox on the role) + Organization
//   PER without a structure      -> Practitioner (mailbox on the practitioner)
//   CAB                          -> a telecom of a practitioner of the same city (and profession)
//   ORG, APP                     -> a telecom of the Organization (`o`, city, postal code)
// One generated mailbox in 20 is red-listed (`listeRouge` = true) and is still served, flag
// set, as the real API's data model allows: the client must drop it. The sandbox identities'
// mailboxes are never red-listed. Every 10th practitioner also has an ordinary (non-MSSanté)
// e-mail address, which a client must not take for a mailbox.
//
// Search (GET [base]/<Type>?…): `mailbox-mss` (`:contains`, `:exact`), Practitioner `name`,
// `family`, `given`, Organization `name`, `address-city`, `address-postalcode`, `identifier`,
// `_id`, `active`, PractitionerRole `practitioner`, `organization`; `_include`
// (PractitionerRole:organization|practitioner), `_revinclude` (PractitionerRole:practitioner on
// Practitioner, PractitionerRole:organization on Organization), `_count` (capped at
// --max-count, default 20, so that paging is always exercised). String matching follows FHIR:
// case- and accent-insensitive prefix by default, `:contains` substring, `:exact` exact;
// repeated parameters AND, comma-separated values OR (`\,` escapes a comma). Unknown
// parameters (`mailbox-mss-type`, which the real gateway does not expose yet) and `_type`
// multi-resource search answer 400 like the gateway.
//
// Keys (header ESANTE-API-KEY; anything else, or none, gets 401), all public sandbox values:
//   pli-fhir-sandbox-key           normal
//   pli-fhir-sandbox-quota-key     a quota of 3 requests per 30 s, then 429 + Retry-After
//   pli-fhir-sandbox-hang-key      the connection is accepted and never answered
//   pli-fhir-sandbox-garbled-key   200 with a truncated (malformed) JSON body
//
// usage: node server.mjs --ldif FILE [--identities identities.json] [--port 18090]
//                        [--host 127.0.0.1] [--max-count 20]
// env:   FHIR_PORT, FHIR_LDIF, PLI_SANDBOX_IDENTITIES (same meaning)
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';

const BASE = '/fhir/v2';
const EMAIL_TYPE = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type';
const META = 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata';
const TRE_R256 = 'https://mos.esante.gouv.fr/NOS/TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie';
const TRE_R257 = 'https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL';
const TRE_G15 = 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante';
const TRE_R09 = 'https://mos.esante.gouv.fr/NOS/TRE_R09-CategorieProfessionnelle/FHIR/TRE-R09-CategorieProfessionnelle';
const TRE_R38 = 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale';
const TRE_R21 = 'https://mos.esante.gouv.fr/NOS/TRE_R21-Fonction/FHIR/TRE-R21-Fonction';
const V2_0203 = 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203';
const PROFILE = 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/';
const UPDATED = '2026-01-05T08:00:00.000+01:00';

const KEYS = {
  'pli-fhir-sandbox-key': 'normal',
  'pli-fhir-sandbox-quota-key': 'quota',
  'pli-fhir-sandbox-hang-key': 'hang',
  'pli-fhir-sandbox-garbled-key': 'garbled',
};
const QUOTA = { requests: 3, windowMs: 30_000 };

// ---------------------------------------------------------------- arguments
function arg(name, env, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  if (i > 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  return process.env[env] || dflt;
}
const PORT = Number(arg('port', 'FHIR_PORT', 18090));
const HOST = arg('host', 'FHIR_HOST', '127.0.0.1');
const LDIF = arg('ldif', 'FHIR_LDIF', '');
const IDENTITIES = arg('identities', 'PLI_SANDBOX_IDENTITIES', '');
const MAX_COUNT = Math.max(1, Number(arg('max-count', 'FHIR_MAX_COUNT', 20)));
if (!LDIF || !fs.existsSync(LDIF)) {
  console.error(`fhir: the directory's LDIF is required (--ldif FILE); got "${LDIF}"`);
  process.exit(2);
}

// ---------------------------------------------------------------- data: LDIF -> FHIR
function parseLdif(text) {
  const out = [];
  for (const block of text.split(/\n\n+/)) {
    const rec = {};
    for (const line of block.replace(/\n /g, '').split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const b64 = line.match(/^([^:]+):: ?(.*)$/);
      const plain = b64 ? null : line.match(/^([^:]+): ?(.*)$/);
      const m = b64 || plain;
      if (!m) continue;
      const v = b64 ? Buffer.from(m[2], 'base64').toString('utf8') : m[2];
      (rec[m[1].toLowerCase()] ??= []).push(v);
    }
    if (rec.mail) out.push(rec);
  }
  return out;
}

const ids = IDENTITIES && fs.existsSync(IDENTITIES) ? JSON.parse(fs.readFileSync(IDENTITIES, 'utf8')) : null;
const nationalIdOf = new Map(); // personal mailbox -> national id
const finessOf = new Map(); // structure name -> FINESS
for (const p of ids?.people ?? []) {
  if (p.personal_mailbox && /^8\d{11}$/.test(p.national_id)) nationalIdOf.set(p.personal_mailbox, p.national_id);
  if (p.structure?.finess) finessOf.set(p.structure.raison_sociale, p.structure.finess);
}
const identityDomains = new Set((ids?.domains ?? []).filter((d) => !d.startsWith('patient.')));

const practitioners = [];
const roles = [];
const organizations = [];
const byId = { Practitioner: new Map(), PractitionerRole: new Map(), Organization: new Map() };
const orgByKey = new Map();

function mssTelecom(mail, type, { description, service, red }) {
  const meta = [{ url: 'type', valueCodeableConcept: { coding: [{ system: TRE_R257, code: type }] } }];
  if (description) meta.push({ url: 'description', valueString: description });
  if (service) meta.push({ url: 'service', valueString: service });
  meta.push({ url: 'listeRouge', valueBoolean: red });
  return {
    extension: [
      { url: EMAIL_TYPE, valueCoding: { system: TRE_R256, code: 'MSSANTE', display: 'MSSANTE' } },
      { url: META, extension: meta },
    ],
    system: 'email',
    value: mail,
    use: 'work',
  };
}

function organizationFor(name, city, postalCode, street, dep) {
  const key = `${name}|${city}|${postalCode}`;
  let org = orgByKey.get(key);
  if (org) return org;
  const n = organizations.length + 1;
  const finess = finessOf.get(name) ?? `${(dep || '99').slice(0, 2)}${String(9100000 + n).padStart(7, '0')}`;
  org = {
    resourceType: 'Organization',
    id: `org-${n}`,
    meta: { lastUpdated: UPDATED, source: 'https://annuaire.sante.fr', profile: [`${PROFILE}as-dp-organization`] },
    language: 'fr',
    identifier: [
      { use: 'official', type: { coding: [{ system: V2_0203, code: 'IDNST' }] }, system: 'urn:oid:1.2.250.1.71.4.2.2', value: `1${finess}` },
      { use: 'official', type: { coding: [{ system: V2_0203, code: 'FINEG' }] }, system: 'https://finess.esante.gouv.fr', value: finess },
    ],
    active: true,
    name,
    telecom: [{ system: 'phone', value: `03${String(81000000 + n).padStart(8, '0')}`, rank: 1 }],
    address: [{ use: 'work', line: street ? [street] : [], postalCode, city, country: 'FRA' }],
  };
  orgByKey.set(key, org);
  organizations.push(org);
  byId.Organization.set(org.id, org);
  return org;
}

function load() {
  const records = parseLdif(fs.readFileSync(LDIF, 'utf8'));
  const first = (r, k) => r[k]?.[0];
  const cabinets = [];
  let generated = 0;
  for (const r of records) {
    const mail = first(r, 'mail');
    const type = first(r, 'msstypebal');
    const identity = identityDomains.has(mail.split('@')[1]);
    // One generated mailbox in 20 on the red list; never an identity's.
    const red = !identity && generated++ % 20 === 13;
    const [city, cp, street, dep] = [first(r, 'l'), first(r, 'postalcode'), first(r, 'street'), first(r, 'mssdepartement')];
    if (type === 'PER') {
      const n = practitioners.length + 1;
      const idNat = nationalIdOf.get(mail) ?? `8${String(10000000000 + n)}`;
      const display = first(r, 'displayname') ?? '';
      const name = { use: 'official', family: first(r, 'sn'), given: first(r, 'givenname') ? [first(r, 'givenname')] : [] };
      if (display.startsWith('Dr ')) name.suffix = ['DR'];
      const quals = [];
      if (first(r, 'mssprofession')) {
        quals.push({ code: { coding: [{ system: TRE_R09, code: 'C' }, { system: TRE_G15, code: first(r, 'mssprofession') }] } });
      }
      if (first(r, 'mssspecialite')) quals.push({ code: { coding: [{ system: TRE_R38, code: first(r, 'mssspecialite') }] } });
      const p = {
        resourceType: 'Practitioner',
        id: `pp-${n}`,
        meta: { lastUpdated: UPDATED, source: 'https://annuaire.sante.fr', profile: [`${PROFILE}as-dp-practitioner`] },
        language: 'fr',
        identifier: [
          { use: 'official', type: { coding: [{ system: V2_0203, code: 'IDNPS' }] }, system: 'urn:oid:1.2.250.1.71.4.2.1', value: idNat },
          { use: 'official', type: { coding: [{ system: V2_0203, code: 'RPPS' }] }, system: 'https://rpps.esante.gouv.fr', value: idNat.slice(1) },
        ],
        active: true,
        name: [name],
        telecom: [],
        qualification: quals,
        _city: city,
        _profession: first(r, 'mssprofession'),
      };
      const mailbox = mssTelecom(mail, 'PER', { service: first(r, 'ou'), red });
      if (first(r, 'o')) {
        const org = organizationFor(first(r, 'o'), city, cp, street, dep);
        const role = {
          resourceType: 'PractitionerRole',
          id: `prr-${n}`,
          meta: { lastUpdated: UPDATED, source: 'https://annuaire.sante.fr', profile: [`${PROFILE}as-dp-practitionerrole`] },
          language: 'fr',
          identifier: [{ system: 'https://annuaire.sante.fr', value: String(1010000000 + n) }],
          active: true,
          practitioner: { reference: `Practitioner/${p.id}` },
          organization: { reference: `Organization/${org.id}` },
          code: [{ coding: [{ system: TRE_R21, code: 'FON-AU' }] }],
          telecom: [mailbox],
        };
        roles.push(role);
        byId.PractitionerRole.set(role.id, role);
      } else {
        p.telecom.push(mailbox);
      }
      if (n % 10 === 0 && !identity) {
        p.telecom.push({ system: 'email', value: `${mail.split('@')[0]}@example.org`, use: 'home' });
      }
      practitioners.push(p);
      byId.Practitioner.set(p.id, p);
    } else if (type === 'CAB') {
      cabinets.push({ mail, name: first(r, 'cn'), city, profession: first(r, 'mssprofession'), red });
    } else {
      const org = organizationFor(first(r, 'o') ?? first(r, 'cn'), city, cp, street, dep);
      org.telecom.push(mssTelecom(mail, type, { description: first(r, 'cn'), service: first(r, 'ou'), red }));
    }
  }
  // A practice mailbox belongs to a practitioner: the first of the same city and profession.
  const titular = new Map();
  for (const p of practitioners) {
    for (const k of [`${p._city}|${p._profession}`, `${p._city}|*`]) if (!titular.has(k)) titular.set(k, p);
  }
  for (const c of cabinets) {
    const p = titular.get(`${c.city}|${c.profession}`) ?? titular.get(`${c.city}|*`) ?? practitioners[0];
    p.telecom.push(mssTelecom(c.mail, 'CAB', { description: c.name, red: c.red }));
  }
  for (const p of practitioners) {
    delete p._city;
    delete p._profession;
  }
  return records.length;
}
const loaded = load();

// ---------------------------------------------------------------- search
const fold = (s) => String(s ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/œ/gi, 'oe').replace(/æ/gi, 'ae').toLowerCase();

/** Values of one parameter occurrence: comma-separated OR, `\` escapes. */
function values(raw) {
  const out = [];
  let cur = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && i + 1 < raw.length) cur += raw[++i];
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

function stringMatch(fields, modifier, value) {
  const v = fold(value);
  return fields.some((f) => {
    if (f == null) return false;
    if (modifier === 'exact') return String(f) === value;
    if (modifier === 'contains') return fold(f).includes(v);
    return fold(f).startsWith(v);
  });
}

const mssValues = (r) => (r.telecom ?? []).filter((t) => t.extension?.some((e) => e.url === EMAIL_TYPE)).map((t) => t.value);
const refId = (v) => v.replace(/^.*\//, '');

const PARAMS = {
  Practitioner: {
    name: (r) => r.name.flatMap((n) => [n.family, ...(n.given ?? []), ...(n.prefix ?? []), ...(n.suffix ?? []), n.text]),
    family: (r) => r.name.map((n) => n.family),
    given: (r) => r.name.flatMap((n) => n.given ?? []),
    'mailbox-mss': mssValues,
    identifier: 'identifier',
    active: 'active',
  },
  PractitionerRole: {
    'mailbox-mss': mssValues,
    practitioner: (r) => [r.practitioner?.reference],
    organization: (r) => [r.organization?.reference],
    identifier: 'identifier',
    active: 'active',
  },
  Organization: {
    name: (r) => [r.name, ...(r.alias ?? [])],
    'mailbox-mss': mssValues,
    'address-city': (r) => r.address.map((a) => a.city),
    'address-postalcode': (r) => r.address.map((a) => a.postalCode),
    identifier: 'identifier',
    active: 'active',
  },
};
const INCLUDES = { PractitionerRole: ['PractitionerRole:organization', 'PractitionerRole:practitioner'] };
const REVINCLUDES = { Practitioner: ['PractitionerRole:practitioner'], Organization: ['PractitionerRole:organization'] };
const CONTROL = new Set(['_count', '_include', '_revinclude', '_format', '_pretty', '_total', '_getpages', '_getpagesoffset', '_bundletype']);

class BadRequest extends Error {}

/** The predicates of a search URL, or BadRequest. */
function compile(type, params) {
  const preds = [];
  for (const [key, raw] of params) {
    if (CONTROL.has(key)) continue;
    const [name, modifier] = key.split(':');
    const vals = values(raw);
    if (name === '_id') {
      preds.push((r) => vals.includes(r.id));
      continue;
    }
    const def = PARAMS[type][name];
    if (!def) {
      throw new BadRequest(`Unknown search parameter "${key}" for resource type "${type}". Valid search parameters for this search are: [_id, ${Object.keys(PARAMS[type]).join(', ')}]`);
    }
    if (modifier && !['contains', 'exact'].includes(modifier)) throw new BadRequest(`Unsupported modifier ":${modifier}" on "${name}"`);
    if (def === 'active') preds.push((r) => vals.includes(String(r.active)));
    else if (def === 'identifier') {
      preds.push((r) => r.identifier.some((i) => vals.some((v) => (v.includes('|') ? `${i.system}|${i.value}` === v : i.value === v))));
    } else if (name === 'practitioner' || name === 'organization') {
      preds.push((r) => def(r).some((ref) => ref && vals.some((v) => refId(ref) === refId(v))));
    } else {
      preds.push((r) => vals.some((v) => stringMatch(def(r), modifier, v)));
    }
  }
  return (r) => preds.every((p) => p(r));
}

function resources(type) {
  return type === 'Practitioner' ? practitioners : type === 'PractitionerRole' ? roles : organizations;
}

// Search sessions for `_getpages`, like HAPI FHIR (kept 10 minutes, 500 at most).
const sessions = new Map();
function remember(session) {
  const id = crypto.randomUUID();
  sessions.set(id, session);
  for (const [k, s] of sessions) {
    if (sessions.size <= 500 && Date.now() - s.created < 600_000) break;
    sessions.delete(k);
  }
  return id;
}

function bundle(req, session, sessionId, offset, count) {
  const base = `http://${req.headers.host}${BASE}`;
  const page = session.matched.slice(offset, offset + count).map((id) => byId[session.type].get(id));
  const entry = page.map((r) => ({ fullUrl: `${base}/${session.type}/${r.id}`, resource: r, search: { mode: 'match' } }));
  const seen = new Set(page.map((r) => `${session.type}/${r.id}`));
  const add = (r) => {
    const k = `${r.resourceType}/${r.id}`;
    if (!seen.has(k)) {
      seen.add(k);
      entry.push({ fullUrl: `${base}/${k}`, resource: r, search: { mode: 'include' } });
    }
  };
  for (const inc of session.include) {
    const field = inc.split(':')[1];
    for (const r of page) {
      const ref = r[field]?.reference;
      const target = ref && byId[field === 'organization' ? 'Organization' : 'Practitioner'].get(refId(ref));
      if (target) add(target);
    }
  }
  for (const rev of session.revinclude) {
    const field = rev.split(':')[1];
    const want = new Set(page.map((r) => `${session.type}/${r.id}`));
    for (const role of roles) if (want.has(role[field]?.reference)) add(role);
  }
  const link = [{ relation: 'self', url: `${base}${req.url.slice(BASE.length)}` }];
  if (offset + count < session.matched.length) {
    link.push({ relation: 'next', url: `${base}?_getpages=${sessionId}&_getpagesoffset=${offset + count}&_count=${count}&_bundletype=searchset` });
  }
  return {
    resourceType: 'Bundle',
    id: crypto.randomUUID(),
    meta: { lastUpdated: new Date().toISOString() },
    type: 'searchset',
    total: session.matched.length,
    link,
    entry,
  };
}

function pageSize(params) {
  const c = params.get('_count');
  if (c == null) return MAX_COUNT;
  const n = Number(c);
  if (!Number.isInteger(n) || n < 0) throw new BadRequest(`Invalid _count "${c}"`);
  return Math.min(n, MAX_COUNT);
}

// ---------------------------------------------------------------- HTTP
function outcome(code, diagnostics) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/fhir+json;charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

let quota = { start: 0, used: 0 };
function overQuota() {
  const now = Date.now();
  if (now - quota.start >= QUOTA.windowMs) quota = { start: now, used: 0 };
  quota.used += 1;
  if (quota.used <= QUOTA.requests) return null;
  const reset = quota.start + QUOTA.windowMs;
  return { retry: Math.max(1, Math.ceil((reset - now) / 1000)), reset };
}

function handle(req, res, mode) {
  const url = new URL(req.url, 'http://sandbox');
  const path = url.pathname.replace(/\/+$/, '');
  const params = [...url.searchParams];
  if (path === BASE && url.searchParams.has('_getpages')) {
    const id = url.searchParams.get('_getpages');
    const s = sessions.get(id);
    if (!s) return send(res, 410, outcome('not-found', `Search ID "${id}" does not exist and may have expired`));
    const offset = Number(url.searchParams.get('_getpagesoffset') || 0);
    return send(res, 200, bundle(req, s, id, offset, pageSize(url.searchParams)));
  }
  if (path === BASE || path === `${BASE}/`) {
    return send(res, 400, outcome('not-supported', 'Multi-resource search (_type) and batch are not supported by this gateway'));
  }
  if (path === `${BASE}/metadata`) {
    return send(res, 200, {
      resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['application/fhir+json'],
      software: { name: 'Pli sandbox FHIR Annuaire stand-in' },
      rest: [{ mode: 'server', resource: Object.keys(PARAMS).map((type) => ({
        type, interaction: [{ code: 'read' }, { code: 'search-type' }],
        searchInclude: INCLUDES[type] ?? [], searchRevInclude: REVINCLUDES[type] ?? [],
        searchParam: ['_id', ...Object.keys(PARAMS[type])].map((name) => ({ name })),
      })) }],
    });
  }
  const m = path.slice(BASE.length).match(/^\/(Practitioner|PractitionerRole|Organization)(?:\/([^/]+))?$/);
  if (!path.startsWith(`${BASE}/`) || !m) return send(res, 404, outcome('not-found', `Unknown resource path ${url.pathname}`));
  const [, type, id] = m;
  if (id) {
    const r = byId[type].get(id);
    return r ? send(res, 200, r) : send(res, 404, outcome('not-found', `Resource ${type}/${id} is not known`));
  }
  const include = url.searchParams.getAll('_include');
  const revinclude = url.searchParams.getAll('_revinclude');
  for (const i of include) if (!(INCLUDES[type] ?? []).includes(i)) throw new BadRequest(`Invalid _include parameter value: "${i}"`);
  for (const i of revinclude) if (!(REVINCLUDES[type] ?? []).includes(i)) throw new BadRequest(`Invalid _revinclude parameter value: "${i}"`);
  const count = pageSize(url.searchParams);
  const match = compile(type, params);
  const session = { type, matched: resources(type).filter(match).map((r) => r.id), include, revinclude, created: Date.now() };
  const sid = remember(session);
  const body = bundle(req, session, sid, 0, count);
  if (mode === 'garbled') {
    const text = JSON.stringify(body);
    return send(res, 200, text.slice(0, Math.floor(text.length / 2)));
  }
  return send(res, 200, body);
}

const server = http.createServer((req, res) => {
  const t0 = Date.now();
  const key = req.headers['esante-api-key'];
  const mode = KEYS[key];
  res.on('finish', () => {
    const shown = req.url.replace(/([?&]_getpages=)[^&]+/, '$1…');
    console.log(`${new Date().toISOString()} ${mode ?? 'no-key'} ${req.method} ${shown} ${res.statusCode} ${Date.now() - t0}ms`);
  });
  if (req.method !== 'GET') return send(res, 405, outcome('not-supported', `${req.method} is not supported`));
  if (!mode) {
    // The gateway's own answer, not a FHIR resource.
    const body = JSON.stringify({ message: 'Unauthorized', http_status_code: 401 });
    res.writeHead(401, { 'content-type': 'application/json', 'content-length': body.length });
    return res.end(body);
  }
  if (mode === 'hang') {
    console.log(`${new Date().toISOString()} hang ${req.method} ${req.url} (never answered)`);
    const drop = setTimeout(() => req.socket.destroy(), 600_000);
    req.socket.on('close', () => clearTimeout(drop));
    return undefined;
  }
  if (mode === 'quota') {
    const over = overQuota();
    if (over) {
      const body = JSON.stringify({ message: `Rate limit exceeded ! You reach the limit of ${QUOTA.requests} requests per ${QUOTA.windowMs / 1000} seconds`, http_status_code: 429 });
      res.writeHead(429, {
        'content-type': 'application/json', 'content-length': body.length, 'retry-after': String(over.retry),
        'x-rate-limit-limit': String(QUOTA.requests), 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(over.reset),
      });
      return res.end(body);
    }
  }
  try {
    return handle(req, res, mode);
  } catch (e) {
    if (e instanceof BadRequest) return send(res, 400, outcome('invalid', e.message));
    console.error(e);
    return send(res, 500, outcome('exception', 'internal error'));
  }
});
server.keepAliveTimeout = 30_000;
server.listen(PORT, HOST, () => {
  const red = [...practitioners, ...roles, ...organizations].flatMap((r) => r.telecom ?? [])
    .filter((t) => t.extension?.some((e) => e.url === META && e.extension.some((x) => x.url === 'listeRouge' && x.valueBoolean))).length;
  console.log(`fhir: http://${HOST}:${PORT}${BASE} — ${loaded} directory entries: ${practitioners.length} Practitioner, `
    + `${roles.length} PractitionerRole, ${organizations.length} Organization, ${red} red-listed mailboxes; pages of ${MAX_COUNT}`);
});
