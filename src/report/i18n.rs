//! The report's fixed words in English and French, from one catalogue. The sentences about each
//! finding (its summary, rule, legal reference, what would explain it away) are composed in
//! `sentences.rs` from the finding's facts.

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
    ReadThrough,
    AmbiguousLocalTimes,
    Filter,
    Severity,
    Dataset,
    Recipient,
    Actor,
    FirstSeen,
    LastSeen,
    Overview,
    Details,
    GeneratedBy,
    ChartExpectedSlot,
    ChartRunOnSchedule,
    ChartMissedSlot,
    ChartAdHoc,
    ChartTimeOfDay,
    ChartRunsByWeekday,
    ChartPeriodsWithRun,
    ChartExcused,
    ChartSetAside,
    ChartWatched,
    ChartByUnit,
    ChartEvents,
    ChartTransfers,
    ChartUndeclared,
    ChartFindingsByMonth,
    ChartCategories,
    ChartHour,
    TopFindings,
    ExplainedBy,
    AllFindings,
    SinceLastAudit,
    ComparedWith,
    NewFindings,
    OngoingFindings,
    ResolvedFindings,
    EscalatedFindings,
    Status,
    Triaged,
    TriageFile,
    Decision,
    Reason,
    DecidedBy,
    DecidedOn,
    Until,
    TriageExpired,
    TriageUnknown,
    None,
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
            Msg::ReadThrough => ("read through the source map", "lu avec la carte de source"),
            Msg::AmbiguousLocalTimes => (
                "local time(s) written during the autumn clock change (they happen twice): the earlier instant was taken",
                "heure(s) locale(s) écrite(s) pendant le changement d'heure d'automne (elles existent deux fois) : l'instant le plus tôt a été retenu",
            ),
            Msg::Quarantine => (
                "quarantine.csv lists every row not used, with file, line, column and reason.",
                "quarantine.csv liste chaque ligne non utilisée, avec fichier, ligne, colonne et motif.",
            ),
            Msg::Filter => ("Filter findings…", "Filtrer les constats…"),
            Msg::Severity => ("severity", "gravité"),
            Msg::Dataset => ("dataset", "jeu de données"),
            Msg::Recipient => ("recipient", "destinataire"),
            Msg::Actor => ("actor", "acteur"),
            Msg::FirstSeen => ("first seen", "premier"),
            Msg::LastSeen => ("last seen", "dernier"),
            Msg::Overview => ("Overview", "Vue d'ensemble"),
            Msg::Details => ("Findings in detail", "Constats détaillés"),
            Msg::GeneratedBy => ("Generated by", "Produit par"),
            Msg::ChartExpectedSlot => ("expected slot", "envoi attendu"),
            Msg::ChartRunOnSchedule => ("run on schedule", "envoi au calendrier"),
            Msg::ChartMissedSlot => ("missed slot", "envoi manqué"),
            Msg::ChartAdHoc => ("ad-hoc run", "envoi ponctuel"),
            Msg::ChartTimeOfDay => ("time of day", "heure"),
            Msg::ChartRunsByWeekday => ("runs by weekday and hour", "envois par jour de la semaine et heure"),
            Msg::ChartPeriodsWithRun => ("periods with a run", "périodes avec un envoi"),
            Msg::ChartExcused => ("excused (holiday, August, Christmas)", "excusées (férié, août, Noël)"),
            Msg::ChartSetAside => ("set aside", "écarté"),
            Msg::ChartWatched => (
                "Agents watched one by one, per supervisor and month (pseudonymised)",
                "Agents suivis individuellement, par encadrant et par mois (pseudonymisé)",
            ),
            Msg::ChartByUnit => (
                "Reports on single agents, by unit of the supervisor",
                "Rapports individuels, par unité de l'encadrant",
            ),
            Msg::ChartEvents => ("events", "événements"),
            Msg::ChartTransfers => (
                "Transfers and exports per recipient and month (red: undeclared recipient)",
                "Transmissions et extractions par destinataire et par mois (rouge : destinataire non déclaré)",
            ),
            Msg::ChartUndeclared => ("undeclared", "non déclaré"),
            Msg::ChartFindingsByMonth => {
                ("Findings by detector and month they start", "Constats par détecteur et mois de début")
            }
            Msg::ChartCategories => (
                "Data categories per recipient: green declared and sent, red sent but not declared, grey declared only",
                "Catégories de données par destinataire : vert déclarée et transmise, rouge transmise sans être déclarée, gris déclarée seulement",
            ),
            Msg::ChartHour => ("hour", "heure"),
            Msg::TopFindings => ("What matters most", "L'essentiel"),
            Msg::ExplainedBy => ("What would explain it away", "Ce qui l'expliquerait"),
            Msg::AllFindings => ("All findings, most serious first", "Tous les constats, du plus grave au moins grave"),
            Msg::SinceLastAudit => ("Since the last audit", "Depuis le dernier audit"),
            Msg::ComparedWith => ("compared with", "comparé à"),
            Msg::NewFindings => ("new", "nouveaux"),
            Msg::OngoingFindings => ("ongoing", "toujours là"),
            Msg::ResolvedFindings => ("resolved", "résolus"),
            Msg::EscalatedFindings => ("escalated", "aggravés"),
            Msg::Status => ("Status", "Statut"),
            Msg::Triaged => ("Triaged findings", "Constats examinés"),
            Msg::TriageFile => ("decisions from", "décisions de"),
            Msg::Decision => ("decision", "décision"),
            Msg::Reason => ("reason", "motif"),
            Msg::DecidedBy => ("decided by", "décidé par"),
            Msg::DecidedOn => ("date", "date"),
            Msg::Until => ("until", "jusqu'au"),
            Msg::TriageExpired => (
                "Expired decisions (not applied: the finding counts again)",
                "Décisions échues (non appliquées : le constat compte de nouveau)",
            ),
            Msg::TriageUnknown => (
                "Decisions about no finding of this audit (resolved, or a mistyped id)",
                "Décisions sans constat dans cet audit (résolu, ou identifiant mal saisi)",
            ),
            Msg::None => ("none", "aucun"),
        };
        match self {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }

    /// Weekday abbreviations, Monday first.
    pub fn weekdays(self) -> [&'static str; 7] {
        match self {
            Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            Lang::Fr => ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
        }
    }

    pub fn status(self, status: crate::finding::Status) -> &'static str {
        use crate::finding::Status::*;
        match (self, status) {
            (Lang::En, New) => "new",
            (Lang::En, Ongoing) => "ongoing",
            (Lang::Fr, New) => "nouveau",
            (Lang::Fr, Ongoing) => "toujours là",
        }
    }

    pub fn decision(self, decision: crate::finding::Decision) -> &'static str {
        use crate::finding::Decision::*;
        match (self, decision) {
            (Lang::En, Accepted) => "accepted",
            (Lang::En, FalsePositive) => "false positive",
            (Lang::En, Investigating) => "under investigation",
            (Lang::Fr, Accepted) => "accepté (exception documentée)",
            (Lang::Fr, FalsePositive) => "faux positif",
            (Lang::Fr, Investigating) => "en cours d'examen",
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
