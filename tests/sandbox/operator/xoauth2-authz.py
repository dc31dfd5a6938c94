#!/usr/bin/env -S python3 -I -S
"""Operator-side XOAUTH2/OAUTHBEARER authorization of Pli's sandbox (Dovecot checkpassword passdb).

Dovecot 2.3 hands the bearer token of an XOAUTH2/OAUTHBEARER login to the passdb as the
"password" (verify_plain), and the mailbox asked for (`user=`) as the user. Dovecot runs this
program per login (checkpassword protocol: "user\\0token\\0…" on fd 3). We:
  1. ask the PSC stand-in whether the token is active and whose it is (RFC 7662 introspection as
     the operator's PSC client; expired and revoked tokens are inactive);
  2. check the operator's mailbox ACL built from tests/sandbox/identities.json:
       PER mailbox          -> only its owner (personal_mailbox)
       ORG/APP/CAB mailbox  -> only the people who list it in `mailboxes`;
  3. on success exec Dovecot's checkpassword-reply (argv[1]); otherwise exit 1.
Exit 111 = temporary failure (PSC unreachable). Decisions are logged to stderr (dovecot.log).

Why not Dovecot's oauth2 passdb: in 2.3.19 its introspection_url/tokeninfo_url are not
%variable-expanded, so the authorization service cannot learn which mailbox is asked for, and
the passdb only checks that one token attribute equals the user — it cannot express "members of
a service mailbox" (and an unexpandable URL panics the auth process).
env (set by tests/sandbox/up in dovecot.conf): PLI_SANDBOX_IDENTITIES, PSC_PORT

Every XOAUTH2 login of every test and benchmark waits for this program, so it starts lean:
`python3 -I -S` (no site-packages scan) and a plain socket for the introspection request (no
urllib/http.client, which pull in ssl and email: 40 to 70 ms per login on the CI machine).
"""
import base64
import json
import os
import socket
import sys

IDS = os.environ.get("PLI_SANDBOX_IDENTITIES") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "identities.json")
PSC_PORT = int(os.environ.get("PSC_PORT", "18080"))
INTROSPECT = "/auth/realms/esante-wallet/protocol/openid-connect/token/introspect"
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/=-")
OPERATOR = ("operateur-mss", "operateur-mss-sandbox-secret")  # the operator's PSC client (public test secret)


def log(msg):
    sys.stderr.write(f"pli-xoauth2-authz: {msg}\n")
    sys.stderr.flush()


def introspect(token):
    """POSTs the token to the PSC stand-in's introspection endpoint (HTTP/1.0 on loopback: the
    answer is the body up to the end of the connection, never chunked) and returns the decoded
    JSON answer; raises OSError or ValueError."""
    body = f"token={token}&token_type_hint=access_token".encode()
    auth = base64.b64encode(":".join(OPERATOR).encode()).decode()
    head = (f"POST {INTROSPECT} HTTP/1.0\r\nHost: 127.0.0.1:{PSC_PORT}\r\n"
            f"Authorization: Basic {auth}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", PSC_PORT), timeout=5) as s:
        s.sendall(head + body)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    header, sep, payload = b"".join(chunks).partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("truncated HTTP answer")
    status = header.split(b"\r\n", 1)[0].decode("latin-1")
    if status.split(" ")[1:2] != ["200"]:
        raise ValueError(f"HTTP answer {status!r}")
    return json.loads(payload)


def acl(mailbox):
    with open(IDS, encoding="utf-8") as f:
        ids = json.load(f)
    kinds = {m["address"].lower(): m["kind"] for m in ids["mailboxes"]}
    kind = kinds.get(mailbox)
    if kind is None:
        return None, set()
    members = set()
    for p in ids["people"]:
        if kind == "PER":
            if (p.get("personal_mailbox") or "").lower() == mailbox:
                members.add(p["national_id"])
        elif mailbox in (m.lower() for m in p.get("mailboxes", [])):
            members.add(p["national_id"])
    return kind, members


def main():
    if len(sys.argv) < 2:
        log("usage: run by Dovecot's checkpassword passdb")
        return 2
    try:
        with os.fdopen(3, "rb") as f:
            data = f.read(8192)
    except OSError as e:
        log(f"cannot read fd 3: {e}")
        return 111
    parts = data.split(b"\0")
    if len(parts) < 2:
        return 1
    mailbox = parts[0].decode("utf-8", "replace").strip().lower()
    token = parts[1].decode("ascii", "replace").strip()
    if not 8 <= len(token) <= 4096 or not TOKEN_CHARS.issuperset(token):
        log(f"{mailbox}: refused: malformed token")
        return 1
    kind, members = acl(mailbox)
    if kind is None:
        log(f"{mailbox}: refused: not a professional or service mailbox")
        return 1
    try:
        info = introspect(token)
    except (OSError, ValueError) as e:
        log(f"{mailbox}: PSC introspection failed: {e}")
        return 111
    if not info.get("active"):
        log(f"{mailbox}: refused: token not active (unknown, expired or revoked)")
        return 1
    nid = info.get("preferred_username") or info.get("SubjectNameID")
    if nid not in members:
        log(f"{mailbox}: refused: {nid} may not open this {kind} mailbox")
        return 1
    log(f"{mailbox}: allowed {nid} ({kind}, client {info.get('client_id')})")
    env = dict(os.environ, USER=mailbox)
    os.execve(sys.argv[1], sys.argv[1:], env)
    return 111


if __name__ == "__main__":
    sys.exit(main())
