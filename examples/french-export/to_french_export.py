#!/usr/bin/env python3
"""Rewrites a driftwatch event-frame CSV as the kind of export a French application writes:
`;`-separated, Windows-1252, CRLF, French column names and verbs, local Paris times written
dd/mm/yyyy HH:MM:SS, category and profile codes, no event id, and a free-text comment column
with accents, quotes and semicolons inside quoted fields.

It is written independently of driftwatch's reader (Python's csv and zoneinfo), so that
auditing the export through `wikit-export.toml` and auditing the original give the same
findings only if the source map and the reader are right. Values outside WIKIT's tables get
a code of their own (upper case); `--map FILE` writes the source map for the codes used, so
any event-frame CSV can be rewritten (the mapped-CSV benchmark does this on the bench world).

    python3 to_french_export.py ../../sample-data/events/wikit-transfers.csv wikit-transfers-export.csv
    python3 to_french_export.py events.csv export.csv --map export.toml
"""
import csv
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

VERBS = {"read": "CONSULTATION", "search": "RECHERCHE", "export": "EXPORT", "transfer": "ENVOI",
         "report": "EDITION", "update": "MODIFICATION", "delete": "SUPPRESSION", "login": "CONNEXION",
         "grant": "HABILITATION", "revoke": "RETRAIT"}
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
    """Paris wall-clock time; a fraction of a second, when the log has one, after a dot."""
    instant = datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).astimezone(PARIS)
    written = instant.strftime("%d/%m/%Y %H:%M:%S")
    return written + (f".{instant.microsecond:06d}" if instant.microsecond else "")


def french_date(iso: str) -> str:
    return datetime.strptime(iso, "%Y-%m-%d").strftime("%d/%m/%Y") if iso else ""


# field → {code: event value}, for the map written with --map.
SEEN = {}


def code(field: str, table: dict, value: str) -> str:
    if not value:
        return ""
    written = table.get(value) or value.upper().replace(".", "_")
    SEEN.setdefault(field, {})[written] = value
    return written


def convert(source: str, target: str) -> int:
    with open(source, newline="", encoding="utf-8") as inp, \
            open(target, "w", newline="", encoding="windows-1252") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        rows = 0
        for index, event in enumerate(csv.DictReader(inp)):
            headings = [code("categories", HEADINGS, c) for c in (event.get("categories") or "").split(";") if c]
            writer.writerow([
                local_time(event["ts"]), event["actor_id"], code("actor_role", PROFILES, event["actor_role"]),
                event.get("actor_unit", ""), code("action", VERBS, event["action"]),
                code("dataset", OBJECTS, event["dataset"]), "|".join(headings),
                code("recipient", RECIPIENTS, event.get("recipient", "")),
                code("purpose", PURPOSES, event.get("purpose", "")), event.get("request_ref", ""),
                event.get("target_agent", ""), event.get("group_size", ""), event.get("record_count", ""),
                french_date(event.get("record_date", "")), code("report_kind", REPORTS, event.get("report_kind", "")),
                COMMENTS[index % len(COMMENTS)],
            ])
            rows += 1
    return rows


COLUMNS = {"actor_role": "profil", "action": "operation", "dataset": "objet", "recipient": "destinataire",
           "purpose": "finalite", "report_kind": "type_rapport"}


def toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_map(path: str) -> None:
    """The source map of the codes this run wrote."""
    inline = lambda field: "{ " + ", ".join(f"{toml_string(k)} = {toml_string(v)}"
                                            for k, v in sorted(SEEN.get(field, {}).items())) + " }"
    lines = ['format    = "csv"', 'timezone  = "Europe/Paris"', 'delimiter = ";"', 'encoding  = "windows-1252"',
             "", "[fields]", 'ts           = { column = "date_heure", format = "%d/%m/%Y %H:%M:%S%.f" }',
             'actor_id     = "matricule"', 'actor_unit   = "service"', 'request_ref  = "num_demande"',
             'target_agent = "agent_cible"', 'group_size   = "taille_groupe"', 'record_count = "nb_lignes"',
             'record_date  = { column = "date_piece", format = "%d/%m/%Y" }']
    for field, column in COLUMNS.items():
        lines.append(f'{field} = {{ column = "{column}", map = {inline(field)} }}')
    lines.append(f'categories = {{ column = "rubriques", split = "|", map = {inline("categories")} }}')
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    map_path = None
    if len(arguments) == 4 and arguments[2] == "--map":
        map_path = arguments[3]
        arguments = arguments[:2]
    if len(arguments) != 2:
        sys.exit(__doc__)
    print(f"{convert(arguments[0], arguments[1])} rows written to {arguments[1]}")
    if map_path:
        write_map(map_path)
        print(f"source map written to {map_path}")
