#!/usr/bin/env python3
"""Seed mailboxes for Pli's sandbox, demo and benchmarks (python3 stdlib only).

Writes Maildir files straight into Dovecot's mail location (fast; Dovecot indexes them on first
access): <mail-root>/<domain>/<local part>/Maildir/{cur,new,tmp} and Maildir++ folders
(.Sent, .Drafts, .Archives, .Archives.2024, .Trash). File mtimes are the message dates
(Dovecot's INTERNALDATE). Same --seed and --count -> the same messages and Message-IDs.

usage:
  generate.py --mail-root DIR [--count 300] [--seed 1] [--identities FILE] [--cda DIR]
              [--only ADDRESS ...]       (filler only for these mailboxes, e.g. a 100 000-message benchmark)

Content: professional mail in French (accents), messages from Mon espace santé patients,
CDA documents in IHE XDM zips (subject XDM/1.0/DDM+…, X-MSS-CODECDA, X-MSS-INS), read-receipt
requests and MDNs, multipart/alternative with HTML, ISO-8859-1 and windows-1252 bodies, and two
deliberately malformed messages. The fixed "showcase" messages come first; random filler follows.
When run as root, fix ownership afterwards (tests/sandbox/up does `chown -R`).
"""
import argparse
import base64
import datetime as dt
import hashlib
import io
import json
import os
import quopri
import random
import re
import sys
import unicodedata
import zipfile
from email.header import Header
from email.utils import format_datetime

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
ANCHOR = dt.datetime(2025, 10, 31, 17, 45, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # "now" of the seed
FOLDERS = {"INBOX": "", "Sent": ".Sent", "Drafts": ".Drafts", "Archives": ".Archives",
           "Archives/2024": ".Archives.2024", "Trash": ".Trash"}
INS_OIDS = {"1.2.250.1.213.1.4.8": "INS-NIR", "1.2.250.1.213.1.4.9": "INS-NIA",
            "1.2.250.1.213.1.4.10": "INS-NIR test", "1.2.250.1.213.1.4.11": "INS-NIA test"}
PRODUCT = "Pli/0.1.0 (sandbox)"

# ------------------------------------------------------------------------------------ MIME helpers


def hdr(name, value):
    """A header line, RFC 2047-encoded when not ASCII (display names are encoded word by word)."""
    if value.isascii():
        return f"{name}: {value}"
    return f"{name}: " + Header(value, "utf-8", header_name=name).encode()


def addr(name, email, *_org):
    if not name:
        return email
    if name.isascii():
        return f'"{name}" <{email}>' if re.search(r'[,;:()<>@."]', name) else f"{name} <{email}>"
    return Header(name, "utf-8").encode() + f" <{email}>"


def qp(text, charset="utf-8"):
    return quopri.encodestring(text.replace("\n", "\r\n").encode(charset)).decode("ascii").replace("\r\n", "\n")


def b64(data):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))


def text_part(text, subtype="plain", charset="utf-8"):
    return (f"Content-Type: text/{subtype}; charset={charset}\nContent-Transfer-Encoding: quoted-printable\n\n"
            + qp(text, charset))


def attachment(data, ctype, filename):
    return (f'Content-Type: {ctype}; name="{filename}"\nContent-Transfer-Encoding: base64\n'
            f'Content-Disposition: attachment; filename="{filename}"\n\n{b64(data)}')


def multipart(subtype, parts, boundary, extra=""):
    body = "".join(f"--{boundary}\n{p}\n" for p in parts) + f"--{boundary}--\n"
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"{extra}\n\n' \
           "This is a multi-part message in MIME format.\n\n" + body


def html_of(text, signature=""):
    paras = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in text.strip().split("\n\n"))
    return ("<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"></head>"
            f"<body style=\"font-family:Arial,sans-serif\">{paras}{signature}</body></html>\n")


# ------------------------------------------------------------------------------------ XDM packaging


def cda_facts(xml):
    t = xml.decode("utf-8-sig", "replace")
    g = lambda p: (re.search(p, t, re.S) or [None, None])[1]  # noqa: E731
    patient = re.search(r"<patient[ >](.*?)</patient>", t, re.S)
    p = patient.group(1) if patient else ""
    ins = re.search(r'<id\s+extension="([0-9AB]{13,15})"\s+root="(1\.2\.250\.1\.213\.1\.4\.(?:8|9|10|11))"\s*/>', t)
    fam = re.search(r'<family[^>]*qualifier="BR"[^>]*>([^<]*)</family>', p) or re.search(r"<family[^>]*>([^<]*)</family>", p)
    giv = re.search(r"<given[^>]*>([^<]*)</given>", p)
    bt = re.search(r'<birthTime value="(\d{8})', t)
    docid = re.search(r'<ClinicalDocument.*?<id root="([^"]+)"(?: extension="([^"]*)")?', t, re.S)
    return {
        "code": g(r'<code\s+code="([^"]+)"'),
        "code_system": g(r'<code\s+code="[^"]+"\s+codeSystem="([^"]+)"') or "2.16.840.1.113883.6.1",
        "title": (g(r"<title>([^<]*)</title>") or "Document").strip(),
        "ins": ins.group(1) if ins else None, "ins_oid": ins.group(2) if ins else None,
        "family": fam.group(1).strip() if fam else "INCONNU",
        "given": giv.group(1).split()[0] if giv else "",
        "birth": bt.group(1) if bt else None,
        "effective": g(r'<effectiveTime value="(\d{8,14})') or "20240101",
        "uid": (docid.group(1) + ("^" + docid.group(2) if docid.group(2) else "")) if docid else "1.2.3",
        "pdf": g(r'<nonXMLBody>.*?<text[^>]*mediaType="application/pdf"[^>]*>\s*([A-Za-z0-9+/=\s]+?)\s*</text>'),
    }


