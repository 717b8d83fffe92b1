//! Every sentence of a finding, in the report's language, composed from its facts
//! (`finding::facts`) and its subject: the summary (what was declared versus what was observed),
//! the rule broken, the legal reference, what would explain it away. One exhaustive `match` per
//! language and per sentence: a detector without its words does not compile. English is also
//! what findings.json and the tables carry; the French uses the legal vocabulary of the seed
//! documents (destinataires, finalité, habilitations, durée de conservation, communication
//! ponctuelle sur demande).

use serde_json::Value;

use super::i18n::Lang;
use crate::finding::Finding;
use crate::finding::facts::{
    CategoryCreep, Declaration, Facts, Gap, HabilitationReason, Integrity, OutsideHabilitation, RegisterGap,
    StaleHabilitation,
};

/// What the finding is: what was declared versus what was observed, in one sentence.
pub fn summary(lang: Lang, finding: &Finding) -> String {
    match lang {
        Lang::En => english::summary(finding),
        Lang::Fr => french::summary(finding),
    }
}

/// The declared rule a finding breaks, in the report's language.
pub fn rule(lang: Lang, finding: &Finding) -> String {
    match lang {
        Lang::En => english::rule(finding),
        Lang::Fr => french::rule(finding),
    }
}

/// The legal reference of a finding in the report's language: the detectors' own references are
/// translated; a reference taken from the register is quoted as the controller wrote it.
pub fn legal_ref(lang: Lang, finding: &Finding) -> String {
    match lang {
        Lang::En => english::legal_ref(finding),
        Lang::Fr => french::legal_ref(finding),
    }
}

/// A periodic finding's cadence in the report's language.
pub fn cadence(lang: Lang, finding: &Finding) -> String {
    match &finding.facts {
        Facts::PeriodicTransfer(periodic) => cadence_of(lang, &periodic.cadence),
        _ => String::new(),
    }
}

/// A cadence in the report's language, from its machine fields (a finding's `cadence`, or a
/// rejected hypothesis's).
pub fn cadence_of(lang: Lang, fields: &Value) -> String {
    match lang {
        Lang::En => fields["description"].as_str().unwrap_or("").to_string(),
        Lang::Fr => cadence_fr(fields),
    }
}

/// Why a hypothesis was set aside (an entry of `details.rejected_hypotheses`), in the report's
/// language, from its facts (`why`).
pub fn set_aside(lang: Lang, rejected: &Value) -> String {
    let why = &rejected["why"];
    let number = |key: &str| why[key].as_f64().unwrap_or(0.0);
    match (lang, why["kind"].as_str().unwrap_or("")) {
        (Lang::En, _) => rejected["reason"].as_str().unwrap_or("").to_string(),
        (Lang::Fr, "every_run_referenced") => {
            "chaque envoi porte une référence de demande : des demandes traitées l'une après l'autre, pas le pas d'une machine".to_string()
        }
        (Lang::Fr, "too_few_locked_days") => format!(
            "un pas de moins d'un jour vu sur {} jour(s) : il doit se répéter, calé sur l'horloge, sur au moins {} jours",
            number("days"),
            number("needed")
        ),
        (Lang::Fr, "not_phase_locked") => format!(
            "un pas de moins d'un jour qui ne reste pas calé sur l'horloge (dispersion {:.0} min) : un tel pas est systématique ou n'est rien",
            number("spread_minutes")
        ),
        (Lang::Fr, "low_occupancy") => format!(
            "des envois dans {} périodes sur {} : un calendrier « une fois par période » en demande au moins {:.0} % (moins une demi-erreur type)",
            number("matched"),
            number("expected"),
            number("needed_percent")
        ),
        (Lang::Fr, "too_few_periods") => format!(
            "des envois dans seulement {} périodes : un calendrier « une fois par période » en demande {}",
            number("matched"),
            number("needed")
        ),
        (Lang::Fr, "wandering_place") => format!(
            "environ un envoi par période, mais sa place dans la période varie (dispersion {:.1} jours) : un calendrier « une fois par période » est systématique ou n'est rien",
            number("spread_days")
        ),
        (Lang::Fr, _) => "hypothèse écartée".to_string(),
    }
}

