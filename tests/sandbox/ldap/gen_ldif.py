#!/usr/bin/env python3
"""Generate a deterministic directory of MSSanté-shaped mailboxes (python3 stdlib only).

usage: gen_ldif.py [--count 20000] [--seed 20240501] [--extra FILE.ldif ...] > data.ldif

Base entry ou=bal,o=mssante,c=fr, then COUNT entries: about 80 % personal mailboxes (PER) of
doctors, pharmacists, nurses, dentists, midwives, physiotherapists…, and organisational (ORG),
applicative (APP) and practice (CAB) mailboxes of hospitals, laboratories, pharmacies and
practices in real French cities (Corsica 2A/2B and overseas included). Names carry accents and
hyphens. Same seed and count -> byte-identical output. --extra files (e.g. the sandbox
identities' entries) are appended as they are.
"""
import argparse
import base64
import random
import sys
import unicodedata

BASE = "ou=bal,o=mssante,c=fr"

GIVEN_F = ["Anne", "Marie", "Hélène", "Chloé", "Léa", "Zoé", "Inès", "Anaïs", "Élise", "Camille", "Sophie",
           "Nathalie", "Isabelle", "Céline", "Émilie", "Aurélie", "Laëtitia", "Noémie", "Maëlle", "Agnès",
           "Bérénice", "Françoise", "Geneviève", "Josiane", "Mathilde", "Pauline", "Sandrine", "Valérie",
           "Marie-Claire", "Anne-Sophie", "Marie-Hélène", "Léonie", "Héloïse", "Clémence", "Margaux", "Solène"]
GIVEN_M = ["Jean", "Pierre", "François", "Étienne", "Noël", "Luc", "Jérôme", "Benoît", "Hervé", "Régis",
           "Thierry", "Stéphane", "Frédéric", "Sébastien", "Grégoire", "Joël", "Loïc", "Gaël", "Raphaël",
           "Hugo", "Mathieu", "Julien", "Nicolas", "Olivier", "Bruno", "Cédric", "Jean-François",
           "Jean-Baptiste", "Pierre-Yves", "Jean-Marc", "Marc-Antoine", "Aurélien", "Théo", "Yannick", "Rémi"]
FAMILY = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
          "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
          "Morel", "Girard", "André", "Lefèbvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François",
          "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry",
          "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez",
          "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis",
          "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas", "Meunier",
          "Jean", "Pérez", "Marchand", "Dufour", "Blanchard", "Marie", "Barbier", "Brun", "Dumas", "Brunet",
          "Schmitt", "Leroux", "Colin", "Fernandez", "Pierre", "Renard", "Arnaud", "Rolland", "Caron",
          "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud", "Lemoine", "Picard", "Gaillard",
          "Philippe", "Leclercq", "Lacroix", "Fabre", "Dupuis", "Olivier", "Rodriguez", "Da Silva", "Hubert",
          "Louis", "Charles", "Guillot", "Rivière", "Le Gall", "Guillaume", "Adam", "Rey", "Moulin", "Gonzalez",
          "Berger", "Lecomte", "Ménard", "Fleury", "Deschamps", "Carpentier", "Julien", "Benoît", "Paris",
          "Maillard", "Marchal", "Aubry", "Vasseur", "Le Roux", "Renault", "Jacquet", "Collet", "Prévost",
          "Poirier", "Charpentier", "Royer", "Huet", "Baron", "Dupuy", "Pons", "Paul", "Laine", "Carré",
          "Breton", "Rémy", "Schneider", "Perrot", "Guyot", "Barré", "Marty", "Cousin", "Santoni", "Albertini",
          "Casanova", "Pietri", "Dupré-Gauthier", "Lefèvre-Durand", "Martin-Lavigne", "Saint-Martin",
          "Bouvier-Héraud", "Le Bihan", "Kerouédan", "Ben Saïd", "N'Diaye", "Hoarau", "Payet", "Grondin"]

