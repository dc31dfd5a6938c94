#!/usr/bin/env python3
"""Quick by-hand check of a running sandbox (python3 stdlib + ldapsearch). Not the test suite.

usage: tests/sandbox/selfcheck.py      (after tests/sandbox/up)
Prints one line per check and exits non-zero if any fails.
"""
import base64
import email
import email.policy
import imaplib
import json
import os
import smtplib
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = subprocess.run(["git", "-C", HERE, "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip() \
    or os.path.abspath(os.path.join(HERE, "..", ".."))
STATE = os.environ.get("PLI_SANDBOX_STATE", os.path.join(ROOT, "target", "sandbox"))
CA = os.path.join(STATE, "ca.pem")
ISSUER = "http://127.0.0.1:18080/auth/realms/esante-wallet"
ANNE, CLAIRE, BRUNO_ID = "810100000001", "3750100125/SEC001", "810100000002"
A_BOX, ORG, URG = "anne.lefevre@pli-sandbox.mssante.fr", "cardiologie.secretariat@pli-sandbox.mssante.fr", "urgences@pli-sandbox.mssante.fr"
B_BOX = "bruno.girard@cabinet-sandbox.mssante.fr"
ctx = ssl.create_default_context(cafile=CA)
failures = []


LAST = [time.time()]


def check(name, ok, detail=""):
    now = time.time()
    print(f"[{'ok' if ok else 'FAIL'}] {name}" + (f" — {detail}" if detail else "") + f"  ({now - LAST[0]:.2f} s)")
    LAST[0] = now
    if not ok:
        failures.append(name)


def token(nid, *extra):
    out = subprocess.run([sys.executable, os.path.join(HERE, "get_token.py"), nid, *extra], capture_output=True, text=True)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr
    except (ValueError, IndexError):
        return {"error": out.stdout + out.stderr}, out.stderr


def xoauth2(user, tok, host="127.0.0.1", port=10143):
    m = imaplib.IMAP4(host, port)
    m.starttls(ssl_context=ctx)
    m.authenticate("XOAUTH2", lambda _: f"user={user}\x01auth=Bearer {tok}\x01\x01".encode())
    return m


def refused(user, tok):
    try:
        xoauth2(user, tok).logout()
        return False
    except imaplib.IMAP4.error:
        return True


def main():
    t0 = time.time()
    # --- PSC
    with urllib.request.urlopen(ISSUER + "/.well-known/wallet-openid-configuration") as r:
        meta = json.load(r)
    with urllib.request.urlopen(ISSUER + "/.well-known/openid-configuration") as r:
        check("discovery at both well-known paths", json.load(r)["issuer"] == meta["issuer"] == ISSUER)
    tk, _ = token(ANNE)
    check("code+PKCE token for Anne", "access_token" in tk and "refresh_token" in tk, str(tk)[:120] if "access_token" not in tk else "")
    at = tk["access_token"]
    p = tk["id_token"].split(".")[1]
    idt = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    check("ID token acr = eidas1, sub f:<uuid>:<id>", idt.get("acr") == "eidas1" and idt["sub"].startswith("f:") and idt["sub"].endswith(ANNE), idt["sub"])
    req = urllib.request.Request(meta["userinfo_endpoint"], headers={"Authorization": "Bearer " + at})
    with urllib.request.urlopen(req) as r:
        ui = json.load(r)
    ex = ui["SubjectRefPro"]["exercices"][0]
    check("userinfo PSC claims", ui["SubjectNameID"] == ANNE and ui["preferred_username"] == ANNE and ex["codeProfession"] == "10"
          and ex["activities"][0]["raisonSocialeSite"], f"{ui['given_name']} {ui['family_name']} {ex['codeSavoirFaire']}")
    # --- IMAP
    m = imaplib.IMAP4("127.0.0.1", 10143)
    check("no AUTH before STARTTLS", "LOGINDISABLED" in m.capabilities and not any(c.startswith("AUTH=") for c in m.capabilities))
    m.logout()
    m = xoauth2(A_BOX, at)
    caps = m.capability()[1][0].decode().split()
    check("Anne: XOAUTH2 STARTTLS on her mailbox; CONDSTORE QRESYNC advertised", "CONDSTORE" in caps and "QRESYNC" in caps)
    n = int(m.select("INBOX")[1][0])
    check("Anne's INBOX is seeded", n > 20, f"{n} messages")
    typ, data = m.search(None, 'HEADER', 'X-MSS-CODECDA', '""')
    check("XDM messages with X-MSS-CODECDA", typ == "OK" and len(data[0].split()) >= 3, f"{len(data[0].split())} found")
    m.logout()
    check("Anne: XOAUTH2 on the service mailbox", not refused(ORG, at))
    ms = imaplib.IMAP4_SSL("127.0.0.1", 10993, ssl_context=ctx)
    ms.authenticate("OAUTHBEARER", lambda _: f"n,a={A_BOX},\x01host=localhost\x01port=10993\x01auth=Bearer {at}\x01\x01".encode())
    check("Anne: OAUTHBEARER over IMAPS", ms.select("INBOX")[0] == "OK")
    ms.logout()
    r = imaplib.IMAP4("127.0.0.2", 10143)
    r.starttls(ssl_context=ctx)
    r.authenticate("XOAUTH2", lambda _: f"user={A_BOX}\x01auth=Bearer {at}\x01\x01".encode())
    rc = r.capability()[1][0].decode().split()
    check("reduced endpoint 127.0.0.2: no CONDSTORE/QRESYNC", "CONDSTORE" not in rc and "QRESYNC" not in rc and "IDLE" in rc)
    r.logout()
    tc, _ = token(CLAIRE)
    check("Claire's token opens the service mailbox", not refused(ORG, tc["access_token"]))
    check("Claire's token refused on Anne's mailbox", refused(A_BOX, tc["access_token"]))
    check("Claire's token refused on urgences@", refused(URG, tc["access_token"]))
    check("Anne's token refused on urgences@", refused(URG, at))
    check("bogus token refused", refused(A_BOX, "bogus-token-123456"))
    rt = subprocess.run([sys.executable, os.path.join(HERE, "get_token.py"), "--refresh", tk["refresh_token"]],
                        capture_output=True, text=True).stdout
    check("refresh works", "access_token" in json.loads(rt or "{}"))
    t2, _ = token(ANNE)
    subprocess.run([sys.executable, os.path.join(HERE, "get_token.py"), "--revoke", t2["access_token"]], capture_output=True)
    check("revoked token refused", refused(A_BOX, t2["access_token"]))
    # patient PLAIN, master user, practitioner PLAIN refused
    p = imaplib.IMAP4("127.0.0.1", 10143)
    p.starttls(ssl_context=ctx)
    p.login("279035121518989@patient.mssante.fr", "patient-pass")
    check("patient PLAIN login after STARTTLS", p.select("INBOX")[0] == "OK")
    p.logout()
    p = imaplib.IMAP4("127.0.0.1", 10143)
    p.starttls(ssl_context=ctx)
    p.login(f"{B_BOX}*sandbox-master", "sandbox-master-pass")
    before = int(p.select("INBOX")[1][0])
    p.logout()
    check("master user opens Bruno's mailbox", True, f"{before} messages")
    try:
        p = imaplib.IMAP4("127.0.0.1", 10143)
        p.starttls(ssl_context=ctx)
        p.login(A_BOX, "anything")
        ok = False
    except imaplib.IMAP4.error:
        ok = True
    check("practitioner mailbox refuses PLAIN", ok)
    # --- SMTP submission XOAUTH2 -> Bruno's INBOX
    marker = f"selfcheck{int(time.time())}"
    subj = f"Selfcheck Pli — courrier test {marker}"
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"Dr Anne LEFÈVRE <{A_BOX}>", B_BOX, subj
    msg.set_content("Bonjour Bruno,\n\nCeci est un test de la chaîne de soumission.\n")
    s = smtplib.SMTP("127.0.0.1", 10587)
    s.ehlo()
    pre_auth = "auth" in s.esmtp_features
    s.starttls(context=ctx)
    s.ehlo()
    s.auth("XOAUTH2", lambda challenge=None: f"user={A_BOX}\x01auth=Bearer {at}\x01\x01")
    s.send_message(msg)
    try:
        s.sendmail(A_BOX, ["someone@example.com"], "Subject: x\r\n\r\nx\r\n")
        outbound = "accepted"
    except smtplib.SMTPException as e:
        outbound = f"refused ({str(e)[:60]})"
    s.quit()
    found = False
    for _ in range(30):
        p = imaplib.IMAP4("127.0.0.1", 10143)
        p.starttls(ssl_context=ctx)
        p.login(f"{B_BOX}*sandbox-master", "sandbox-master-pass")
        p.select("INBOX")
        typ, d = p.search(None, "SUBJECT", marker)
        p.logout()
        if d[0].split():
            found = True
            break
        time.sleep(0.2)
    check("submission: no AUTH before STARTTLS", not pre_auth)
    check("SMTP XOAUTH2 submission delivered to Bruno's INBOX", found)
    check("no outbound relay", outbound.startswith("refused"), outbound)
    # --- CIBA
    t = time.time()
    tcb, err = token(CLAIRE, "--ciba", "--channel", "ECPS")
    check("CIBA (poll, channel=ECPS) for Claire", "access_token" in tcb, f"{time.time() - t:.1f} s")
    bad, err = token("899999999999", "--ciba")
    check("CIBA refused hint errors at the backchannel endpoint", bad.get("error") == "unknown_user_id", bad.get("error", ""))
    # --- LDAP
    base = ["ldapsearch", "-x", "-H", "ldap://127.0.0.1:10389", "-b", "ou=bal,o=mssante,c=fr"]
    r = subprocess.run(base + ["(objectClass=mssanteBAL)", "mail"], capture_output=True, text=True)
    check("LDAP anonymous capped at 100 (rc=4)", r.returncode == 4 and "numEntries: 100" in r.stdout)
    r = subprocess.run(base + ["-LLL", "(&(sn=Lefèvre)(mssTypeBAL=PER))", "cn", "-z", "3"], capture_output=True, text=True)
    check("LDAP finds an accented name (sn=Lefèvre, case folded)", r.stdout.count("dn:") >= 1, f"rc={r.returncode}")
    r = subprocess.run(base + ["-LLL", f"(mail={ORG})", "mssTypeBAL"], capture_output=True, text=True)
    check("LDAP has the sandbox service mailbox as ORG", "mssTypeBAL: ORG" in r.stdout)
    r = subprocess.run(base + ["-LLL", "(mssDepartement=2A)", "l", "-z", "1"], capture_output=True, text=True)
    check("LDAP has Corsica (2A)", "dn:" in r.stdout)
    # --- FHIR Annuaire Santé stand-in
    fhir = "http://127.0.0.1:18090/fhir/v2"
    req = urllib.request.Request(f"{fhir}/PractitionerRole?mailbox-mss:contains={A_BOX}",
                                 headers={"ESANTE-API-KEY": "pli-fhir-sandbox-key"})
    try:
        bundle = json.load(urllib.request.urlopen(req, timeout=5))
        values = [t["value"] for e in bundle.get("entry", []) for t in e["resource"].get("telecom", [])]
    except Exception as e:  # noqa: BLE001 (reported, not raised)
        values = [repr(e)]
    check("FHIR finds Anne's mailbox on her PractitionerRole", A_BOX in values, ", ".join(values)[:80])
    try:
        urllib.request.urlopen(f"{fhir}/Practitioner?name=martin", timeout=5)
        code = 200
    except urllib.error.HTTPError as e:
        code = e.code
    check("FHIR without ESANTE-API-KEY is 401", code == 401, str(code))
    print(f"{len(failures)} failure(s) in {time.time() - t0:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