/// What would explain a finding away: what an auditor checks next.
pub fn explained_by(lang: Lang, finding: &Finding) -> String {
    let (en, fr) = match &finding.facts {
        Facts::RegisterGap(_) => (
            "a register version in force over these dates that declares the dataset",
            "une version du registre en vigueur à ces dates qui déclare le jeu de données",
        ),
        Facts::UndeclaredRecipient(_) => (
            "a [[recipient]] entry declaring this recipient for this dataset in the register version in force",
            "une entrée [[recipient]] déclarant ce destinataire pour ce jeu de données dans la version du registre en vigueur",
        ),
        Facts::CategoryCreep(_) => (
            "these categories declared for this recipient or purpose in the register version in force",
            "ces catégories déclarées pour ce destinataire ou cette finalité dans la version du registre en vigueur",
        ),
        Facts::PeriodicTransfer(_) => (
            "a request reference (request_ref) on each transfer, or the flow declared with mode = \"scheduled\"",
            "une référence de demande (request_ref) sur chaque envoi, ou le flux déclaré en mode « scheduled » (calendrier)",
        ),
        Facts::IndividualMonitoring(_) => (
            "a declared purpose that allows following agents individually",
            "une finalité déclarée qui autorise le suivi individuel des agents",
        ),
        Facts::SmallCell(_) => (
            "cells of at least the declared minimum number of agents",
            "des cellules d'au moins le nombre minimal d'agents déclaré",
        ),
        Facts::OutsideHabilitation(_) => (
            "a grant for this role and scope in force at the time (habilitations file), or a purpose allowing the role",
            "une habilitation pour ce rôle et ce périmètre en vigueur à ces dates (fichier des habilitations), ou une finalité qui autorise ce rôle",
        ),
        Facts::StaleHabilitation(_) => (
            "a review date within the review period, or use of the grant during the audit window",
            "une date de revue dans le délai de revue, ou une utilisation de l'habilitation sur la période auditée",
        ),
        Facts::RetentionOverrun(_) => (
            "a longer retention declared for the dataset, or a documented legal hold on these records",
            "une durée de conservation plus longue déclarée pour le jeu de données, ou une conservation imposée et documentée",
        ),
        Facts::Integrity(_) => (
            "the original log with an unbroken hash chain, or the ids of the rows given twice",
            "le journal d'origine avec une chaîne d'empreintes intacte, ou les identifiants des lignes données deux fois",
        ),
    };
    if lang == Lang::En { en.to_string() } else { fr.to_string() }
}

/// A detector's name as words (its id is shown beside it).
pub fn detector_name(lang: Lang, detector: &str) -> &'static str {
    let (en, fr) = match detector {
        "register_gap" => ("events no register version covers", "traitement non couvert par le registre"),
        "undeclared_recipient" => ("undeclared recipient", "destinataire non déclaré"),
        "category_creep" => ("undeclared data categories", "catégories non déclarées"),
        "periodic_transfer" => ("systematic transfer", "transmission systématique"),
        "individual_monitoring" => ("individual monitoring of agents", "suivi individuel des agents"),
        "small_cell" => ("statistics on too few agents", "statistiques sur trop peu d'agents"),
        "outside_habilitation" => ("access outside habilitation", "accès hors habilitation"),
        "stale_habilitation" => ("habilitation not reviewed or unused", "habilitation non revue ou inutilisée"),
        "retention_overrun" => ("retention period exceeded", "durée de conservation dépassée"),
        "integrity" => ("log integrity", "intégrité du journal"),
        _ => ("other finding", "autre constat"),
    };
    if lang == Lang::En { en } else { fr }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// An instant written for people, in the report's language and time zone: "11 June 2020, 19:43",
/// « 11 juin 2020, 19 h 43 ». Tables and machine outputs keep RFC 3339 UTC.
pub fn people_time(lang: Lang, timezone: chrono_tz::Tz, us: i64) -> String {
    use chrono::{Datelike, Timelike};
    let Some(utc) = chrono::DateTime::from_timestamp_micros(us) else { return crate::ingest::timestamp::format_us(us) };
    let local = utc.with_timezone(&timezone);
    let month = local.month0() as usize;
    match lang {
        Lang::En => {
            format!("{} {} {}, {:02}:{:02}", local.day(), MONTHS_EN[month], local.year(), local.hour(), local.minute())
        }
        Lang::Fr => {
            format!("{} {} {}, {} h {:02}", local.day(), MONTHS_FR[month], local.year(), local.hour(), local.minute())
        }
    }
}

/// When the events of a finding happened, for people: "11 June 2020, 19:43 → 3 March 2021, 10:00".
pub fn seen(lang: Lang, timezone: chrono_tz::Tz, finding: &Finding) -> Option<String> {
    let (first, last) = (finding.first_seen?, finding.last_seen?);
    Some(format!("{} → {}", people_time(lang, timezone, first), people_time(lang, timezone, last)))
}

/// The English sentences (also findings.json's and the tables').
mod english {
    use super::*;
    use crate::detect::list_words;

