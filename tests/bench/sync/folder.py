#!/usr/bin/env python3
"""Fills or deletes the bench folder through the sandbox's Dovecot master user.

fill MAILBOX FOLDER CA N: 50 distinct messages (APPEND), then COPY doublings up to >= N.
delete MAILBOX FOLDER CA: removes it.
"""
import imaplib
import ssl
import sys

op, mailbox, folder, ca = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
m = imaplib.IMAP4_SSL("localhost", 10993, ssl_context=ctx)
m.login(f"{mailbox}*sandbox-master", "sandbox-master-pass")
if op == "delete":
    m.delete(folder)
else:
    n = int(sys.argv[5])
    m.create(folder)
    body = "Résultat de biologie, valeurs normales. " * 20
    for i in range(1, 51):
        msg = (f"From: Labo <labo@pli-sandbox.mssante.fr>\r\nTo: {mailbox}\r\nSubject: Lot bench n{i}\r\n"
               f"Message-ID: <bench-{i}@pli.test>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0100\r\n"
               f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
        m.append(folder, None, None, msg)
    count = 50
    while count < n:
        m.select(folder)
        m.copy("1:*", folder)
        m.close()
        count *= 2
m.logout()
