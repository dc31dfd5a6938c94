// Pro Santé Connect stand-in for Pli's local sandbox (oidc-provider 9.13.3). NOT a real IdP.
//
//   node psc.mjs            (started by tests/sandbox/up)
//
// Shape copied from PSC (Keycloak realm `esante-wallet`): issuer with a path, Keycloak-style
// endpoint paths, discovery also at `.well-known/wallet-openid-configuration`, scopes
// `openid scope_all`, ID token `acr` = `eidas1`, userinfo with PSC claims (SubjectNameID,
// SubjectRefPro…), CIBA in poll mode. Identities come from tests/sandbox/identities.json.
//
// env: PSC_PORT (18080), PLI_SANDBOX_IDENTITIES (path of identities.json),
//      CIBA_AUTO_APPROVE_MS (1500), PSC_ACCESS_TOKEN_TTL (120 s, like PSC),
//      PSC_REFRESH_TOKEN_TTL (1800 s), PSC_ID_TOKEN_TTL (300 s).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Provider, { errors } from 'oidc-provider';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PORT = Number(process.env.PSC_PORT || 18080);
const PREFIX = '/auth/realms/esante-wallet';
const ISSUER = `http://127.0.0.1:${PORT}${PREFIX}`;
const CIBA_DELAY = Number(process.env.CIBA_AUTO_APPROVE_MS || 1500);
const TTL_AT = Number(process.env.PSC_ACCESS_TOKEN_TTL || 120);
const TTL_RT = Number(process.env.PSC_REFRESH_TOKEN_TTL || 1800);
const TTL_ID = Number(process.env.PSC_ID_TOKEN_TTL || 300);
const IDENTITIES = process.env.PLI_SANDBOX_IDENTITIES || path.join(HERE, '..', 'identities.json');

// Public test credentials of the sandbox (also written to target/sandbox/pli.toml).
export const CLIENTS = {
  desktop: 'pli-desktop',
  ciba: 'pli-ciba',
  cibaSecret: 'pli-ciba-sandbox-secret',
  operator: 'operateur-mss',
  operatorSecret: 'operateur-mss-sandbox-secret',
};

const ids = JSON.parse(fs.readFileSync(IDENTITIES, 'utf8'));
const REFUSED = ids.refused_login_hint;

// A stable, opaque-looking PSC subject: f:<uuid>:<national id>.
function pscSub(nid) {
  const h = crypto.createHash('sha256').update(`pli-sandbox:${nid}`).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `f:${uuid}:${nid}`;
}

function pscClaims(p) {
  const s = p.structure || {};
  const activity = {
    codeModeExercice: p.profession ? 'S' : null,
    codeSecteurDactivite: s.secteur || null,
    codeSectionPharmacien: null,
    codeRole: null,
    codeGenreActivite: 'GENR01',
    numeroSiretSite: null,
    numeroSirenSite: null,
    numeroFinessSite: s.finess || null,
    numeroFinessetablissementJuridique: s.finess ? `${s.finess.slice(0, 8)}0` : null,
    identifiantTechniqueDeLaStructure: s.finess ? `1${s.finess}` : `R10000${p.national_id.slice(-6)}`,
    raisonSocialeSite: s.raison_sociale || null,
    enseigneCommercialeSite: null,
    complementDestinataire: null,
    complementPointGeographique: null,
    numeroVoie: s.numero || null,
    indiceRepetitionVoie: null,
    codeTypeDeVoie: null,
    libelleVoie: s.voie || null,
    mentionDistribution: null,
    bureauCedex: s.ville ? `${s.code_postal} ${s.ville.toUpperCase()}` : null,
    codePostal: s.code_postal || null,
    codeCommune: s.commune || null,
    codePays: null,
    codeDepartement: s.departement || null,
    telephone: null,
    telephone2: null,
    telecopie: null,
    adresseEMail: p.personal_mailbox || null,
    autoriteDenregistrement: p.profession === '10' ? 'CNOM/CNOM/CNOM' : null,
  };
  const exercices = p.profession ? [{
    codeProfession: p.profession,
    codeCategorieProfessionnelle: p.categorie,
    codeCiviliteDexercice: p.civilite,
    nomDexercice: p.family_name,
    prenomDexercice: p.given_name,
    codeTypeSavoirFaire: p.savoir_faire ? 'S' : null,
    codeSavoirFaire: p.savoir_faire,
    activities: [activity],
  }] : [];
  return {
    sub: pscSub(p.national_id),
    SubjectNameID: p.national_id,
    preferred_username: p.national_id,
    given_name: p.given_name,
    family_name: p.family_name,
    codeCivilite: p.civilite,
    email: p.personal_mailbox || undefined,
    SubjectOrganization: s.raison_sociale || '',
    SubjectOrganizationID: s.finess ? `1${s.finess}` : '',
    SubjectRole: p.profession ? [`${p.profession}^1.2.250.1.213.1.1.5.5`] : [],
    Secteur_Activite: s.secteur ? `${s.secteur}^1.2.250.1.71.4.2.4` : '',
    Palier_Authentification: 'APPPRIP3^1.2.250.1.213.1.5.1.1.1',
    otherIds: [],
    SubjectRefPro: {
      codeCivilite: p.civilite,
      exercices,
    },
  };
}