    pub fn summary(f: &Finding) -> String {
        let (events, dataset, recipient) = (f.events, text(&f.dataset), text(&f.recipient));
        match &f.facts {
            Facts::RegisterGap(gap) => format!(
                "{events} event(s) on {} could not be judged: {}",
                gap.datasets.iter().map(|d| format!("\"{d}\"")).collect::<Vec<_>>().join(", "),
                register_gap(gap)
            ),
            Facts::UndeclaredRecipient(_) => format!(
                "{events} transfer(s) or export(s) of \"{dataset}\" to \"{recipient}\", which the register in force does not declare as a recipient of that dataset"
            ),
            Facts::CategoryCreep(creep) => format!(
                "{events} event(s) {} \"{dataset}\" carried {} beyond what {} declares ({})",
                match creep.against {
                    Declaration::Recipient => format!("sending to \"{recipient}\" from"),
                    _ => "on".to_string(),
                },
                list_words(&f.categories),
                declaration(f, creep),
                if creep.declared.is_empty() { "nothing".to_string() } else { list_words(&creep.declared) },
            ),
            Facts::PeriodicTransfer(periodic) => format!(
                "transfers of \"{dataset}\" to \"{recipient}\"{} follow a schedule, {}: {} of {} expected runs, {} ad-hoc; {}",
                if periodic.subset == "all" { "" } else { " (transfers without a request reference)" },
                periodic.cadence["description"].as_str().unwrap_or(""),
                periodic.matched_slots,
                periodic.expected_slots,
                periodic.ad_hoc,
                if periodic.recipient_declared {
                    "the register allows only punctual communication on request"
                } else {
                    "the register does not declare this recipient at all"
                }
            ),
            Facts::IndividualMonitoring(watch) => {
                let mut what = Vec::new();
                if watch.agents_watched > 0 {
                    what.push(format!("reports on {} individual agent(s)", watch.agents_watched));
                }
                if watch.rankings > 0 {
                    what.push(format!("{} ranking(s) of agents or units", watch.rankings));
                }
                format!(
                    "{} ({events} event(s) over {} month(s)) produced {} from \"{dataset}\", whose purpose \"{}\" allows only aggregated statistics that do not identify agents",
                    text(&f.actor),
                    watch.months_active,
                    what.join(" and "),
                    text(&f.purpose)
                )
            }
            Facts::SmallCell(cells) => format!(
                "{} produced {events} aggregated report(s) from \"{dataset}\" with cells as small as {} agent(s), below the declared minimum of {}",
                text(&f.actor),
                cells.smallest_cell,
                cells.min_group_size
            ),
            Facts::OutsideHabilitation(outside) => format!(
                "{} {} ({events} event(s) on {})",
                text(&f.actor),
                match outside.reason {
                    HabilitationReason::RoleNotAllowed =>
                        "acted in a role that no purpose in force allows on that dataset",
                    HabilitationReason::NeverGranted => "acted in a role never granted to them",
                    HabilitationReason::NotYetGranted => "acted before their habilitation was granted",
                    HabilitationReason::Revoked => "acted after their habilitation was revoked",
                    HabilitationReason::OutOfScope => "acted outside the unit their habilitation covers",
                },
                outside.datasets.join(", ")
            ),
            Facts::StaleHabilitation(stale) => stale_summary(f, stale),
            Facts::RetentionOverrun(overrun) => format!(
                "{events} {} event(s) on \"{dataset}\" used records past their {}-day retention (oldest record {}, up to {} days over)",
                overrun.reason, overrun.retention_days, overrun.oldest_record_date, overrun.largest_excess_days
            ),
            Facts::Integrity(Integrity::DuplicateIds { duplicated_ids, .. }) => format!(
                "{duplicated_ids} event id(s) are used by more than one row across the inputs, first {}",
                f.evidence.first().map(String::as_str).unwrap_or("?")
            ),
            Facts::Integrity(Integrity::Chain { reason, file, first_row, first_message, .. }) => {
                format!("{file}: {events} {reason} problem(s), first at row {first_row}: {first_message}")
            }
        }
    }

    pub fn rule(f: &Finding) -> String {
        let (dataset, recipient) = (text(&f.dataset), text(&f.recipient));
        match &f.facts {
            Facts::RegisterGap(gap) => register_gap(gap),
            Facts::UndeclaredRecipient(undeclared) if undeclared.declared_for.is_empty() => {
                format!("no [[recipient]] entry of \"{}\" declares \"{recipient}\"", undeclared.processing)
            }
            Facts::UndeclaredRecipient(undeclared) => format!(
                "[[recipient]] \"{recipient}\" is declared for {} only, not for \"{dataset}\"",
                list_words(&undeclared.declared_for)
            ),
            Facts::CategoryCreep(creep) => format!(
                "{} declares categories: {}",
                declaration(f, creep),
                if creep.declared.is_empty() { "none".to_string() } else { creep.declared.join(", ") }
            ),
            Facts::PeriodicTransfer(periodic) if periodic.recipient_declared => format!(
                "[[recipient]] \"{recipient}\" for \"{dataset}\": mode = \"on_request\" (punctual communication on request, no schedule)"
            ),
            Facts::PeriodicTransfer(periodic) => {
                format!("no [[recipient]] entry of \"{}\" declares \"{recipient}\"", periodic.processing)
            }
            Facts::IndividualMonitoring(_) => format!(
                "purpose \"{}\": monitoring = \"aggregate_only\"; roles with management = true may not watch one agent",
                text(&f.purpose)
            ),
            Facts::SmallCell(cells) => format!("purpose \"{}\": min_group_size = {}", text(&f.purpose), cells.min_group_size),
            Facts::OutsideHabilitation(OutsideHabilitation {
                reason: HabilitationReason::RoleNotAllowed,
                processing,
                datasets,
                roles,
                ..
            }) => format!(
                "the purposes of \"{processing}\" covering {} do not list role(s) {}",
                datasets.join(", "),
                roles.join(", ")
            ),
            Facts::OutsideHabilitation(_) => {
                "habilitations: an actor acts only within a grant for that role and scope, between granted_at and revoked_at".to_string()
            }
            Facts::StaleHabilitation(stale) => {
                format!("review habilitations at least every {} days; revoke unused ones", stale.review_days())
            }
            Facts::RetentionOverrun(overrun) => {
                format!("[[dataset]] \"{dataset}\": retention_days = {}", overrun.retention_days)
            }
            Facts::Integrity(Integrity::DuplicateIds { .. }) => "event_id is unique within the log (event model)".to_string(),
            Facts::Integrity(Integrity::Chain { .. }) => {
                "a tamper-evident log: every row chained to the previous by SHA-256, no gap, kept at least 183 days"
                    .to_string()
            }
        }
    }

