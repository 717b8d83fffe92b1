//! The report's fixed sentences in English and French, from one catalogue. Finding summaries
//! are written by the detectors in English; the full bilingual report is issue #6's work.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Fr,
}

/// Message keys; each has an English and a French text.
#[derive(Debug, Clone, Copy)]
pub enum Msg {
    Title,
    RunSummary,
    Inputs,
    File,
    Format,
    RowsRead,
    RowsUsed,
    RowsQuarantined,
    Total,
    Window,
    Unbounded,
    EventsJudged,
    OutsideWindow,
    Period,
    RegisterVersions,
    InForce,
    Habilitations,
    Grants,
    FindingsBySeverity,
    Detector,
    Findings,
    NoFindings,
    Rule,
    LegalRef,
    Seen,
    Events,
    Records,
    Categories,
    Evidence,
    Versions,
    Quarantine,
}

impl Lang {
    pub fn text(self, message: Msg) -> &'static str {
        let (en, fr) = match message {
            Msg::Title => ("driftwatch audit report", "Rapport d'audit driftwatch"),
            Msg::RunSummary => ("Run summary", "Résumé de l'exécution"),
            Msg::Inputs => ("Inputs", "Journaux analysés"),
            Msg::File => ("file", "fichier"),
            Msg::Format => ("format", "format"),
            Msg::RowsRead => ("rows read", "lignes lues"),
            Msg::RowsUsed => ("used", "utilisées"),
            Msg::RowsQuarantined => ("quarantined", "mises en quarantaine"),
            Msg::Total => ("total", "total"),
            Msg::Window => ("Audit window", "Période auditée"),
            Msg::Unbounded => ("unbounded", "non bornée"),
            Msg::EventsJudged => ("events judged", "événements examinés"),
            Msg::OutsideWindow => ("outside the window", "hors période"),
            Msg::Period => ("Events from", "Événements du"),
            Msg::RegisterVersions => ("Register versions", "Versions du registre (déclarations)"),
            Msg::InForce => ("in force", "en vigueur"),
            Msg::Habilitations => ("Habilitations", "Habilitations"),
            Msg::Grants => ("grants", "habilitations"),
            Msg::FindingsBySeverity => ("Findings by detector and severity", "Constats par détecteur et gravité"),
            Msg::Detector => ("detector", "détecteur"),
            Msg::Findings => ("Findings", "Constats"),
            Msg::NoFindings => ("No findings.", "Aucun constat."),
            Msg::Rule => ("Declared rule", "Règle déclarée"),
            Msg::LegalRef => ("Legal reference", "Référence juridique"),
            Msg::Seen => ("Seen", "Observé"),
            Msg::Events => ("events", "événements"),
            Msg::Records => ("records", "enregistrements"),
            Msg::Categories => ("Undeclared categories", "Catégories de données non déclarées"),
            Msg::Evidence => ("Evidence (event ids)", "Preuves (identifiants d'événements)"),
            Msg::Versions => ("Register versions", "Versions du registre"),
            Msg::Quarantine => (
                "quarantine.csv lists every row not used, with file, line, column and reason.",
                "quarantine.csv liste chaque ligne non utilisée, avec fichier, ligne, colonne et motif.",
            ),
        };
        match self {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }

    pub fn severity(self, severity: crate::finding::Severity) -> &'static str {
        use crate::finding::Severity::*;
        match (self, severity) {
            (Lang::En, High) => "HIGH",
            (Lang::En, Medium) => "MEDIUM",
            (Lang::En, Low) => "LOW",
            (Lang::Fr, High) => "ÉLEVÉE",
            (Lang::Fr, Medium) => "MOYENNE",
            (Lang::Fr, Low) => "FAIBLE",
        }
    }
}