# (city, postal code, department, INSEE commune, big hospital?)
CITIES = [("Paris", "75013", "75", "75056", True), ("Paris", "75015", "75", "75056", True),
          ("Marseille", "13005", "13", "13055", True), ("Lyon", "69003", "69", "69123", True),
          ("Toulouse", "31300", "31", "31555", True), ("Nice", "06000", "06", "06088", True),
          ("Nantes", "44000", "44", "44109", True), ("Montpellier", "34090", "34", "34172", True),
          ("Strasbourg", "67000", "67", "67482", True), ("Bordeaux", "33000", "33", "33063", True),
          ("Lille", "59000", "59", "59350", True), ("Rennes", "35000", "35", "35238", True),
          ("Reims", "51100", "51", "51454", True), ("Saint-Étienne", "42000", "42", "42218", True),
          ("Le Havre", "76600", "76", "76351", False), ("Toulon", "83000", "83", "83137", False),
          ("Grenoble", "38000", "38", "38185", True), ("Dijon", "21000", "21", "21231", True),
          ("Angers", "49000", "49", "49007", True), ("Nîmes", "30900", "30", "30189", True),
          ("Clermont-Ferrand", "63000", "63", "63113", True), ("Le Mans", "72000", "72", "72181", False),
          ("Aix-en-Provence", "13100", "13", "13001", False), ("Brest", "29200", "29", "29019", True),
          ("Tours", "37000", "37", "37261", True), ("Amiens", "80000", "80", "80021", True),
          ("Limoges", "87000", "87", "87085", True), ("Besançon", "25000", "25", "25056", True),
          ("Orléans", "45000", "45", "45234", False), ("Metz", "57000", "57", "57463", False),
          ("Rouen", "76000", "76", "76540", True), ("Caen", "14000", "14", "14118", True),
          ("Nancy", "54000", "54", "54395", True), ("Poitiers", "86000", "86", "86194", True),
          ("Perpignan", "66000", "66", "66136", False), ("Pau", "64000", "64", "64445", False),
          ("Bayonne", "64100", "64", "64102", False), ("La Rochelle", "17000", "17", "17300", False),
          ("Chambéry", "73000", "73", "73065", False), ("Annecy", "74000", "74", "74010", False),
          ("Valence", "26000", "26", "26362", False), ("Quimper", "29000", "29", "29232", False),
          ("Colmar", "68000", "68", "68066", False), ("Mulhouse", "68100", "68", "68224", False),
          ("Béziers", "34500", "34", "34032", False), ("Évreux", "27000", "27", "27229", False),
          ("Épinal", "88000", "88", "88160", False), ("Périgueux", "24000", "24", "24322", False),
          ("Agen", "47000", "47", "47001", False), ("Montélimar", "26200", "26", "26198", False),
          ("Châteauroux", "36000", "36", "36044", False), ("Saint-Brieuc", "22000", "22", "22278", False),
          ("Ajaccio", "20000", "2A", "2A004", False), ("Porto-Vecchio", "20137", "2A", "2A247", False),
          ("Bastia", "20200", "2B", "2B033", False), ("Corte", "20250", "2B", "2B096", False),
          ("Fort-de-France", "97200", "972", "97209", True), ("Pointe-à-Pitre", "97110", "971", "97120", True),
          ("Saint-Denis", "97400", "974", "97411", True), ("Cayenne", "97300", "973", "97302", False),
          ("Mamoudzou", "97600", "976", "97611", False)]

# code, weight, personal-mailbox domain
PROFESSIONS = [("10", 45, "medecin.mssante.fr"), ("60", 18, "infirmier.mssante.fr"),
               ("21", 11, "pharmacien.mssante.fr"), ("40", 8, "chirurgien-dentiste.mssante.fr"),
               ("70", 8, "masseur-kinesitherapeute.mssante.fr"), ("50", 5, "sagefemme.mssante.fr"),
               ("91", 3, "orthophoniste.mssante.fr"), ("28", 2, "opticien.mssante.fr")]
# specialty code, weight, service name (for ORG mailboxes)
MED_SPECIALTIES = [("SM54", 40, "médecine générale"), ("SM26", 8, "médecine générale"),
                   ("SM04", 6, "cardiologie"), ("SM35", 4, "ophtalmologie"), ("SM37", 4, "pédiatrie"),
                   ("SM15", 3, "dermatologie"), ("SM20", 3, "gynécologie-obstétrique"),
                   ("SM39", 4, "psychiatrie"), ("SM41", 4, "radiologie"), ("SM02", 4, "anesthésie-réanimation"),
                   ("SM23", 3, "gastro-entérologie"), ("SM31", 2, "neurologie"), ("SM38", 2, "pneumologie"),
                   ("SM44", 2, "rhumatologie"), ("SM33", 2, "oto-rhino-laryngologie"), ("SM29", 2, "néphrologie"),
                   ("SM16", 2, "endocrinologie"), ("SM18", 2, "gériatrie"), ("SM34", 2, "oncologie"),
                   ("SM03", 2, "biologie médicale"), ("SM57", 3, "médecine d'urgence")]