FORMAT_CODES = {  # low confidence on the exact JDV_J10 values; good enough for a sandbox
    "11502-2": "urn:ihe:lab:xd-lab:2008", "96173-0": "urn:ihe:lab:xd-lab:2008",
    "18748-4": "urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013",
}


def slot(name, *values):
    vals = "".join(f"<rim:Value>{v}</rim:Value>" for v in values)
    return f'<rim:Slot name="{name}"><rim:ValueList>{vals}</rim:ValueList></rim:Slot>'


def classification(scheme, obj, code, scheme_oid, display, cid):
    return (f'<rim:Classification id="{cid}" classificationScheme="urn:uuid:{scheme}" classifiedObject="{obj}" '
            f'nodeRepresentation="{code}">{slot("codingScheme", scheme_oid)}'
            f'<rim:Name><rim:LocalizedString value="{display}"/></rim:Name></rim:Classification>')


def xdm_zip(cda_name, xml, facts, sender, recipient, when, uniq):
    """IHE_XDM.ZIP bytes (ITI-32 zip over e-mail), deterministic."""
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")  # noqa: E731
    sha1, size = hashlib.sha1(xml).hexdigest(), len(xml)
    pid = f"{facts['ins']}^^^&amp;{facts['ins_oid']}&amp;ISO^NH" if facts["ins"] else "INCONNU^^^&amp;1.2.3&amp;ISO"
    ts = when.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
    set_uid = f"1.2.250.1.999.1.1.{uniq}"
    doc = "DOC0001.XML"
    code, title = facts["code"] or "UNK", esc(facts["title"])
    fmt = FORMAT_CODES.get(code, "urn:ihe:iti:xds-sd:pdf:2008" if facts["pdf"] else "urn:ihe:iti:xds:2017:mimeTypeSufficient")
    author = (f'<rim:Classification id="cl-author" classificationScheme="urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d" '
              f'classifiedObject="Document01" nodeRepresentation="">'
              f'{slot("authorPerson", esc(sender[2]))}{slot("authorInstitution", esc(sender[3]))}'
              f'{slot("authorTelecommunication", "^^Internet^" + sender[1])}</rim:Classification>')
    meta = f"""<?xml version="1.0" encoding="UTF-8"?>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
<rim:RegistryObjectList>
<rim:ExtrinsicObject id="Document01" mimeType="text/xml" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1" status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved">
{slot("creationTime", facts["effective"][:14])}
{slot("hash", sha1)}
{slot("size", str(size))}
{slot("languageCode", "fr-FR")}
{slot("URI", doc)}
{slot("serviceStartTime", facts["effective"][:12])}
{slot("sourcePatientId", pid)}
{slot("sourcePatientInfo", "PID-5|" + esc(facts["family"]) + "^" + esc(facts["given"]) + "^^^^^L", "PID-7|" + (facts["birth"] or ""))}
<rim:Name><rim:LocalizedString value="{title}"/></rim:Name>
{author}
{classification("41a5887f-8865-4c09-adf7-e362475b143a", "Document01", "10", "1.2.250.1.213.1.1.4.1", "Compte rendu", "cl-class")}
{classification("f4f85eac-e6cb-4883-b524-f2705394840f", "Document01", "N", "2.16.840.1.113883.5.25", "Normal", "cl-conf")}
{classification("a09d5840-386c-46f2-b5ad-9c3699a4309d", "Document01", fmt, "1.2.250.1.213.1.1.4.2.282", "Format", "cl-format")}
{classification("f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1", "Document01", "SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé", "cl-hcft")}
{classification("cccf5598-8b07-4b77-a05e-ae952c785ead", "Document01", "ETABLISSEMENT", "1.2.250.1.213.1.1.4.9", "Etablissement de santé", "cl-practice")}
{classification("f0306f51-975f-434e-a61c-c59651d33983", "Document01", code, facts["code_system"], title, "cl-type")}
<rim:ExternalIdentifier id="ei-pid" registryObject="Document01" identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="{pid}"><rim:Name><rim:LocalizedString value="XDSDocumentEntry.patientId"/></rim:Name></rim:ExternalIdentifier>
<rim:ExternalIdentifier id="ei-uid" registryObject="Document01" identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="{esc(facts['uid'])}"><rim:Name><rim:LocalizedString value="XDSDocumentEntry.uniqueId"/></rim:Name></rim:ExternalIdentifier>
</rim:ExtrinsicObject>
<rim:RegistryPackage id="SubmissionSet01" objectType="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd">
{slot("submissionTime", ts)}
{slot("intendedRecipient", "|" + recipient + "^^Internet^" + recipient)}
<rim:Name><rim:LocalizedString value="{title}"/></rim:Name>
{classification("aa543740-bdda-424e-8c96-df4873be8500", "SubmissionSet01", "04", "1.3.6.1.4.1.19376.1.2.6.1", "Hospitalisation", "cl-ct")}
<rim:ExternalIdentifier id="ei-ss-src" registryObject="SubmissionSet01" identificationScheme="urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832" value="1.2.250.1.999.1"><rim:Name><rim:LocalizedString value="XDSSubmissionSet.sourceId"/></rim:Name></rim:ExternalIdentifier>
<rim:ExternalIdentifier id="ei-ss-pid" registryObject="SubmissionSet01" identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" value="{pid}"><rim:Name><rim:LocalizedString value="XDSSubmissionSet.patientId"/></rim:Name></rim:ExternalIdentifier>
<rim:ExternalIdentifier id="ei-ss-uid" registryObject="SubmissionSet01" identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8" value="{set_uid}"><rim:Name><rim:LocalizedString value="XDSSubmissionSet.uniqueId"/></rim:Name></rim:ExternalIdentifier>
</rim:RegistryPackage>
<rim:Classification id="cl-ss" classifiedObject="SubmissionSet01" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>
<rim:Association id="as-01" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="SubmissionSet01" targetObject="Document01">{slot("SubmissionSetStatus", "Original")}</rim:Association>
</rim:RegistryObjectList>
</lcm:SubmitObjectsRequest>
"""
    index = (f"<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>IHE XDM</title></head><body>"
             f"<h1>Contenu du support IHE XDM</h1><p>Émetteur : {esc(sender[2])} &lt;{sender[1]}&gt;</p><ul>"
             f"<li><a href=\"IHE_XDM/SUBSET01/{doc}\">{title}</a> ({esc(cda_name)})</li>"
             f"<li><a href=\"IHE_XDM/SUBSET01/METADATA.XML\">Métadonnées</a></li></ul></body></html>\n")
    readme = (f"Logiciel émetteur : {PRODUCT}\r\nÉditeur : Pli (bac à sable)\r\nContact : support@pli.invalid\r\n"
              f"Ce support IHE XDM contient 1 document ({facts['title']}).\r\n")
    buf = io.BytesIO()
    stamp = when.timetuple()[:6]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in [("INDEX.HTM", index.encode()), ("README.TXT", readme.encode()),
                           ("IHE_XDM/SUBSET01/METADATA.XML", meta.encode()), (f"IHE_XDM/SUBSET01/{doc}", xml)]:
            zi = zipfile.ZipInfo(name, stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data)
    return buf.getvalue()