    pub fn legal_ref(f: &Finding) -> String {
        match &f.facts {
            Facts::RegisterGap(_) => "GDPR art. 30 (record of processing activities)".to_string(),
            Facts::UndeclaredRecipient(facts) => facts.legal_ref.clone(),
            Facts::CategoryCreep(facts) => facts.legal_ref.clone(),
            Facts::PeriodicTransfer(facts) => facts.legal_ref.clone(),
            Facts::IndividualMonitoring(facts) => facts.legal_ref.clone(),
            Facts::SmallCell(facts) => facts.legal_ref.clone(),
            Facts::OutsideHabilitation(facts) if facts.reason == HabilitationReason::RoleNotAllowed => {
                facts.legal_ref.clone()
            }
            Facts::OutsideHabilitation(facts) => facts
                .habilitations_sha256
                .as_ref()
                .map(|sha| format!("GDPR art. 32 (access only by authorised persons); habilitations sha256 {sha}"))
                .unwrap_or_default(),
            Facts::StaleHabilitation(_) => {
                "CNIL: permissions removed for users no longer entitled; regular global review of habilitations"
                    .to_string()
            }
            Facts::RetentionOverrun(facts) => facts.legal_ref.clone(),
            Facts::Integrity(_) => {
                "CNIL: security events logged with their integrity preserved for six months (journalisation)"
                    .to_string()
            }
        }
    }

    fn stale_summary(f: &Finding, stale: &StaleHabilitation) -> String {
        let Some((grant, not_reviewed, unused)) = stale.grant() else {
            return format!(
                "none of the {} active habilitations records a review date (by role: {}): no review of habilitations is documented",
                stale.grants(),
                roles_counted(stale)
            );
        };
        let mut said = Vec::new();
        if not_reviewed {
            said.push(match &grant.reviewed_at {
                Some(reviewed) => format!("last reviewed {}", day(reviewed)),
                None => "never reviewed".to_string(),
            });
        }
        if unused {
            said.push("never used in the audit window".to_string());
        }
        format!(
            "{}'s habilitation as {} on {} is still active and {}",
            text(&f.actor),
            grant.role,
            grant.scope,
            said.join(" and ")
        )
    }

    /// Why a register gap's events could not be judged.
    fn register_gap(gap: &RegisterGap) -> String {
        match &gap.gap {
            Gap::Uncovered { processing, from, to } => format!(
                "no version of the register of \"{processing}\" is in force from {} to {}",
                from.as_deref().unwrap_or("the beginning"),
                to.as_deref().unwrap_or("now")
            ),
            Gap::DatasetNotInVersion { dataset, version, version_file } => {
                format!("register version {version} ({version_file}) does not declare dataset \"{dataset}\"")
            }
            Gap::UnknownDataset { dataset } => format!("no register declares dataset \"{dataset}\""),
        }
    }

    /// The declaration a category creep was judged against, named.
    fn declaration(f: &Finding, creep: &CategoryCreep) -> String {
        let dataset = text(&f.dataset);
        match &creep.against {
            Declaration::Recipient => format!("[[recipient]] \"{}\" for \"{dataset}\"", text(&f.recipient)),
            Declaration::Purpose => format!("purpose \"{}\"", text(&f.purpose)),
            Declaration::PurposesCovering(ids) => format!(
                "the purposes covering \"{dataset}\" ({})",
                ids.iter().map(|id| format!("\"{id}\"")).collect::<Vec<_>>().join(", ")
            ),
            Declaration::NoPurpose { processing } => format!("no purpose of \"{processing}\" covering \"{dataset}\""),
        }
    }
}

/// "agent 2, supervisor 1": the active grants per role of a register without reviews.
fn roles_counted(stale: &StaleHabilitation) -> String {
    match stale {
        StaleHabilitation::NoReviewRecorded { roles, .. } => {
            roles.iter().map(|(role, count)| format!("{role} {count}")).collect::<Vec<_>>().join(", ")
        }
        _ => String::new(),
    }
}

/// The date of an RFC 3339 instant.
fn day(instant: &str) -> &str {
    &instant[..10.min(instant.len())]
}

fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("?")
}

/// « a », « b » from a list of text.
fn quoted_list(values: &[String]) -> String {
    values.iter().map(|v| format!("« {v} »")).collect::<Vec<_>>().join(", ")
}