DENT_SPECIALTIES = [(None, 85, None), ("SCD01", 10, "orthopédie dento-faciale"), ("SCD02", 5, "chirurgie orale")]
STREETS = ["rue de la République", "avenue Jean-Jaurès", "boulevard Gambetta", "rue Victor-Hugo",
           "place de la Mairie", "rue des Écoles", "avenue du Général-de-Gaulle", "rue Pasteur",
           "chemin des Vignes", "rue du Moulin", "allée des Tilleuls", "rue de l'Église", "quai des Chartreux",
           "boulevard de l'Hôpital", "rue Émile-Zola", "impasse des Lilas", "route de Lyon", "cours Napoléon"]
CLINIC = ["Clinique Saint-Joseph", "Clinique du Parc", "Clinique des Cèdres", "Polyclinique Sainte-Marguerite",
          "Clinique de l'Espérance", "Hôpital privé Jean-Mermoz"]


def ascii_fold(s):
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return "".join(c if c.isalnum() else ("-" if c in " -'" else "") for c in s).strip("-")


def attr(k, v):
    v = str(v)
    if v.isascii() and not v.startswith((" ", ":", "<")) and not v.endswith(" "):
        return f"{k}: {v}\n"
    return f"{k}:: {base64.b64encode(v.encode()).decode()}\n"


def entry(mail, kind, attrs):
    """One LDIF entry; attrs keys are LDAP attribute names, values str or list."""
    oc = ["top", "inetOrgPerson", "mssanteBAL"] if kind == "PER" else ["top", "organizationalRole", "mssanteBAL"]
    a = dict(attrs)
    if kind == "PER":
        a.setdefault("sn", a.get("cn", mail))
    out = f"dn: mail={mail},{BASE}\n" + "".join(attr("objectClass", o) for o in oc)
    out += attr("mail", mail) + attr("mssTypeBAL", kind)
    for k in ["cn", "sn", "givenName", "displayName", "mssProfession", "mssSpecialite", "o", "ou", "street",
              "postalCode", "l", "mssDepartement", "mssDematerialisation"]:
        v = a.get(k)
        if v is None or v == "":
            continue
        for x in (v if isinstance(v, list) else [v]):
            out += attr(k, x)
    return out + "\n"


def wchoice(rng, items):
    return rng.choices(items, weights=[i[1] for i in items])[0]


def structure(rng, city):
    name, _, _, _, big = city
    r = rng.random()
    if r < 0.45:
        return ("CHU de " if big else "CH de ") + name, "hospital"
    if r < 0.65:
        return f"{rng.choice(CLINIC)} — {name}", "clinic"
    return None, "liberal"


