#!/usr/bin/env python3
"""Fills or deletes the bench folders through the sandbox's Dovecot master user.

fill MAILBOX FOLDER CA N [K]: N messages in K folders FOLDER/f01..FOLDER/fK (K = 1: FOLDER
    itself), N/K each: 50 distinct messages (APPEND), COPY doublings, a last partial COPY for
    exactly N/K, then one COPY of the whole first folder into each of the others.
delete MAILBOX FOLDER CA: removes FOLDER and every folder under it.
"""
import imaplib
import re
import ssl
import sys

op, mailbox, folder, ca = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
m = imaplib.IMAP4_SSL("localhost", 10993, ssl_context=ctx)
m.login(f"{mailbox}*sandbox-master", "sandbox-master-pass")


def quoted(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


if op == "delete":
    _, lines = m.list(quoted(folder), "*")
    names = []
    for line in lines or []:
        if not line:
            continue
        # The name ends the line: quoted, or an atom (Dovecot sends plain names unquoted).
        found = re.search(rb'(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$', line)
        if found:
            names.append((found.group(1) or found.group(2)).decode())
    # Children first.
    for name in sorted(set(names) | {folder}, key=lambda n: -n.count("/")):
        m.delete(quoted(name))
else:
    n = int(sys.argv[5])
    k = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    folders = [folder] if k == 1 else [f"{folder}/f{i:02d}" for i in range(1, k + 1)]
    per = n // k
    for f in folders:
        m.create(quoted(f))
    first = quoted(folders[0])
    body = "Résultat de biologie, valeurs normales. " * 20
    distinct = min(50, per)
    for i in range(1, distinct + 1):
        msg = (f"From: Labo <labo@pli-sandbox.mssante.fr>\r\nTo: {mailbox}\r\nSubject: Lot bench n{i}\r\n"
               f"Message-ID: <bench-{i}@pli.test>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0100\r\n"
               f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
        m.append(first, None, None, msg)
    count = distinct
    while count < per:
        m.select(first)
        add = min(count, per - count)
        m.copy(f"1:{add}", first)
        m.close()
        count += add
    if len(folders) > 1:
        m.select(first)
        for f in folders[1:]:
            m.copy("1:*", quoted(f))
        m.close()
m.logout()
