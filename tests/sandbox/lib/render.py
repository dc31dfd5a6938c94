#!/usr/bin/env python3
"""Render the sandbox's derived files from tests/sandbox/identities.json (python3 stdlib only).

usage: render.py IDENTITIES STATE_DIR
writes STATE_DIR/pli.toml, STATE_DIR/dovecot/conf/{users,patients,master-users},
       STATE_DIR/ldap/identities.ldif
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "ldap"))
import gen_ldif  # noqa: E402  (shared LDIF helpers)


def q(s):
    """A TOML basic string."""
    return json.dumps(s, ensure_ascii=False)


def nir_key_ok(ins):
    n = ins.upper().replace("2A", "19").replace("2B", "18")
    return len(ins) == 15 and n.isdigit() and 97 - int(n[:13]) % 97 == int(n[13:])


def pli_toml(ids, state):
    ca = os.path.join(state, "ca.pem")
    data = os.path.join(state, "data")
    out = [
        "# Written by tests/sandbox/up from tests/sandbox/identities.json — do not edit, rerun `up`.",
        "# Schema: pli-core config::Config. Reduced IMAP endpoint WITHOUT CONDSTORE/QRESYNC: same ports",
        "# on 127.0.0.2 (set operator.imap.connect_addr = \"127.0.0.2\"); see tests/sandbox/README.md.",
        'environment = "sandbox"',
        'product_reference = "Pli/0.1.0 (sandbox)"',
        f"data_dir = {q(data)}",
        "",
        "[psc]",
        'issuer = "http://127.0.0.1:18080/auth/realms/esante-wallet"',
        'discovery_path = "/.well-known/wallet-openid-configuration"',
        'scopes = ["openid", "scope_all"]',
        'acr_values = "eidas1"',
        "",
        "[psc.browser]                                       # public native client, PKCE, loopback redirect",
        'client_id = "pli-desktop"',
        'client_auth = "none"',
        "",
        "[psc.ciba]                                          # confidential client for CIBA (public test secret)",
        'client_id = "pli-ciba"',
        'client_auth = "client_secret_basic"',
        'client_secret = { sandbox_literal = "pli-ciba-sandbox-secret" }',
        "",
        "[operator]",
        'imap = { host = "localhost", port = 10143, security = "starttls", connect_addr = "127.0.0.1" }',
        'smtp = { host = "localhost", port = 10587, security = "starttls", connect_addr = "127.0.0.1" }',
        f"trust_anchors = {q(ca)}                 # the sandbox test CA, the only one trusted",
        f"patient_domain = {q(ids['patient_domain'])}",
        "",
        "[directory]",
        'url = "ldap://127.0.0.1:10389"',
        'base_dn = "ou=bal,o=mssante,c=fr"',
        "size_limit = 100",
        "time_limit_secs = 60",
        "# attributes: the defaults of DirectoryAttributes (mssTypeBAL, mssProfession, …) match the sandbox schema",
        "",
        "[directory.fhir]                                    # FHIR Annuaire Santé stand-in (fhir/server.mjs), public test key",
        'base_url = "http://127.0.0.1:18090/fhir/v2"',
        'api_key = { sandbox_literal = "pli-fhir-sandbox-key" }',
        "timeout_secs = 10",
        "",
        "[discovery]                                         # DNS SRV (RFC 6186): the sandbox's dnsmasq, not the system resolver",
        'nameserver = "127.0.0.1:10053"',
        "",
        "[updates]                                           # no update server in the sandbox",
        "enabled = false",
        "",
    ]
    for m in ids["mailboxes"]:
        if m.get("account"):
            out += ["[[accounts]]", f"address = {q(m['address'])}", f"kind = {q(m['kind'])}",
                    f"display_name = {q(m['display_name'])}", ""]
    out += ["[sandbox]", f"refused_login_hint = {q(ids['refused_login_hint'])}",
            f"master_user = {q(ids['master_user'])}", f"master_password = {q(ids['master_password'])}", ""]
    for p in ids["people"]:
        out += ["[[sandbox.people]]", f"role = {q(p['role'])}", f"national_id = {q(p['national_id'])}",
                f"given_name = {q(p['given_name'])}", f"family_name = {q(p['family_name'])}"]
        if p.get("personal_mailbox"):
            out.append(f"personal_mailbox = {q(p['personal_mailbox'])}")
        out += ["mailboxes = [" + ", ".join(q(x) for x in p["mailboxes"]) + "]", ""]
    for pt in ids["patients"]:
        out += ["[[sandbox.patients]]", f"ins = {q(pt['ins'])}", f"family_name = {q(pt['family_name'])}",
                f"given_name = {q(pt['given_name'])}", f"address = {q(pt['ins'] + '@' + ids['patient_domain'])}",
                f"password = {q(pt['password'])}", ""]
    return "\n".join(out)


def main():
    ids_path, state = sys.argv[1], os.path.abspath(sys.argv[2])
    with open(ids_path, encoding="utf-8") as f:
        ids = json.load(f)
    for pt in ids["patients"]:
        if not nir_key_ok(pt["ins"]):
            sys.exit(f"identities.json: INS {pt['ins']} has a wrong NIR key")
    known = {m["address"] for m in ids["mailboxes"]}
    for p in ids["people"]:
        for mb in p["mailboxes"]:
            if mb not in known:
                sys.exit(f"identities.json: {p['national_id']} lists unknown mailbox {mb}")
    conf = os.path.join(state, "dovecot", "conf")
    os.makedirs(conf, exist_ok=True)
    os.makedirs(os.path.join(state, "ldap"), exist_ok=True)
    with open(os.path.join(state, "pli.toml"), "w", encoding="utf-8") as f:
        f.write(pli_toml(ids, state))
    # userdb: every mailbox (practitioners, service mailboxes, patients); no passwords here.
    # Dovecot looks users up lower-cased (auth_username_format = %Lu), so the files are written
    # lower-case too: Corsican INS (2A/2B) would otherwise be unknown users.
    users = [m["address"].lower() for m in ids["mailboxes"]] + [(p["ins"] + "@" + ids["patient_domain"]).lower() for p in ids["patients"]]
    with open(os.path.join(conf, "users"), "w", encoding="utf-8") as f:
        f.writelines(f"{u}::::::\n" for u in users)
    # PLAIN passdb: patients only (practitioners' and service mailboxes are XOAUTH2-only).
    with open(os.path.join(conf, "patients"), "w", encoding="utf-8") as f:
        f.writelines(f"{p['ins'].lower()}@{ids['patient_domain']}:{{PLAIN}}{p['password']}::::::\n" for p in ids["patients"])
    with open(os.path.join(conf, "master-users"), "w", encoding="utf-8") as f:
        f.write(f"{ids['master_user']}:{{PLAIN}}{ids['master_password']}::::::\n")
    with open(os.path.join(state, "ldap", "identities.ldif"), "w", encoding="utf-8") as f:
        for m in ids["mailboxes"]:
            attrs = dict(m.get("ldap", {}))
            attrs.setdefault("cn", m["display_name"])
            attrs.setdefault("displayName", m["display_name"])
            f.write(gen_ldif.entry(m["address"], m["kind"], attrs))
        # patients are not in the professionals' directory


if __name__ == "__main__":
    main()
