#!/usr/bin/env python3
"""Writes N synthetic French health messages into a Maildir, deterministically, for
tests/bench/search/run.

usage: gen_maildir.py MAILDIR N [--seed S] [--to ADDRESS]

MAILDIR gets cur/, new/, tmp/; every message is a file in cur/ (flag S on about 85 %), its
mtime set to its Date header, one message about every 25 minutes going back from
2026-11-01 (about 4.8 years for 100,000), so Dovecot's received date (from the mtime) and the
Date header notmuch sorts by give the same newest-first order. Subjects, senders (names with
accents), bodies in quoted-printable UTF-8 (biologie, résultat, compte rendu, …), about 1 in 8
with a small PDF attachment (its name sometimes accented, RFC 2231), about 1 in 8,000 with the
rare word "amylose". No In-Reply-To/References: each message is its own thread, so notmuch's
thread rows and Pli's message rows are the same unit. Prints one JSON line (count, bytes,
seconds, how many with attachments and with the rare word).
"""
import argparse
import email.header
import json
import os
import quopri
import random
import time
import base64

GIVEN = ["Anne", "Bruno", "Claire", "Delphine", "Émilie", "François", "Gaëlle", "Hugo", "Inès",
         "Jérôme", "Karine", "Laurent", "Mélanie", "Nicolas", "Océane", "Pierre", "Quentin",
         "Rosalie", "Sébastien", "Thérèse", "Ulysse", "Valérie", "William", "Yasmine", "Zoé",
         "Hélène", "Benoît", "Noémie", "Loïc", "Maëlle"]
FAMILY = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
          "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
          "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert",
          "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Fauré", "Rousseau", "Blanc",
          "Guérin", "Müller", "Béranger", "Chevallier", "Noël", "Hébert"]
DOMAINS = ["chu-rennes.mssante.fr", "aphp.mssante.fr", "ch-cornouaille.mssante.fr",
           "medecin.mssante.fr", "labo-biopole.mssante.fr", "radiologie-ouest.mssante.fr",
           "clinique-pasteur.mssante.fr", "pharmacien.mssante.fr", "infirmier.mssante.fr",
           "biologie-bretagne.mssante.fr"]
TITLES = ["Dr", "Pr", "", "", "Mme", "M."]
SUBJECTS = [
    "Compte rendu de consultation",
    "Résultats d'analyses biologiques",
    "Résultat de biologie",
    "Demande d'avis spécialisé",
    "Lettre de sortie d'hospitalisation",
    "Compte rendu opératoire",
    "Courrier de liaison",
    "Ordonnance de sortie",
    "Demande de rendez-vous",
    "Bilan préopératoire",
    "Suivi post-opératoire",
    "Compte rendu d'imagerie (IRM)",
    "Compte rendu de radiographie thoracique",
    "Réunion de concertation pluridisciplinaire",
    "Adressage pour échographie cardiaque",
    "Renouvellement de traitement",
    "Question sur un patient commun",
    "Planning des gardes",
    "Protocole de soins",
    "Bilan biologique de contrôle",
    "Compte rendu de biologie médicale",
]
PATIENTS = [("DUPOND", "Léa"), ("SANTONI", "Jean-Baptiste"), ("FAURÉ", "Marie-Hélène"),
            ("LEFEBVRE-DURAND", "François"), ("ALBERTINI", "Rosalie"), ("NGUYEN", "Chloé"),
            ("LEFÈVRE", "Gérard"), ("BÉNARD", "Aurélie"), ("ROCHÉ", "Mathéo"), ("KERBRAT", "Yann")]
SENTENCES = [
    "Je vous remercie de m'avoir adressé votre patient pour avis.",
    "L'examen clinique retrouve un état général conservé.",
    "La tension artérielle est à 13/8, la fréquence cardiaque à 72 par minute.",
    "Le bilan biologique ne montre pas d'anomalie significative.",
    "Je propose de poursuivre le traitement actuel et de revoir le patient dans trois mois.",
    "Vous trouverez ci-joint le compte rendu détaillé.",
    "L'échographie cardiaque retrouve une fraction d'éjection conservée.",
    "Une IRM de contrôle est programmée dans six semaines.",
    "Merci de me tenir informé de l'évolution.",
    "Le patient a été informé des résultats et des suites envisagées.",
    "Pas de contre-indication à l'intervention sous anesthésie générale.",
    "L'hémoglobine glyquée est à 6,8 %, en amélioration.",
    "Je reste à votre disposition pour tout renseignement complémentaire.",
    "Le résultat de la biologie est joint, la créatinine est stable.",
    "La kaliémie est à 4,1 mmol/L, la natrémie à 139 mmol/L.",
    "Le compte rendu de biologie sera transmis au médecin traitant.",
    "Le patient rentre à domicile avec une ordonnance de sortie.",
    "Un contrôle de la numération formule sanguine est souhaitable dans un mois.",
    "La radiographie thoracique ne montre pas d'épanchement.",
    "Le scanner abdominal est sans particularité.",
    "Résultat en attente pour la sérologie.",
    "La patiente est suivie en cardiologie depuis 2019.",
    "Traitement : bisoprolol 2,5 mg le matin, atorvastatine 20 mg le soir.",
    "Je vous adresse ce patient pour une coloscopie de dépistage.",
]
DOCS = ["CR_biologie", "Compte_rendu_opératoire", "Lettre_de_liaison", "Résultats_biologie",
        "Ordonnance", "CR_imagerie", "Synthèse_médicale", "Bilan_préopératoire"]