/// The French sentences, with the legal vocabulary of the seed documents.
mod french {
    use super::*;

    pub fn summary(f: &Finding) -> String {
        let (events, dataset, recipient) = (f.events, text(&f.dataset), text(&f.recipient));
        let categories = f.categories.join(", ");
        match &f.facts {
            Facts::RegisterGap(gap) => format!(
                "{events} événement(s) sur {} n'ont pu être confrontés à aucune version du registre des traitements : {}",
                quoted_list(&gap.datasets),
                register_gap(gap)
            ),
            Facts::UndeclaredRecipient(_) => format!(
                "{events} transmission(s) ou extraction(s) du jeu de données « {dataset} » vers « {recipient} », que le registre en vigueur ne déclare pas comme destinataire de ces données"
            ),
            Facts::CategoryCreep(creep) if creep.against == Declaration::Recipient => format!(
                "{events} envoi(s) du jeu de données « {dataset} » à « {recipient} » contenaient des catégories de données non déclarées pour ce destinataire : {categories}"
            ),
            Facts::CategoryCreep(_) => format!(
                "{events} événement(s) sur « {dataset} » portaient sur des catégories de données étrangères à la finalité déclarée{} : {categories}",
                f.purpose.as_ref().map(|p| format!(" « {p} »")).unwrap_or_default()
            ),
            Facts::PeriodicTransfer(periodic) => format!(
                "les transmissions du jeu de données « {dataset} » à « {recipient} » suivent un calendrier ({}) : {} envois au calendrier sur {} attendus, alors que seule une communication ponctuelle sur demande est permise",
                cadence_fr(&periodic.cadence),
                periodic.matched_slots,
                periodic.expected_slots
            ),
            Facts::IndividualMonitoring(watch) => format!(
                "{} a produit {events} rapport(s) sur {} agent(s) nommément, sur {} mois, alors que la finalité « {} » n'autorise que des statistiques agrégées ne permettant pas d'identifier les agents (pas de contrôle individuel)",
                text(&f.actor),
                watch.agents_watched,
                watch.months_active,
                text(&f.purpose)
            ),
            Facts::SmallCell(cells) => format!(
                "{} a produit {events} rapport(s) agrégé(s) dont la plus petite cellule compte {} agent(s), sous le minimum déclaré de {}",
                text(&f.actor),
                cells.smallest_cell,
                cells.min_group_size
            ),
            Facts::OutsideHabilitation(outside) => {
                let reason = match outside.reason {
                    HabilitationReason::RoleNotAllowed => {
                        "dans un rôle qu'aucune finalité en vigueur n'autorise sur ces données"
                    }
                    HabilitationReason::NeverGranted => "sans aucune habilitation pour ce rôle",
                    HabilitationReason::NotYetGranted => "avant l'octroi de son habilitation",
                    HabilitationReason::Revoked => "après le retrait de son habilitation",
                    HabilitationReason::OutOfScope => "hors du périmètre (unité) de son habilitation",
                };
                format!("{} a agi {reason} ({events} événement(s))", text(&f.actor))
            }
            Facts::StaleHabilitation(stale) => stale_summary(f, stale),
            Facts::RetentionOverrun(overrun) => format!(
                "{events} événement(s) « {} » sur « {dataset} » ont utilisé des enregistrements au-delà de leur durée de conservation de {} jours (plus ancien : {}, jusqu'à {} jours de dépassement)",
                overrun.reason, overrun.retention_days, overrun.oldest_record_date, overrun.largest_excess_days
            ),
            Facts::Integrity(Integrity::DuplicateIds { duplicated_ids, .. }) => format!(
                "{duplicated_ids} identifiant(s) d'événement servent à plus d'une ligne des journaux, le premier {}",
                f.evidence.first().map(String::as_str).unwrap_or("?")
            ),
            Facts::Integrity(Integrity::Chain { reason, file, .. }) => {
                format!("{file} : {events} anomalie(s) d'intégrité du journal ({reason})")
            }
        }
    }