def tiny_pdf(lines):
    """A small valid PDF with text lines (Latin-1 only), for 'PDF copy' attachments."""
    text = "".join(f"({l.encode('latin-1', 'replace').decode('latin-1').replace('(', '[').replace(')', ']')}) Tj 0 -16 Td "
                   for l in lines)
    stream = f"BT /F1 11 Tf 56 780 Td {text}ET".encode("latin-1")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    out, offs = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    return bytes(out)


# ------------------------------------------------------------------------------------ content

PATIENT_POOL = [("Jacqueline", "MARCHAL", "12/04/1948"), ("Hervé", "LE GALL", "03/11/1956"),
                ("Émilie", "ROUSSEAU", "22/07/1987"), ("Gérard", "FONTAINE", "09/01/1941"),
                ("Anaïs", "BENOÎT", "30/05/1999"), ("Jean-Pierre", "DUPRÉ-GAUTHIER", "17/08/1952"),
                ("Françoise", "LEFÈBVRE", "02/02/1944"), ("Noël", "CASANOVA", "25/12/1960"),
                ("Hélène", "MÉNARD", "14/03/1973"), ("Loïc", "KEROUÉDAN", "08/09/1968")]
SUBJECTS = [
    ("Compte rendu de consultation — {p}", "Cher confrère,\n\nJ'ai vu ce jour en consultation {civ} {p} (né(e) le {d}) pour {motif}. "
     "L'examen clinique retrouve une auscultation cardiaque régulière, sans souffle. L'ECG est en rythme sinusal.\n\n"
     "Je propose de poursuivre le traitement actuel et de réévaluer dans six mois.\n\nBien confraternellement,"),
    ("Demande d'avis cardiologique — {p}", "Chère consœur,\n\nPourriez-vous voir {civ} {p}, {age} ans, qui présente {motif} "
     "depuis quelques semaines ? Antécédents : HTA traitée, dyslipidémie.\n\nJe vous joins son dernier bilan biologique.\n\nMerci d'avance, bien à vous,"),
    ("Résultats d'examens biologiques — {p}", "Bonjour,\n\nVeuillez trouver les résultats du bilan de {civ} {p} : "
     "hémoglobine 13,2 g/dL, créatinine 82 µmol/L, LDL-cholestérol 1,32 g/L, HbA1c 6,4 %.\n\nCordialement,"),
    ("Demande de rendez-vous — {p}", "Bonjour,\n\nNous souhaiterions un rendez-vous de consultation pour {civ} {p} "
     "dans les meilleurs délais, pour {motif}.\n\nMerci de nous indiquer vos disponibilités.\n\nCordialement,"),
    ("Lettre de liaison — sortie d'hospitalisation de {p}", "Cher confrère,\n\n{civ} {p} est sorti(e) ce jour du service "
     "après une hospitalisation de cinq jours pour {motif}. Traitement de sortie : bisoprolol 2,5 mg, apixaban 5 mg x 2/j.\n\n"
     "Un contrôle biologique est à prévoir dans quinze jours.\n\nBien confraternellement,"),
    ("Ordonnance renouvelée — {p}", "Bonjour,\n\nComme convenu, l'ordonnance de {civ} {p} est renouvelée pour trois mois. "
     "Pensez à la faire suivre à sa pharmacie.\n\nBonne journée,"),
    ("RE: Échographie cardiaque de {p}", "Bonjour,\n\nL'échographie transthoracique de {civ} {p} montre une FEVG à 55 %, "
     "pas de valvulopathie significative.\n\nCordialement,"),
    ("Réunion de concertation pluridisciplinaire du {dd}", "Bonjour à tous,\n\nLa prochaine RCP aura lieu le {dd} à 13 h 30, "
     "salle Pasteur (3e étage). Merci d'inscrire vos dossiers avant la veille midi.\n\nLe secrétariat"),
    ("Transmission de dossier — {p}", "Bonjour,\n\nSuite au déménagement de {civ} {p}, je vous transmets son dossier : "
     "antécédents, traitements en cours et derniers comptes rendus.\n\nBien cordialement,"),
    ("Question à propos du traitement de {p}", "Bonjour Docteur,\n\nLa pharmacie signale une interaction possible entre "
     "l'amiodarone et la simvastatine prescrites à {civ} {p}. Pouvez-vous confirmer la posologie ?\n\nMerci,"),
]
MOTIFS = ["une douleur thoracique atypique", "des palpitations", "une dyspnée d'effort", "un bilan préopératoire",
          "une fibrillation atriale paroxystique", "une hypertension artérielle déséquilibrée", "des œdèmes des membres inférieurs",
          "un malaise à l'effort", "le suivi d'une insuffisance cardiaque"]