RARE = "Une amylose cardiaque à transthyrétine est évoquée, scintigraphie à prévoir."


def fold(s):
    table = str.maketrans("éèêëÉàâçïîôûùüÜäÄöÖÈ", "eeeeeaaciiouuuuaaooe")
    return "".join(c for c in s.translate(table).lower() if c.isascii() and (c.isalnum() or c == "-"))


def hdr(s):
    """An RFC 2047 encoded header value when it is not plain ASCII."""
    return s if s.isascii() else email.header.Header(s, "utf-8").encode()


def pdf(text):
    """A small valid PDF with one line of text (Helvetica, WinAnsi: accents kept)."""
    esc = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 11 Tf 50 780 Td ({esc}) Tj ET".encode("cp1252", "replace")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def qp(text):
    return quopri.encodestring(text.replace("\n", "\r\n").encode("utf-8")).decode("ascii")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("maildir")
    ap.add_argument("count", type=int)
    ap.add_argument("--seed", type=int, default=20261101)
    ap.add_argument("--to", default="hugo.moreau@pli-sandbox.mssante.fr")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(a.maildir, d), exist_ok=True)
    newest = 1_793_522_400  # 2026-11-01 10:00 UTC
    started = time.time()
    total = with_att = rare = 0
    for i in range(a.count):
        when = newest - i * 1500 - rng.randrange(600)
        given, family, title = rng.choice(GIVEN), rng.choice(FAMILY), rng.choice(TITLES)
        name = " ".join(p for p in (title, given, family.upper()) if p)
        addr = f"{fold(given)}.{fold(family)}@{rng.choice(DOMAINS)}"
        pat = rng.choice(PATIENTS)
        subject = rng.choice(SUBJECTS)
        if rng.random() < 0.3:
            subject = "RE: " + subject
        if rng.random() < 0.4:
            subject += f" — {pat[1]} {pat[0]}"
        lines = ["Cher confrère,", ""]
        body = [rng.choice(SENTENCES) for _ in range(3 + rng.randrange(6))]
        if rng.randrange(8000) == 0:
            body.insert(rng.randrange(len(body) + 1), RARE)
            rare += 1
        lines.append(" ".join(body))
        lines.append(f"Patient : {pat[1]} {pat[0]}.")
        lines += ["", "Bien confraternellement,", name, ""]
        text = "\n".join(lines)
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))
        head = (f"From: {hdr(name)} <{addr}>\r\nTo: {a.to}\r\nSubject: {hdr(subject)}\r\n"
                f"Date: {date}\r\nMessage-ID: <bench-search-{i}.{rng.randrange(10**6)}@pli.test>\r\n"
                "MIME-Version: 1.0\r\n")
        part = ("Content-Type: text/plain; charset=utf-8\r\n"
                f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{qp(text)}\r\n")
        if rng.randrange(8) == 0:
            with_att += 1
            doc = rng.choice(DOCS)
            fname = f"{doc}_{pat[0]}_{pat[1]}.pdf"
            if fname.isascii():
                disp = f'attachment; filename="{fname}"'
            else:
                from urllib.parse import quote
                disp = f"attachment; filename*=utf-8''{quote(fname)}"
            data = base64.encodebytes(pdf(f"{doc.replace('_', ' ')} - {pat[1]} {pat[0]} - {date}")).decode()
            b = f"bench-{i}-boundary"
            msg = (head + f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n'
                   f"--{b}\r\n{part}--{b}\r\nContent-Type: application/pdf\r\n"
                   f"Content-Disposition: {disp}\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                   f"{data.replace(chr(10), chr(13) + chr(10))}--{b}--\r\n")
        else:
            msg = head + part
        raw = msg.encode("ascii")
        flags = "S" if rng.random() < 0.85 else ""
        path = os.path.join(a.maildir, "cur", f"{when}.M{i}P0.bench,S={len(raw)}:2,{flags}")
        with open(path, "wb") as f:
            f.write(raw)
        os.utime(path, (when, when))
        total += len(raw)
    print(json.dumps({"messages": a.count, "bytes": total, "with_attachment": with_att,
                      "with_rare_word": rare, "seconds": round(time.time() - started, 1)}))


if __name__ == "__main__":
    main()
