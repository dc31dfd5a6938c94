#!/usr/bin/env python3
"""gen_extraction.py N OUT.txt QUERIES.txt — a synthetic "Extraction Correspondance MSSanté"
(pipe-separated, the published column names) with N entries, plus autocomplete queries as a
user types them (2 to 7 first letters of real names, sometimes two words). Deterministic."""
import random
import sys

N, OUT, QOUT = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rnd = random.Random(20261122)
GIVEN = ["Anne", "Hélène", "Jean-François", "Chloé", "Zoé", "Étienne", "Inès", "Noël", "Léa", "Luc",
         "Marie", "Pierre", "Sophie", "Camille", "Maëlle", "Anaïs", "Jérôme", "Françoise", "Loïc", "Bérénice"]
FAMILY = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "PETIT", "DURAND", "LEROY", "MOREAU",
          "LEFÈVRE", "GÉRARD", "MERCIER", "DUPONT", "LAMBERT", "FAURÉ", "DUPRÉ-GAUTHIER", "NGUYEN",
          "ALBERTINI", "SANTONI", "LE GALL", "CHÂTELAIN", "BÉRANGER", "ROUSSEAU", "GARNIER", "FOURNIER"]
CITIES = [("75011", "PARIS", "75"), ("69003", "LYON", "69"), ("25000", "BESANCON", "25"),
          ("13005", "MARSEILLE", "13"), ("20000", "AJACCIO", "2A"), ("35000", "RENNES", "35"),
          ("97110", "POINTE A PITRE", "971"), ("42000", "SAINT ETIENNE", "42")]
PROF = ["Médecin", "Infirmier", "Pharmacien", "Masseur-kinésithérapeute", "Sage-femme"]
SPEC = ["Cardiologie", "Médecine générale", "Pédiatrie", "Radiologie", ""]
cols = ["Type de BAL", "Adresse BAL", "Nom d'exercice", "Prénom d'exercice", "Libellé profession",
        "Libellé savoir-faire", "Raison Sociale structure BAL", "Code postal structure BAL",
        "Département structure BAL", "L4NUMEROVOIE structure BAL", "NL4TYPEVOIE structure BAL",
        "L4LIBELLEVOIE structure BAL", "L6LIGNEACHEMINEMENT structure BAL"]
names = []
with open(OUT, "w", encoding="utf-8") as f:
    f.write("|".join(cols) + "\n")
    for i in range(N):
        cp, city, dep = rnd.choice(CITIES)
        fam = rnd.choice(FAMILY) + ("" if rnd.random() < 0.7 else f"-{rnd.choice(FAMILY)}")
        giv = rnd.choice(GIVEN)
        names.append((giv, fam))
        mail = f"u{i}.{rnd.randrange(10**6)}@test{rnd.randrange(50)}.mssante.fr"
        f.write("|".join(["PER", mail, fam, giv, rnd.choice(PROF), rnd.choice(SPEC),
                          f"Cabinet {fam.title()}", cp, dep, str(rnd.randrange(1, 200)), "rue",
                          "de la Santé", f"{cp} {city}"]) + "\n")
with open(QOUT, "w", encoding="utf-8") as q:
    for _ in range(1000):
        giv, fam = rnd.choice(names)
        typed = fam.lower()[: rnd.randrange(2, 8)]
        if rnd.random() < 0.3:
            typed += " " + giv.lower()[: rnd.randrange(1, 4)]
        q.write(typed + "\n")