EXTERNAL = [("Dr Élise GUÉRIN", "elise.guerin@medecin.mssante.fr", "Cabinet médical du Parc — Dole"),
            ("Laboratoire de biologie médicale BioBesançon", "resultats@labo-besancon.mssante.fr", "Laboratoire BioBesançon"),
            ("Dr Jean-François DUPRÉ-GAUTHIER", "jean-francois.dupre-gauthier@ch-dijon.mssante.fr", "CHU de Dijon"),
            ("Pharmacie de la Gare — Besançon", "pharmacie-de-la-gare-besancon@pharmacien.mssante.fr", "Pharmacie de la Gare"),
            ("Service d'imagerie médicale — CHU de Dijon", "imagerie@ch-dijon.mssante.fr", "CHU de Dijon"),
            ("Mme Sophie NOËL (IDE)", "sophie.noel@infirmier.mssante.fr", "Cabinet infirmier des Lilas"),
            ("Dr Marc-Antoine SANTONI", "marc-antoine.santoni@ch-ajaccio.mssante.fr", "CH d'Ajaccio")]


class Seeder:
    def __init__(self, root, ids, seed, cda_dir):
        self.root, self.ids, self.rng = root, ids, random.Random(seed)
        self.seed, self.n, self.cda_dir = seed, 0, cda_dir
        self.mb = {m["address"]: m for m in ids["mailboxes"]}
        self.count_by = {}
        self.made = set()

    # ---------------------------------------------------------------- storage
    def maildir(self, address, folder):
        local, domain = address.split("@")
        base = os.path.join(self.root, domain, local, "Maildir")
        d = os.path.join(base, FOLDERS[folder])
        if d not in self.made:
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(d, sub), exist_ok=True)
            if folder != "INBOX":
                open(os.path.join(d, "maildirfolder"), "w").close()
            if folder == "INBOX":
                with open(os.path.join(base, "subscriptions"), "a") as f:
                    f.write("INBOX\n")
            if folder == "Archives/2024":
                with open(os.path.join(base, "subscriptions"), "a") as f:
                    f.write("Archives.2024\n")  # Maildir++ storage separator
            self.made.add(d)
        return d

    def store(self, address, folder, raw, when, flags="S"):
        self.n += 1
        data = raw.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8") if isinstance(raw, str) else raw
        ts = int(when.timestamp())
        name = f"{ts}.M{self.n:06d}P{self.seed}.pli-seed,S={len(data)}:2,{''.join(sorted(flags))}"
        path = os.path.join(self.maildir(address, folder), "cur", name)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (ts, ts))
        self.count_by[(address, folder)] = self.count_by.get((address, folder), 0) + 1

    def msgid(self, domain):
        h = hashlib.sha1(f"{self.seed}:{len(self.count_by)}:{sum(self.count_by.values())}:{self.rng.random()}".encode()).hexdigest()
        return f"<{h[:12]}.{h[12:20]}@{domain}>"

    def boundary(self):
        return "=_pli_" + "%016x" % self.rng.getrandbits(64)

    def headers(self, frm, to, subject, when, mid, extra=()):
        lines = [hdr("From", frm), hdr("To", to), hdr("Subject", subject), f"Date: {format_datetime(when)}",
                 f"Message-ID: {mid}", "MIME-Version: 1.0"]
        return "\n".join(lines + list(extra)) + "\n"

    def when(self, days_back_max=420):
        d = self.rng.random() ** 1.6 * days_back_max  # more recent mail than old mail
        t = ANCHOR - dt.timedelta(days=d)
        return t.replace(hour=self.rng.randint(7, 19), minute=self.rng.randint(0, 59), second=self.rng.randint(0, 59))

    def display(self, address):
        m = self.mb.get(address)
        return m["display_name"] if m else None

    # ---------------------------------------------------------------- message kinds
    def professional(self, sender, recipient, when, html=False, extra=(), subject=None, body=None, mid=None, refs=None):
        """sender/recipient = (display, address)."""
        given, family, birth = self.rng.choice(PATIENT_POOL)
        p, civ = f"{given} {family}", self.rng.choice(["M.", "Mme"])
        age = ANCHOR.year - int(birth[-4:])
        s_t, b_t = self.rng.choice(SUBJECTS)
        vals = dict(p=p, civ=civ, d=birth, age=age, motif=self.rng.choice(MOTIFS),
                    dd=(when + dt.timedelta(days=9)).strftime("%d/%m/%Y"))
        subject = subject or s_t.format(**vals)
        text = (body or b_t.format(**vals)) + f"\n\n{sender[0]}\n"
        mid = mid or self.msgid(sender[1].split("@")[1])
        ex = list(extra)
        if refs:
            ex += [f"In-Reply-To: {refs[-1]}", "References: " + " ".join(refs)]
        ex.append(f"X-MSS-NIL: {PRODUCT}" if sender[1].endswith("sandbox.mssante.fr") else "X-Mailer: Logiciel MSSanté")
        h = self.headers(addr(*sender), addr(*recipient), subject, when, mid, ex)
        if html:
            sig = f"<p style=\"color:#555\">--<br>{sender[0]}</p>"
            body_txt = multipart("alternative", [text_part(text), text_part(html_of(text.rsplit(sender[0], 1)[0], sig), "html")],
                                 self.boundary())
            return h + body_txt, mid, subject
        return h + text_part(text), mid, subject

    def xdm(self, cda_file, sender, recipient, when, mdn=False):
        path = os.path.join(self.cda_dir, cda_file)
        with open(path, "rb") as f:
            xml = f.read()
        facts = cda_facts(xml)
        birth = f"{facts['birth'][6:8]}/{facts['birth'][4:6]}/{facts['birth'][:4]}" if facts["birth"] else ""
        subject = f"XDM/1.0/DDM+{facts['title']} {facts['family'].upper()} {facts['given']} {birth}".strip()
        mid = self.msgid(sender[1].split("@")[1])
        z = xdm_zip(cda_file, xml, facts, (sender[0], sender[1], sender[0], sender[2] if len(sender) > 2 else sender[0]),
                    recipient[1], when, self.n + 1)
        ex = [f"X-MSS-CODECDA: {facts['code']}", f"X-MSS-INS: {'O' if facts['ins'] else 'N'}", f"X-MSS-NIL: {PRODUCT}"]
        if mdn:
            ex.append(f"Disposition-Notification-To: {sender[1]}")
        h = self.headers(addr(sender[0], sender[1]), addr(*recipient), subject, when, mid, ex)
        text = (f"Bonjour,\n\nVeuillez trouver ci-joint le document « {facts['title']} » concernant "
                f"{facts['family']} {facts['given']} (né(e) le {birth}), au format CDA dans une archive IHE XDM, "
                f"ainsi que sa version PDF.\n\nCordialement,\n{sender[0]}\n")
        if facts["pdf"]:
            pdf = base64.b64decode(re.sub(r"\s+", "", facts["pdf"]))
        else:
            pdf = tiny_pdf([facts["title"], f"Patient : {facts['family']} {facts['given']} — {birth}",
                            f"INS : {facts['ins']}", "Copie PDF générée par le bac à sable Pli"])
        eff = facts["effective"][:8]
        folded = unicodedata.normalize("NFKD", facts["title"]).encode("ascii", "ignore").decode()
        pdfname = f"{eff}_{re.sub(r'[^A-Za-z0-9]+', '_', folded)[:40].strip('_')}_{facts['family']}_{facts['given']}.pdf"
        body = multipart("mixed", [text_part(text), attachment(z, "application/zip", "IHE_XDM.zip"),
                                   attachment(pdf, "application/pdf", pdfname)], self.boundary())
        return h + body, mid, subject

    def mdn(self, reporter, original_sender, original_mid, original_subject, when):
        mid = self.msgid(reporter[1].split("@")[1])
        h = self.headers(addr(*reporter), addr(*original_sender), f"Accusé de lecture : {original_subject}", when, mid,
                         ["Auto-Submitted: auto-replied", f"X-MSS-NIL: {PRODUCT}"])
        human = (f"Le message « {original_subject} » envoyé à {reporter[1]} a été affiché le "
                 f"{when.strftime('%d/%m/%Y à %H:%M')}.\n")
        report = (f"Reporting-UA: pli-sandbox; {PRODUCT}\nOriginal-Recipient: rfc822;{reporter[1]}\n"
                  f"Final-Recipient: rfc822;{reporter[1]}\nOriginal-Message-ID: {original_mid}\n"
                  "Disposition: manual-action/MDN-sent-manually; displayed\n")
        orig = (hdr("From", addr(*original_sender)) + "\n" + hdr("To", reporter[1]) + "\n" + hdr("Subject", original_subject)
                + f"\nMessage-ID: {original_mid}\n")
        body = multipart("report", [text_part(human), "Content-Type: message/disposition-notification\n\n" + report,
                                    "Content-Type: text/rfc822-headers\n\n" + orig],
                         self.boundary(), extra="; report-type=disposition-notification")
        return h + body, mid

    def charset_msg(self, sender, recipient, when, charset):
        mid = self.msgid(sender[1].split("@")[1])
        if charset == "iso-8859-1":
            subject, text = ("Résultats de l'électrocardiogramme",
                             "Bonjour,\n\nL'électrocardiogramme de M. Gérard FONTAINE montre un bloc de branche droit "
                             "incomplet, déjà connu. Pas de modification par rapport à l'examen précédent.\n\nÀ bientôt,\nDr Élise Guérin\n")
        else:
            subject, text = ("Facture d’honoraires – 45 €",
                             "Bonjour,\n\nVeuillez trouver ci-dessous le détail : consultation « avis ponctuel » – 45 € "
                             "(C2 + MCS). Règlement par virement… Merci !\n\n— Le secrétariat\n")
        raw_subject = "=?" + charset + "?Q?" + quopri.encodestring(subject.encode(charset), header=True).decode() + "?="
        h = "\n".join([hdr("From", addr(*sender)), hdr("To", addr(*recipient)), f"Subject: {raw_subject}",
                       f"Date: {format_datetime(when)}", f"Message-ID: {mid}", "MIME-Version: 1.0",
                       f"Content-Type: text/plain; charset={charset}", "Content-Transfer-Encoding: 8bit", ""]) + "\n"
        return h.replace("\n", "\r\n").encode("ascii") + text.replace("\n", "\r\n").encode(charset), mid

    def malformed(self, sender, recipient, when, kind):
        mid = self.msgid(sender[1].split("@")[1])
        if kind == "unterminated":
            b = self.boundary()
            h = self.headers(addr(*sender), addr(*recipient), "Pièces jointes (message tronqué)", when, mid)
            return h + f'Content-Type: multipart/mixed; boundary="{b}"\n\n--{b}\n' \
                       "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" \
                       "Bonjour, voici les documents demandés.\n\n" \
                       f"--{b}\nContent-Type: application/pdf; name=\"compte-rendu.pdf\"\nContent-Transfer-Encoding: base64\n\n" \
                       "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSL0ZpbHRlci9GbGF0ZURlY29k!!!\n", mid
        # raw 8-bit latin-1 in headers, no MIME-Version, bogus charset and bad transfer encoding
        h = (f"From: Secr\xe9tariat M\xe9dical <{sender[1]}>\r\nTo: {recipient[1]}\r\n"
             f"Subject: Rendez-vous annul\xe9 \xe0 cause de la gr\xe8ve\r\nDate: {format_datetime(when)}\r\n"
             f"Message-ID: {mid}\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n"
             "Content-Transfer-Encoding: base65\r\n\r\n")
        return (h + "Le rendez-vous de jeudi est annul\xe9. Merci de rappeler le secr\xe9tariat.\r\n").encode("latin-1"), mid

    def patient_msg(self, patient, to, when, refs=None, subject=None):
        dom = self.ids["patient_domain"]
        frm = (f"{patient['given_name']} {patient['family_name']}", f"{patient['ins']}@{dom}")
        mid = self.msgid(dom)
        subject = subject or self.rng.choice(["Question sur mon traitement", "Demande de renouvellement d'ordonnance",
                                              "Résultats de ma prise de sang", "Report de mon rendez-vous"])
        text = self.rng.choice([
            "Bonjour Docteur,\n\nDepuis la modification de mon traitement, j'ai des vertiges le matin. "
            "Est-ce normal ? Dois-je reprendre rendez-vous ?\n\nMerci beaucoup,\n",
            "Bonjour,\n\nJe n'ai plus de comprimés de Kardégic et mon ordonnance a expiré. Pourriez-vous la renouveler ?\n\nBien cordialement,\n",
            "Bonjour Docteur,\n\nJe ne pourrai pas venir au rendez-vous de mardi prochain. Serait-il possible de le décaler "
            "d'une semaine ?\n\nMerci d'avance,\n"]) + f"{patient['given_name']} {patient['family_name']}\n"
        ex = ["X-Mailer: Mon espace santé"]
        if refs:
            ex += [f"In-Reply-To: {refs[-1]}", "References: " + " ".join(refs)]
        h = self.headers(addr(*frm), addr(*to), subject, when, mid, ex)
        return h + text_part(text), mid, subject, frm

    # ---------------------------------------------------------------- orchestration
    def person(self, address):
        return (self.display(address) or address, address)

    def showcase(self):
        """Fixed, always-present messages that tests and the demo rely on."""
        anne, sec = self.person("anne.lefevre@pli-sandbox.mssante.fr"), self.person("cardiologie.secretariat@pli-sandbox.mssante.fr")
        bruno, hugo = self.person("bruno.girard@cabinet-sandbox.mssante.fr"), self.person("hugo.moreau@pli-sandbox.mssante.fr")
        urg = self.person("urgences@pli-sandbox.mssante.fr")
        lab = ("Laboratoire de biologie médicale BioBesançon", "resultats@labo-besancon.mssante.fr", "Laboratoire BioBesançon")
        img = ("Service d'imagerie médicale — CHU de Dijon", "imagerie@ch-dijon.mssante.fr", "CHU de Dijon")
        chu = ("Dr Jean-François DUPRÉ-GAUTHIER", "jean-francois.dupre-gauthier@ch-dijon.mssante.fr", "CHU de Dijon")
        pts = self.ids["patients"]
        lea = next(p for p in pts if p["ins"] == "279035121518989")
        t = lambda d, h=9, m=0: (ANCHOR - dt.timedelta(days=d)).replace(hour=h, minute=m, second=0)  # noqa: E731
        # CDA documents in IHE XDM archives
        for i, (cda, snd, rcpt, mdn) in enumerate([
                ("BIO-CR-BIO_2024.01_Microbiologie_V2.xml", lab, anne, True),
                ("IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml", img, anne, False),
                ("LDL-SES_2022.01.xml", chu, sec, True),
                ("VSM_1.4_2022.01.xml", chu, bruno, False),
                ("BIO-TROD_2024.01_COVID-19.xml", lab, sec, False),
                ("TLM-CR_2022.01.xml", chu, anne, False)]):
            if os.path.exists(os.path.join(self.cda_dir, cda)):
                raw, _, _ = self.xdm(cda, snd, rcpt, t(3 + i * 2, 10 + i), mdn=mdn)
                self.store(rcpt[1], "INBOX", raw, t(3 + i * 2, 10 + i), flags="" if i < 3 else "S")
        # patient (Mon espace santé) messages, one thread with Anne's answer
        raw, mid1, subj, lea_addr = self.patient_msg(lea, anne, t(1, 8, 12), subject="Question sur mon traitement")
        self.store(anne[1], "INBOX", raw, t(1, 8, 12), flags="S")
        raw2, mid2, _ = self.professional(anne, lea_addr, t(1, 11, 40), subject="RE: Question sur mon traitement",
                                          body="Bonjour Madame DUPOND,\n\nCes vertiges peuvent être liés au nouveau traitement. "
                                               "Prenez-le plutôt le soir et rappelez le secrétariat si cela persiste.\n\nBien à vous,",
                                          refs=[mid1], extra=[f"Disposition-Notification-To: {anne[1]}"])
        self.store(anne[1], "Sent", raw2, t(1, 11, 40))
        self.store(lea_addr[1], "INBOX", raw2, t(1, 11, 40), flags="")
        raw3, _, _, _ = self.patient_msg(lea, anne, t(0, 7, 55), refs=[mid1, mid2], subject="RE: Question sur mon traitement")
        self.store(anne[1], "INBOX", raw3, t(0, 7, 55), flags="")
        for k, p in enumerate(pts[1:4]):
            raw, _, _, _ = self.patient_msg(p, sec if k % 2 else anne, t(2 + k, 9 + k))
            self.store((sec if k % 2 else anne)[1], "INBOX", raw, t(2 + k, 9 + k), flags="")
        # a read receipt request Anne received, and an MDN for a message Anne sent to Bruno
        raw, mid_rr, _ = self.professional(bruno, anne, t(4, 16, 5), subject="Demande d'avis cardiologique — M. Noël CASANOVA",
                                           extra=[f"Disposition-Notification-To: {bruno[1]}"], html=True)
        self.store(anne[1], "INBOX", raw, t(4, 16, 5), flags="")
        self.store(bruno[1], "Sent", raw, t(4, 16, 5))
        raw, mid_s, subj_s = self.professional(anne, bruno, t(6, 14, 20), subject="Compte rendu de consultation — Mme Hélène MÉNARD",
                                               extra=[f"Disposition-Notification-To: {anne[1]}"])
        self.store(anne[1], "Sent", raw, t(6, 14, 20))
        self.store(bruno[1], "INBOX", raw, t(6, 14, 20))
        raw, _ = self.mdn(bruno, anne, mid_s, subj_s, t(6, 18, 2))
        self.store(anne[1], "INBOX", raw, t(6, 18, 2))
        # charsets and malformed MIME
        ext = EXTERNAL[0]
        raw, _ = self.charset_msg((ext[0], ext[1]), anne, t(8, 9, 30), "iso-8859-1")
        self.store(anne[1], "INBOX", raw, t(8, 9, 30))
        raw, _ = self.charset_msg(("Secrétariat — Cabinet médical du Parc", "secretariat@cabinet-parc.mssante.fr"), sec,
                                  t(9, 15, 10), "windows-1252")
        self.store(sec[1], "INBOX", raw, t(9, 15, 10))
        raw, _ = self.malformed((EXTERNAL[5][0], EXTERNAL[5][1]), anne, t(10, 12, 0), "unterminated")
        self.store(anne[1], "INBOX", raw, t(10, 12, 0))
        raw, _ = self.malformed(("Secrétariat", "secretariat@cabinet-parc.mssante.fr"), sec, t(11, 8, 45), "raw8bit")
        self.store(sec[1], "INBOX", raw, t(11, 8, 45))
        # urgences@ (Hugo's service mailbox) and a draft
        raw, _, _ = self.professional(("SAMU 25 — Régulation", "regulation@samu25.mssante.fr"), urg, t(0, 3, 12),
                                      subject="Transfert d'un patient — arrivée prévue 4 h 30", html=True)
        self.store(urg[1], "INBOX", raw, t(0, 3, 12), flags="F")
        raw, _, _ = self.professional(hugo, anne, t(2, 22, 10), subject="Avis pour un patient des urgences")
        self.store(hugo[1], "Sent", raw, t(2, 22, 10))
        self.store(anne[1], "INBOX", raw, t(2, 22, 10), flags="S")
        raw, _, _ = self.professional(anne, chu, t(0, 16, 30), subject="Brouillon — adressage de Mme Jacqueline MARCHAL")
        self.store(anne[1], "Drafts", raw, t(0, 16, 30), flags="SD")

    def filler(self, count, only=None):
        people = [m["address"] for m in self.ids["mailboxes"]]
        weights = {"anne.lefevre@pli-sandbox.mssante.fr": 40, "cardiologie.secretariat@pli-sandbox.mssante.fr": 25,
                   "bruno.girard@cabinet-sandbox.mssante.fr": 15, "hugo.moreau@pli-sandbox.mssante.fr": 5,
                   "urgences@pli-sandbox.mssante.fr": 5}
        targets = only or people
        w = [weights.get(a, 5) for a in targets]
        pts = self.ids["patients"]
        folders = [("INBOX", 70), ("Sent", 12), ("Archives", 8), ("Archives/2024", 4), ("Trash", 4), ("Drafts", 2)]
        for i in range(count):
            box = self.rng.choices(targets, weights=w)[0]
            folder = self.rng.choices([f[0] for f in folders], weights=[f[1] for f in folders])[0]
            me = self.person(box)
            when = self.when()
            if folder == "Archives/2024":
                when = when.replace(year=2024)
            html = self.rng.random() < 0.3
            if folder in ("Sent", "Drafts"):
                if self.rng.random() < 0.15:
                    p = self.rng.choice(pts)
                    other = (f"{p['given_name']} {p['family_name']}", f"{p['ins']}@{self.ids['patient_domain']}")
                else:
                    e = self.rng.choice(EXTERNAL)
                    other = (e[0], e[1])
                raw, _, _ = self.professional(me, other, when, html=html)
                self.store(box, folder, raw, when, flags="SD" if folder == "Drafts" else "S")
                if folder == "Sent" and other[1].endswith("@" + self.ids["patient_domain"]):
                    self.store(other[1], "INBOX", raw, when, flags="S")  # the patient's copy
                continue
            r = self.rng.random()
            if r < 0.08 and box.endswith("sandbox.mssante.fr") and not only:
                raw, _, _, _ = self.patient_msg(self.rng.choice(pts), me, when)
            else:
                e = self.rng.choice(EXTERNAL)
                extra = [f"Disposition-Notification-To: {e[1]}"] if self.rng.random() < 0.05 else []
                raw, _, _ = self.professional((e[0], e[1]), me, when, html=html, extra=extra)
            age_days = (ANCHOR - when).days
            flags = "S" if (age_days > 3 or self.rng.random() < 0.5) else ""
            if self.rng.random() < 0.05:
                flags += "F"
            if self.rng.random() < 0.1 and "S" in flags:
                flags += "R"
            self.store(box, folder, raw, when, flags=flags)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mail-root", required=True, help="Dovecot mail root: <root>/<domain>/<local>/Maildir")
    ap.add_argument("--count", type=int, default=300, help="total number of messages (default 300)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--identities", default=os.path.join(REPO, "tests", "sandbox", "identities.json"))
    ap.add_argument("--cda", default=os.path.join(REPO, "tests", "fixtures", "cda"))
    ap.add_argument("--only", action="append", help="filler only into these mailboxes (no showcase)")
    a = ap.parse_args()
    with open(a.identities, encoding="utf-8") as f:
        ids = json.load(f)
    s = Seeder(os.path.abspath(a.mail_root), ids, a.seed, a.cda)
    if not a.only:
        s.showcase()
    s.filler(max(0, a.count - sum(s.count_by.values())), a.only)
    # Every mailbox of the userdb gets an (empty) INBOX so that LMTP and IMAP find a Maildir.
    for m in ids["mailboxes"]:
        s.maildir(m["address"], "INBOX")
    for p in ids["patients"]:
        s.maildir(f"{p['ins']}@{ids['patient_domain']}", "INBOX")
    total = sum(s.count_by.values())
    for (box, folder), n in sorted(s.count_by.items()):
        print(f"{n:7d}  {box}  {folder}")
    print(f"{total:7d}  messages written under {a.mail_root}")


if __name__ == "__main__":
    sys.exit(main())