// accountId (and `sub`) is PSC's opaque subject; people log in with their national id.
const PEOPLE = new Map(ids.people.map((p) => [p.national_id, p]));
const ACCOUNTS = new Map(ids.people.map((p) => [pscSub(p.national_id), p]));
const accountOf = (nid) => (nid !== REFUSED && PEOPLE.has(nid) ? pscSub(nid) : undefined);

const SCOPE_ALL_CLAIMS = ['SubjectNameID', 'preferred_username', 'given_name', 'family_name', 'codeCivilite',
  'email', 'SubjectOrganization', 'SubjectOrganizationID', 'SubjectRole', 'Secteur_Activite',
  'Palier_Authentification', 'otherIds', 'SubjectRefPro'];

const configuration = {
  clients: [
    { // Pli desktop: public native client, auth code + PKCE (S256), loopback redirect on any port (RFC 8252)
      client_id: CLIENTS.desktop,
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/callback'],
      post_logout_redirect_uris: ['http://127.0.0.1/logout'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    { // Pli CIBA: confidential client (PSC requires client authentication for CIBA), poll mode
      client_id: CLIENTS.ciba,
      client_secret: CLIENTS.cibaSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['urn:openid:params:grant-type:ciba', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
      backchannel_token_delivery_mode: 'poll',
    },
    { // the MSSanté operator (resource server): RFC 7662 introspection only
      client_id: CLIENTS.operator,
      client_secret: CLIENTS.operatorSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  routes: { // Keycloak's paths, as PSC exposes them
    authorization: '/protocol/openid-connect/auth',
    token: '/protocol/openid-connect/token',
    userinfo: '/protocol/openid-connect/userinfo',
    introspection: '/protocol/openid-connect/token/introspect',
    revocation: '/protocol/openid-connect/revoke',
    end_session: '/protocol/openid-connect/logout',
    jwks: '/protocol/openid-connect/certs',
    backchannel_authentication: '/protocol/openid-connect/ext/ciba/auth',
    pushed_authorization_request: '/protocol/openid-connect/ext/par/request',
  },
  async findAccount(ctx, id) {
    const p = ACCOUNTS.get(id);
    if (!p) return undefined;
    return { accountId: id, claims: async () => pscClaims(p) };
  },
  claims: {
    openid: ['sub'],
    scope_all: SCOPE_ALL_CLAIMS,
    profile: ['given_name', 'family_name', 'preferred_username'],
    email: ['email'],
    acr: null,
  },
  scopes: ['openid', 'offline_access', 'scope_all', 'profile', 'email'],
  acrValues: ['eidas1'],
  extraParams: ['channel'], // PSC's CIBA `channel` (CARD / ECPS …): accepted and ignored
  // PSC hands out refresh tokens without offline_access; mimic that.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Identify the person in the access token (shows up in introspection, like Keycloak does).
  extraTokenClaims: async (ctx, token) => {
    const p = token.accountId && ACCOUNTS.get(token.accountId);
    return p ? { preferred_username: p.national_id, SubjectNameID: p.national_id, acr: 'eidas1' } : undefined;
  },
  pkce: { required: () => true, methods: ['S256'] },
  ttl: {
    AccessToken: TTL_AT,
    IdToken: TTL_ID,
    RefreshToken: TTL_RT,
    AuthorizationCode: 60,
    BackchannelAuthenticationRequest: 300,
    Grant: TTL_RT,
    Interaction: 600,
    Session: 3600,
  },
  cookies: { keys: ['pli-sandbox-cookie-key-not-a-secret'] },
  interactions: { url: (ctx, interaction) => `${PREFIX}/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Erreur', `<h1>Erreur</h1><pre>${esc(JSON.stringify(out, null, 2))}</pre>`);
  },
  features: {
    devInteractions: { enabled: false }, // our own login/consent forms below (they set acr)
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    ciba: {
      enabled: true,
      deliveryModes: ['poll'],
      processLoginHint: async (ctx, hint) => accountOf(hint), // unknown or refused id -> unknown_user_id
      processLoginHintToken: async () => undefined,
      validateBindingMessage: async () => {},
      validateRequestContext: async () => {},
      verifyUserCode: async () => {},
      triggerAuthenticationDevice: async (ctx, request, account, client) => {
        const provider = ctx.oidc.provider;
        setTimeout(async () => { // simulated "the professional approved on the e-CPS app"
          try {
            const grant = new provider.Grant({ clientId: client.clientId, accountId: account.accountId });
            grant.addOIDCScope(request.scope);
            await grant.save();
            await provider.backchannelResult(request, grant, {
              acr: 'eidas1', amr: ['mfa'], authTime: Math.floor(Date.now() / 1000),
            });
            console.log('CIBA auto-approved', request.jti, account.accountId);
          } catch (e) { console.error('CIBA approval failed', e); }
        }, CIBA_DELAY);
      },
    },
  },
};

const provider = new Provider(ISSUER, configuration);
provider.proxy = false;
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.on('backchannel.error', (ctx, err) => console.error('backchannel.error', err.message));
const callback = provider.callback();

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
function page(title, body) {
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:3em auto;color:#123}input{display:block;width:100%;margin:.3em 0 1em;padding:.4em}
button{padding:.5em 1.2em}.err{color:#a00}.sb{background:#fe6;padding:.2em .5em}</style></head>
<body><p class="sb">Pro Santé Connect — bac à sable local de Pli (aucune vraie identité)</p>${body}</body></html>`;
}
function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { data += c; if (data.length > 65536) req.destroy(); });
    req.on('end', () => resolve(new URLSearchParams(data)));
    req.on('error', reject);
  });
}
function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

function loginForm(uid, error, login = '') {
  return page('Connexion', `<h1>Connexion</h1>${error ? `<p class="err">${esc(error)}</p>` : ''}
<form method="post" action="${PREFIX}/interaction/${uid}" autocomplete="off">
<input type="hidden" name="prompt" value="login">
<label>Identifiant national (RPPS/ADELI)<input name="login" value="${esc(login)}" autofocus required></label>
<label>Code (n'importe lequel)<input type="password" name="password"></label>
<button type="submit">Se connecter</button></form>
<p><a href="${PREFIX}/interaction/${uid}/abort">Annuler</a></p>`);
}
function consentForm(uid, clientId, scopes) {
  return page('Autorisation', `<h1>Autoriser ${esc(clientId)}</h1><p>Accès demandé : ${esc(scopes.join(' '))}</p>
<form method="post" action="${PREFIX}/interaction/${uid}">
<input type="hidden" name="prompt" value="consent">
<button type="submit">Autoriser</button></form>
<p><a href="${PREFIX}/interaction/${uid}/abort">Refuser</a></p>`);
}

async function interaction(req, res, rest) {
  const [uid, action] = rest.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Erreur', '<p>Interaction inconnue.</p>'));
  const { prompt, params } = details;
  if (action === 'abort') {
    return provider.interactionFinished(req, res,
      { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });
  }
  if (req.method === 'GET') {
    if (prompt.name === 'login') return send(res, 200, loginForm(uid, null, params.login_hint || ''));
    const scopes = [...(prompt.details.missingOIDCScope || [])];
    return send(res, 200, consentForm(uid, params.client_id, scopes));
  }
  if (req.method !== 'POST') return send(res, 405, 'method not allowed');
  const body = await readBody(req);
  if (body.get('prompt') === 'login' && prompt.name === 'login') {
    const login = (body.get('login') || '').trim();
    const accountId = accountOf(login);
    if (!accountId) return send(res, 200, loginForm(uid, `Identifiant inconnu ou refusé : ${login}`, login));
    return provider.interactionFinished(req, res, {
      login: { accountId, acr: 'eidas1', amr: ['pwd', 'otp'], remember: false },
    }, { mergeWithLastSubmission: false });
  }
  if (body.get('prompt') === 'consent' && prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [ind, sc] of Object.entries(d.missingResourceScopes)) grant.addResourceScope(ind, sc.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return send(res, 400, page('Erreur', '<p>Formulaire inattendu.</p>'));
}

const server = http.createServer(async (req, res) => {
  try {
    const u = new URL(req.url, 'http://x');
    if (!u.pathname.startsWith(`${PREFIX}/`)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: 'not_found', issuer: ISSUER }));
    }
    let rest = u.pathname.slice(PREFIX.length);
    if (rest.startsWith('/interaction/')) return await interaction(req, res, rest.slice('/interaction/'.length));
    if (rest === '/.well-known/wallet-openid-configuration') rest = '/.well-known/openid-configuration';
    req.originalUrl = PREFIX + rest + u.search; // oidc-provider derives its mount path from this
    req.url = rest + u.search;
    return callback(req, res);
  } catch (e) {
    console.error('psc wrapper error', e);
    if (!res.headersSent) send(res, 500, page('Erreur', `<pre>${esc(e.message)}</pre>`));
  }
});
server.listen(PORT, '127.0.0.1', () => console.log(`PSC stand-in listening, issuer ${ISSUER}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
// errors is imported so that a future custom CIBA refusal can throw errors.AccessDenied etc.
void errors;