    pub fn rule(f: &Finding) -> String {
        let (dataset, recipient) = (text(&f.dataset), text(&f.recipient));
        match &f.facts {
            Facts::RegisterGap(gap) => format!("registre des traitements : {}", register_gap(gap)),
            Facts::UndeclaredRecipient(_) => format!(
                "aucune entrée [[recipient]] du registre en vigueur ne déclare « {recipient} » comme destinataire du jeu de données « {dataset} »"
            ),
            Facts::CategoryCreep(creep) => {
                let declared = if creep.declared.is_empty() { "aucune".to_string() } else { creep.declared.join(", ") };
                match creep.against {
                    Declaration::Recipient => {
                        format!("catégories de données déclarées pour le destinataire « {recipient} » : {declared}")
                    }
                    _ => format!("catégories de données déclarées pour la finalité : {declared}"),
                }
            }
            Facts::PeriodicTransfer(periodic) if !periodic.recipient_declared => {
                format!("le destinataire « {recipient} » n'est pas déclaré : aucune transmission n'est prévue")
            }
            Facts::PeriodicTransfer(_) => format!(
                "le destinataire « {recipient} » est déclaré en mode « sur demande » : communication ponctuelle sur demande, sans calendrier"
            ),
            Facts::IndividualMonitoring(_) => format!(
                "finalité « {} » : statistiques agrégées seulement ; l'encadrement ne peut suivre un agent individuellement",
                text(&f.purpose)
            ),
            Facts::SmallCell(cells) => {
                format!("finalité « {} » : aucune cellule de moins de {} agents", text(&f.purpose), cells.min_group_size)
            }
            Facts::OutsideHabilitation(outside) if outside.reason == HabilitationReason::RoleNotAllowed => {
                "les finalités en vigueur pour ces données n'autorisent pas ce rôle (habilitations par métier)".to_string()
            }
            Facts::OutsideHabilitation(_) => {
                "un acteur n'agit que dans le cadre d'une habilitation pour ce rôle et ce périmètre, entre son octroi et son retrait"
                    .to_string()
            }
            Facts::StaleHabilitation(stale) => format!(
                "revue globale et régulière des habilitations, au moins tous les {} jours ; retrait de celles qui ne sont plus justifiées",
                stale.review_days()
            ),
            Facts::RetentionOverrun(overrun) => {
                format!("[[dataset]] « {dataset} » : durée de conservation de {} jours", overrun.retention_days)
            }
            Facts::Integrity(Integrity::DuplicateIds { .. }) => {
                "chaque identifiant d'événement (event_id) est unique dans le journal".to_string()
            }
            Facts::Integrity(Integrity::Chain { .. }) => {
                "journal à l'intégrité garantie : chaque ligne chaînée à la précédente (SHA-256), sans interruption, conservé au moins six mois"
                    .to_string()
            }
        }
    }

    pub fn legal_ref(f: &Finding) -> String {
        match &f.facts {
            Facts::Integrity(_) => "CNIL : événements de sécurité journalisés, intégrité des traces garantie, conservation six mois (journalisation)".to_string(),
            Facts::RegisterGap(_) => "RGPD, art. 30 (registre des activités de traitement)".to_string(),
            Facts::OutsideHabilitation(outside) if outside.reason != HabilitationReason::RoleNotAllowed => format!(
                "RGPD, art. 32 (accès réservé aux seules personnes habilitées) ; habilitations sha256 {}",
                outside.habilitations_sha256.as_deref().unwrap_or("?")
            ),
            Facts::StaleHabilitation(_) => "CNIL : retrait des habilitations des utilisateurs qui n'y ont plus droit ; revue globale et régulière des habilitations".to_string(),
            // Quoted from the register, as the controller wrote it.
            Facts::UndeclaredRecipient(_)
            | Facts::CategoryCreep(_)
            | Facts::PeriodicTransfer(_)
            | Facts::IndividualMonitoring(_)
            | Facts::SmallCell(_)
            | Facts::OutsideHabilitation(_)
            | Facts::RetentionOverrun(_) => english::legal_ref(f),
        }
    }

    fn stale_summary(f: &Finding, stale: &StaleHabilitation) -> String {
        let Some((grant, not_reviewed, unused)) = stale.grant() else {
            return format!(
                "aucune des {} habilitations actives ne porte de date de revue (par rôle : {}) : aucune revue des habilitations n'est documentée",
                stale.grants(),
                roles_counted(stale)
            );
        };
        let reviewed = match &grant.reviewed_at {
            Some(date) => format!("dernière revue le {}", day(date)),
            None => "jamais revue".to_string(),
        };
        let said = match (not_reviewed, unused) {
            (true, true) => {
                format!("{reviewed} (au-delà de {} jours) et jamais utilisée sur la période", grant.review_days)
            }
            (true, false) => format!("{reviewed} (au-delà de {} jours)", grant.review_days),
            (false, _) => "jamais utilisée sur la période".to_string(),
        };
        format!(
            "l'habilitation de {} ({} sur {}) est toujours active : {said}",
            text(&f.actor),
            grant.role,
            grant.scope
        )
    }

    /// Why a register gap's events could not be judged.
    fn register_gap(gap: &RegisterGap) -> String {
        match &gap.gap {
            Gap::Uncovered { processing, from, to } => format!(
                "aucune version du registre du traitement « {processing} » n'est en vigueur {} {}",
                from.as_ref().map(|d| format!("du {d}")).unwrap_or_else(|| "depuis l'origine".into()),
                to.as_ref().map(|d| format!("au {d}")).unwrap_or_else(|| "jusqu'à ce jour".into())
            ),
            Gap::DatasetNotInVersion { version, version_file, .. } => format!(
                "la version {version} du registre ({version_file}) ne déclare pas le jeu de données {}",
                quoted_list(&gap.datasets)
            ),
            Gap::UnknownDataset { .. } => {
                format!("aucun registre ne déclare le jeu de données {}", quoted_list(&gap.datasets))
            }
        }
    }
}

const JOURS: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];