def generate(count, seed, out):
    rng = random.Random(seed)
    seen = set()
    out.write(f"dn: {BASE}\nobjectClass: top\nobjectClass: organizationalUnit\nou: bal\n"
              "description: Sandbox MSSante directory (generated, not real people)\n\n")

    def unique(local, domain):
        mail, n = f"{local}@{domain}", 1
        while mail in seen:
            n += 1
            mail = f"{local}{n}@{domain}"
        seen.add(mail)
        return mail

    for _ in range(count):
        city = rng.choice(CITIES)
        cname, cp, dep, _, big = city
        street = f"{rng.randint(1, 140)} {rng.choice(STREETS)}"
        demat = "TRUE" if rng.random() < 0.85 else "FALSE"
        r = rng.random()
        if r < 0.80:  # PER
            prof, _, pdomain = wchoice(rng, PROFESSIONS)
            female = rng.random() < 0.55
            given = rng.choice(GIVEN_F if female else GIVEN_M)
            family = rng.choice(FAMILY)
            spec = None
            if prof == "10":
                spec = wchoice(rng, MED_SPECIALTIES)[0]
            elif prof == "40":
                spec = wchoice(rng, DENT_SPECIALTIES)[0]
            org, okind = structure(rng, city) if prof in ("10", "60", "50", "70") else (None, "liberal")
            if prof == "21" and rng.random() < 0.8:
                org = f"Pharmacie {rng.choice(['de la Gare', 'du Centre', 'des Halles', 'Saint-Michel', 'de la Mairie', 'du Marché'])}"
            domain = ("ch-" + ascii_fold(cname) + ".mssante.fr") if okind == "hospital" else pdomain
            mail = unique(f"{ascii_fold(given)}.{ascii_fold(family)}", domain)
            title = "Dr " if prof in ("10", "40", "21") else ""
            out.write(entry(mail, "PER", {
                "cn": f"{given} {family.upper()}", "sn": family.upper(), "givenName": given,
                "displayName": f"{title}{given} {family.upper()}", "mssProfession": prof, "mssSpecialite": spec,
                "o": org, "street": street, "postalCode": cp, "l": cname, "mssDepartement": dep,
                "mssDematerialisation": demat}))
            continue
        hosp = ("CHU de " if big else "CH de ") + cname
        hdomain = "ch-" + ascii_fold(cname) + ".mssante.fr"
        if r < 0.90:  # ORG
            kind = rng.random()
            if kind < 0.55:
                spec, _, service = wchoice(rng, MED_SPECIALTIES[2:])
                what = rng.choice(["Secrétariat", "Service", "Consultations"])
                cn = f"{what} de {service}" if what != "Service" else f"Service de {service}"
                disp, o, ou = f"{cn} — {hosp}", hosp, f"Service de {service}"
                local = ascii_fold(f"{service}.{what}")
                domain = hdomain
            elif kind < 0.75:
                lab = f"Laboratoire de biologie médicale {rng.choice(['Bio', 'Cerba ', 'Labo ', 'Synlab '])}{cname}"
                cn = disp = lab
                o, ou, spec, domain = lab, None, "SM03", "labo-" + ascii_fold(cname) + ".mssante.fr"
                local = rng.choice(["resultats", "secretariat", "biologistes"])
            elif kind < 0.9:
                ph = f"Pharmacie {rng.choice(['de la Gare', 'du Centre', 'des Halles', 'Saint-Michel', 'du Marché'])}"
                cn = disp = f"{ph} — {cname}"
                o, ou, spec, domain = ph, None, None, "pharmacien.mssante.fr"
                local = ascii_fold(f"{ph}-{cname}")
            else:
                cn = rng.choice(["Bureau des admissions", "Service d'imagerie médicale", "Centre de périnatalité",
                                 "Équipe mobile de soins palliatifs", "Département d'information médicale"])
                disp, o, ou, spec, domain = f"{cn} — {hosp}", hosp, cn, None, hdomain
                local = ascii_fold(cn)
            mail = unique(local, domain)
            out.write(entry(mail, "ORG", {
                "cn": cn, "displayName": disp, "o": o, "ou": ou, "mssSpecialite": spec, "street": street,
                "postalCode": cp, "l": cname, "mssDepartement": dep, "mssDematerialisation": demat}))
        elif r < 0.95:  # APP
            cn = rng.choice(["Serveur de résultats", "Plateforme de télé-expertise", "Logiciel de dossier patient",
                             "Système d'information de radiologie", "Passerelle DMP"])
            holder = rng.choice([hosp, f"Laboratoire de biologie médicale {cname}", f"Centre d'imagerie de {cname}"])
            disp = f"{cn} — {holder}"
            mail = unique(ascii_fold(cn), "app-" + ascii_fold(cname) + ".mssante.fr")
            out.write(entry(mail, "APP", {
                "cn": cn, "displayName": disp, "o": holder, "street": street, "postalCode": cp, "l": cname,
                "mssDepartement": dep, "mssDematerialisation": "TRUE"}))
        else:  # CAB
            kind = rng.choice(["Cabinet médical", "Cabinet infirmier", "Cabinet de kinésithérapie",
                               "Cabinet dentaire", "Maison de santé pluriprofessionnelle", "Cabinet de sages-femmes"])
            name = f"{kind} {rng.choice(['du Parc', 'des Lilas', 'de la Gare', 'Saint-Roch', 'des Tilleuls', 'du Vieux-Port', 'de la Fontaine'])}"
            prof = {"Cabinet médical": "10", "Cabinet infirmier": "60", "Cabinet de kinésithérapie": "70",
                    "Cabinet dentaire": "40", "Cabinet de sages-femmes": "50"}.get(kind)
            mail = unique(ascii_fold(name) + "." + ascii_fold(cname), "cabinet.mssante.fr")
            out.write(entry(mail, "CAB", {
                "cn": name, "displayName": f"{name} — {cname}", "o": name, "mssProfession": prof,
                "street": street, "postalCode": cp, "l": cname, "mssDepartement": dep,
                "mssDematerialisation": demat}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--extra", action="append", default=[])
    a = ap.parse_args()
    out = sys.stdout
    generate(a.count, a.seed, out)
    for path in a.extra:
        with open(path, encoding="utf-8") as f:
            out.write(f.read())


if __name__ == "__main__":
    main()
