#!/usr/bin/env python3
"""Rewrites a driftwatch event-frame CSV as the kind of export a French application writes:
`;`-separated, Windows-1252, CRLF, French column names and verbs, local Paris times written
dd/mm/yyyy HH:MM:SS, category and profile codes, no event id, and a free-text comment column
with accents, quotes and semicolons inside quoted fields.

It is written independently of driftwatch's reader (Python's csv and zoneinfo), so that
auditing the export through `wikit-export.toml` and auditing the original give the same
findings only if the source map and the reader are right.

    python3 to_french_export.py ../../sample-data/events/wikit-transfers.csv wikit-transfers-export.csv
"""
import csv
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

VERBS = {"read": "CONSULTATION", "search": "RECHERCHE", "export": "EXPORT", "transfer": "ENVOI",
         "report": "EDITION", "update": "MODIFICATION", "delete": "SUPPRESSION", "login": "CONNEXION"}
PROFILES = {"agent": "INSP", "unit_head": "RUD", "regional_director": "DIR_REG",
            "central_staff": "DGT", "batch": "TRAITEMENT_AUTO"}
OBJECTS = {"follow_ups": "SUITE", "inspections": "CTRL", "activity_reports": "ACTIVITE"}
HEADINGS = {"identity": "IDENTITE", "identity.name": "NOM", "employer": "EMPLOYEUR",
            "employer.siret": "SIRET", "penal_follow_up": "PV", "administrative_sanction": "SANCTION_ADM",
            "observation_letter": "LETTRE_OBS", "work_stoppage": "ARRET_TRAVAUX",
            "declared_activity": "ACTIVITE_DECLAREE", "worksite": "CHANTIER",
            "activity_counts": "COMPTEURS"}
RECIPIENTS = {"moe_platforms": "Plateformes MOE", "prefecture_work_permits": "Préfecture – titres de travail"}
PURPOSES = {"inspection": "CONTROLE", "activity_statistics": "STATISTIQUES"}
REPORTS = {"per_agent": "PAR_AGENT", "ranking": "CLASSEMENT", "aggregate": "AGREGE"}
COMMENTS = ["", "Dossier vérifié; pièces à compléter", "Relance de l'employeur « urgent »",
            "Réponse reçue — voir courrier", "", "Contrôle sur chantier; côte d'Azur"]

HEADER = ["date_heure", "matricule", "profil", "service", "operation", "objet", "rubriques",
          "destinataire", "finalite", "num_demande", "agent_cible", "taille_groupe", "nb_lignes",
          "date_piece", "type_rapport", "commentaire"]


def local_time(rfc3339: str) -> str:
    instant = datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    return instant.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S")


def french_date(iso: str) -> str:
    return datetime.strptime(iso, "%Y-%m-%d").strftime("%d/%m/%Y") if iso else ""


def code(table: dict, value: str) -> str:
    return table[value] if value else ""


def convert(source: str, target: str) -> int:
    with open(source, newline="", encoding="utf-8") as inp, \
            open(target, "w", newline="", encoding="windows-1252") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        rows = 0
        for index, event in enumerate(csv.DictReader(inp)):
            headings = [HEADINGS[c] for c in event["categories"].split(";") if c]
            writer.writerow([
                local_time(event["ts"]), event["actor_id"], PROFILES[event["actor_role"]],
                event["actor_unit"], VERBS[event["action"]], OBJECTS[event["dataset"]],
                "|".join(headings), code(RECIPIENTS, event["recipient"]), code(PURPOSES, event["purpose"]),
                event["request_ref"], event["target_agent"], event["group_size"], event["record_count"],
                french_date(event["record_date"]), code(REPORTS, event.get("report_kind", "")),
                COMMENTS[index % len(COMMENTS)],
            ])
            rows += 1
    return rows


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(f"{convert(sys.argv[1], sys.argv[2])} rows written to {sys.argv[2]}")