/// The cadence of a periodic transfer in French, from its machine fields.
/// « une fois par semaine, quel que soit le jour (d'habitude le mardi vers 10:00 …) ».
fn once_per_period_fr(cadence: &Value, at: &str) -> String {
    let anchor_day = cadence["anchor_min"].as_i64().unwrap_or(0) / 1440;
    let weekday = JOURS[anchor_day.rem_euclid(7) as usize];
    match cadence["family"].as_str().unwrap_or("") {
        "once_per_week" => format!("une fois par semaine, quel que soit le jour (d'habitude le {weekday} {at})"),
        "once_per_fortnight" => {
            format!("une fois tous les quinze jours, quel que soit le jour (d'habitude le {weekday} {at})")
        }
        "once_per_month" => {
            format!("une fois par mois, quel que soit le jour (d'habitude le {} {at})", anchor_day + 1)
        }
        _ => format!("tous les {} jours, à quelques heures près ({at})", cadence["days"].as_u64().unwrap_or(0)),
    }
}

fn cadence_fr(cadence: &Value) -> String {
    let at =
        format!("vers {} ({})", cadence["time"].as_str().unwrap_or("?"), cadence["time_base"].as_str().unwrap_or("?"));
    let weekday = cadence["weekday"].as_u64().map(|w| JOURS[w as usize % 7]).unwrap_or("?");
    match cadence["family"].as_str().unwrap_or("") {
        "daily" => format!("chaque jour {at}"),
        "business_day" => format!("chaque jour ouvré {at}"),
        "weekdays" => format!("certains jours de la semaine {at}"),
        "weekly" => format!("chaque {weekday} {at}"),
        "biweekly" => format!("un {weekday} sur deux {at}"),
        "monthly_day" => format!("le {} de chaque mois {at}", cadence["day"].as_u64().unwrap_or(0)),
        "monthly_nth_weekday" => format!("un {weekday} donné de chaque mois {at}"),
        "first_business_day" => format!("le premier jour ouvré de chaque mois {at}"),
        "last_business_day" => format!("le dernier jour ouvré de chaque mois {at}"),
        "fixed" => format!("toutes les {} minutes en heures ouvrées", cadence["period_min"].as_u64().unwrap_or(0)),
        "interval" => format!(
            "toutes les {:.0} minutes environ, sans lien avec l'horloge",
            cadence["period_min"].as_f64().unwrap_or(0.0)
        ),
        "once_per_week" | "once_per_fortnight" | "once_per_month" | "every_days" => once_per_period_fr(cadence, &at),
        _ => cadence["description"].as_str().unwrap_or("").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{FindingDraft, Severity};

    #[test]
    fn french_sentences_use_the_legal_vocabulary() {
        let finding = FindingDraft {
            dataset: Some("follow_ups".into()),
            recipient: Some("moe_platforms".into()),
            events: 47,
            ..Default::default()
        }
        .finish("undeclared_recipient", Severity::High, &[]);
        assert!(summary(Lang::En, &finding).starts_with("47 transfer(s) or export(s) of \"follow_ups\""));
        let french = summary(Lang::Fr, &finding);
        assert!(french.contains("destinataire") && french.contains("« moe_platforms »"), "{french}");
    }

    /// The sentences are composed from the finding's fields as they are written: a pseudonymised
    /// actor is the one the sentence names (no text is searched and replaced).
    #[test]
    fn sentences_name_the_subject_as_written() {
        let mut finding = FindingDraft { actor: Some("alice".into()), events: 3, ..Default::default() }.finish(
            "outside_habilitation",
            Severity::High,
            &[],
        );
        assert!(summary(Lang::En, &finding).starts_with("alice acted in a role never granted"));
        finding.actor = Some("ag-0123".into());
        for lang in [Lang::En, Lang::Fr] {
            assert!(summary(lang, &finding).starts_with("ag-0123 a") && !summary(lang, &finding).contains("alice"));
        }
    }

    /// Every reason a hypothesis is set aside has its French words, composed from its facts (the
    /// periodic chart prints them under its axis).
    #[test]
    fn set_aside_hypotheses_read_in_french() {
        use crate::detect::cadence::SetAside;
        let all = [
            SetAside::EveryRunReferenced,
            SetAside::TooFewLockedDays { days: 3, needed: 5 },
            SetAside::NotPhaseLocked { spread_minutes: 41.6 },
            SetAside::LowOccupancy { matched: 7, expected: 20, needed_percent: 60.0 },
            SetAside::TooFewPeriods { matched: 4, needed: 6 },
            SetAside::WanderingPlace { spread_days: 2.25 },
        ];
        for why in all {
            let rejected = serde_json::json!({"reason": why.english(), "why": why});
            assert_eq!(set_aside(Lang::En, &rejected), why.english());
            let french = set_aside(Lang::Fr, &rejected);
            assert!(french != "hypothèse écartée" && french != why.english(), "{french}");
        }
        let rejected = serde_json::json!({"why": SetAside::TooFewLockedDays { days: 3, needed: 5 }});
        assert!(
            set_aside(Lang::Fr, &rejected).contains("vu sur 3 jour(s)")
                && set_aside(Lang::Fr, &rejected).contains("au moins 5 jours")
        );
    }

    /// Each kind of register gap has its words, from its facts.
    #[test]
    fn register_gaps_read_in_both_languages() {
        use crate::finding::facts;
        let gap = |gap: Gap, datasets: &[&str]| {
            let datasets = datasets.iter().map(|d| d.to_string()).collect();
            FindingDraft { events: 4, ..Default::default() }.finish(
                facts::RegisterGap { gap, datasets },
                Severity::Medium,
                &[],
            )
        };
        let uncovered =
            gap(Gap::Uncovered { processing: "sipsi".into(), from: Some("2022-01-01".into()), to: None }, &["posting"]);
        assert!(summary(Lang::Fr, &uncovered).contains("« sipsi » n'est en vigueur du 2022-01-01 jusqu'à ce jour"));
        assert_eq!(
            summary(Lang::En, &uncovered),
            "4 event(s) on \"posting\" could not be judged: no version of the register of \"sipsi\" is in force from 2022-01-01 to now"
        );
        let missing = gap(
            Gap::DatasetNotInVersion {
                dataset: "hr".into(),
                version: "wikit@2022-03-01".into(),
                version_file: "w.toml".into(),
            },
            &["hr"],
        );
        assert!(
            rule(Lang::Fr, &missing)
                .contains("la version wikit@2022-03-01 du registre (w.toml) ne déclare pas le jeu de données « hr »")
        );
        assert_eq!(
            rule(Lang::En, &missing),
            "register version wikit@2022-03-01 (w.toml) does not declare dataset \"hr\""
        );
        let unknown = gap(Gap::UnknownDataset { dataset: "mystery".into() }, &["mystery"]);
        assert!(rule(Lang::Fr, &unknown).contains("aucun registre ne déclare le jeu de données « mystery »"));
    }

    /// Dates for people, in the report's language and time zone.
    #[test]
    fn instants_read_as_people_write_them() {
        let us = chrono::DateTime::parse_from_rfc3339("2020-06-11T17:43:00Z").unwrap().timestamp_micros();
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(people_time(Lang::En, paris, us), "11 June 2020, 19:43");
        assert_eq!(people_time(Lang::Fr, paris, us), "11 juin 2020, 19 h 43");
        assert_eq!(people_time(Lang::En, chrono_tz::UTC, us), "11 June 2020, 17:43");
    }

    /// The sentences say the review period the audit used (the French said "more than a year"
    /// whatever `--review-days` was), and the one finding for a register without reviews.
    #[test]
    fn stale_habilitation_sentences_follow_the_review_period() {
        use crate::finding::facts::StaleGrant;
        let stale = StaleHabilitation::NotReviewed(StaleGrant {
            role: "agent".into(),
            scope: "*".into(),
            granted_at: "2019-01-01T00:00:00Z".into(),
            reviewed_at: Some("2020-01-15T00:00:00Z".into()),
            review_days: 180,
        });
        let grant = FindingDraft { actor: Some("ag-1".into()), ..Default::default() }.finish(stale, Severity::Low, &[]);
        let french = summary(Lang::Fr, &grant);
        assert!(french.contains("dernière revue le 2020-01-15 (au-delà de 180 jours)"), "{french}");
        assert_eq!(
            summary(Lang::En, &grant),
            "ag-1's habilitation as agent on * is still active and last reviewed 2020-01-15"
        );
        assert!(
            rule(Lang::En, &grant).contains("every 180 days") && rule(Lang::Fr, &grant).contains("tous les 180 jours")
        );
        let roles = [("agent".to_string(), 2), ("supervisor".to_string(), 1)].into_iter().collect();
        let none = StaleHabilitation::NoReviewRecorded { grants: 3, roles, review_days: 365 };
        let register = FindingDraft::default().finish(none, Severity::Medium, &[]);
        let french = summary(Lang::Fr, &register);
        assert!(
            french.starts_with("aucune des 3 habilitations actives") && french.contains("agent 2, supervisor 1"),
            "{french}"
        );
        assert!(
            summary(Lang::En, &register).starts_with(
                "none of the 3 active habilitations records a review date (by role: agent 2, supervisor 1)"
            )
        );
    }

    #[test]
    fn once_per_period_cadences_read_in_french() {
        let at = "vers 10:00 (Europe/Paris)";
        let week = serde_json::json!({"family": "once_per_week", "anchor_min": 1440 + 600, "time": "10:00", "time_base": "Europe/Paris"});
        assert_eq!(
            cadence_fr(&week),
            format!("une fois par semaine, quel que soit le jour (d'habitude le mardi {at})")
        );
        let month = serde_json::json!({"family": "once_per_month", "anchor_min": 1440 + 600, "time": "10:00", "time_base": "Europe/Paris"});
        assert!(
            cadence_fr(&month).contains("une fois par mois") && cadence_fr(&month).contains("le 2 "),
            "{}",
            cadence_fr(&month)
        );
        let every = serde_json::json!({"family": "every_days", "days": 3, "anchor_min": 600, "time": "10:00", "time_base": "Europe/Paris"});
        assert!(cadence_fr(&every).starts_with("tous les 3 jours"), "{}", cadence_fr(&every));
    }
}
