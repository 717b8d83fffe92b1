//! The one sentence each finding's section opens with, in the report's language. English is the
//! detector's own `summary` (also in findings.json); French is composed here from the finding's
//! fields and details, with the legal vocabulary of the seed documents (destinataires, finalité,
//! habilitations, durée de conservation, communication ponctuelle sur demande).

use serde_json::Value;

use super::i18n::Lang;
use crate::finding::Finding;

pub fn summary(lang: Lang, finding: &Finding) -> String {
    match lang {
        Lang::En => finding.summary.clone(),
        Lang::Fr => french(finding),
    }
}

/// A periodic finding's cadence in the report's language.
pub fn cadence(lang: Lang, finding: &Finding) -> String {
    cadence_of(lang, detail(finding, "cadence"))
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

/// The declared rule a finding breaks, in the report's language.
pub fn rule(lang: Lang, finding: &Finding) -> String {
    match lang {
        Lang::En => finding.rule.clone(),
        Lang::Fr => french_rule(finding),
    }
}

fn french_rule(f: &Finding) -> String {
    let declared = f.rule.split("declares categories: ").nth(1).unwrap_or("aucune").replace("none", "aucune");
    match f.detector {
        "undeclared_recipient" => format!(
            "aucune entrée [[recipient]] du registre en vigueur ne déclare « {} » comme destinataire du jeu de données « {} »",
            text(&f.recipient),
            text(&f.dataset)
        ),
        "category_creep" if f.recipient.is_some() => {
            format!("catégories de données déclarées pour le destinataire « {} » : {declared}", text(&f.recipient))
        }
        "category_creep" => format!("catégories de données déclarées pour la finalité : {declared}"),
        "periodic_transfer" if f.rule.starts_with("no [[recipient]]") => {
            format!("le destinataire « {} » n'est pas déclaré : aucune transmission n'est prévue", text(&f.recipient))
        }
        "periodic_transfer" => format!(
            "le destinataire « {} » est déclaré en mode « sur demande » : communication ponctuelle sur demande, sans calendrier",
            text(&f.recipient)
        ),
        "individual_monitoring" => format!(
            "finalité « {} » : statistiques agrégées seulement ; l'encadrement ne peut suivre un agent individuellement",
            text(&f.purpose)
        ),
        "small_cell" => format!(
            "finalité « {} » : aucune cellule de moins de {} agents",
            text(&f.purpose),
            detail(f, "min_group_size")
        ),
        "outside_habilitation" if detail(f, "reason").as_str() == Some("role_not_allowed") => {
            "les finalités en vigueur pour ces données n'autorisent pas ce rôle (habilitations par métier)".to_string()
        }
        "outside_habilitation" => {
            "un acteur n'agit que dans le cadre d'une habilitation pour ce rôle et ce périmètre, entre son octroi et son retrait"
                .to_string()
        }
        "stale_habilitation" => {
            "revue globale et régulière des habilitations ; retrait de celles qui ne sont plus justifiées".to_string()
        }
        "retention_overrun" => format!(
            "[[dataset]] « {} » : durée de conservation de {} jours",
            text(&f.dataset),
            detail(f, "retention_days")
        ),
        "integrity" => {
            "journal à l'intégrité garantie : chaque ligne chaînée à la précédente (SHA-256), sans interruption, conservé au moins six mois"
                .to_string()
        }
        "register_gap" => format!("registre des traitements : {}", register_gap_fr(f)),
        _ => f.rule.clone(),
    }
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

/// What would explain a finding away: what an auditor checks next.
pub fn explained_by(lang: Lang, finding: &Finding) -> String {
    let en = lang == Lang::En;
    let pick = |english: &str, french: &str| if en { english.to_string() } else { french.to_string() };
    match finding.detector {
        "register_gap" => pick(
            "a register version in force over these dates that declares the dataset",
            "une version du registre en vigueur à ces dates qui déclare le jeu de données",
        ),
        "undeclared_recipient" => pick(
            "a [[recipient]] entry declaring this recipient for this dataset in the register version in force",
            "une entrée [[recipient]] déclarant ce destinataire pour ce jeu de données dans la version du registre en vigueur",
        ),
        "category_creep" => pick(
            "these categories declared for this recipient or purpose in the register version in force",
            "ces catégories déclarées pour ce destinataire ou cette finalité dans la version du registre en vigueur",
        ),
        "periodic_transfer" => pick(
            "a request reference (request_ref) on each transfer, or the flow declared with mode = \"scheduled\"",
            "une référence de demande (request_ref) sur chaque envoi, ou le flux déclaré en mode « scheduled » (calendrier)",
        ),
        "individual_monitoring" => pick(
            "a declared purpose that allows following agents individually",
            "une finalité déclarée qui autorise le suivi individuel des agents",
        ),
        "small_cell" => pick(
            "cells of at least the declared minimum number of agents",
            "des cellules d'au moins le nombre minimal d'agents déclaré",
        ),
        "outside_habilitation" => pick(
            "a grant for this role and scope in force at the time (habilitations file), or a purpose allowing the role",
            "une habilitation pour ce rôle et ce périmètre en vigueur à ces dates (fichier des habilitations), ou une finalité qui autorise ce rôle",
        ),
        "stale_habilitation" => pick(
            "a review date within the review period, or use of the grant during the audit window",
            "une date de revue dans le délai de revue, ou une utilisation de l'habilitation sur la période auditée",
        ),
        "retention_overrun" => pick(
            "a longer retention declared for the dataset, or a documented legal hold on these records",
            "une durée de conservation plus longue déclarée pour le jeu de données, ou une conservation imposée et documentée",
        ),
        "integrity" => pick(
            "the original log with an unbroken hash chain, or the ids of the rows given twice",
            "le journal d'origine avec une chaîne d'empreintes intacte, ou les identifiants des lignes données deux fois",
        ),
        _ => pick("the register and the habilitations in force", "le registre et les habilitations en vigueur"),
    }
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

/// The legal reference of a finding in the report's language: the detectors' own references are
/// translated; a reference taken from the register is quoted as the controller wrote it.
pub fn legal_ref(lang: Lang, finding: &Finding) -> String {
    if lang == Lang::En {
        return finding.legal_ref.clone();
    }
    match finding.detector {
        "integrity" => "CNIL : événements de sécurité journalisés, intégrité des traces garantie, conservation six mois (journalisation)".to_string(),
        "register_gap" => "RGPD, art. 30 (registre des activités de traitement)".to_string(),
        "outside_habilitation" if detail(finding, "reason").as_str() != Some("role_not_allowed") => format!(
            "RGPD, art. 32 (accès réservé aux seules personnes habilitées) ; habilitations sha256 {}",
            detail(finding, "habilitations_sha256").as_str().unwrap_or("?")
        ),
        "stale_habilitation" => "CNIL : retrait des habilitations des utilisateurs qui n'y ont plus droit ; revue globale et régulière des habilitations".to_string(),
        _ => finding.legal_ref.clone(),
    }
}

/// Why a register gap's events could not be judged, from its facts.
fn register_gap_fr(f: &Finding) -> String {
    let date = |key: &str| detail(f, key).as_str().map(str::to_string);
    match detail(f, "gap").as_str().unwrap_or("") {
        "uncovered" => format!(
            "aucune version du registre du traitement « {} » n'est en vigueur {} {}",
            detail(f, "processing").as_str().unwrap_or("?"),
            date("from").map(|d| format!("du {d}")).unwrap_or_else(|| "depuis l'origine".into()),
            date("to").map(|d| format!("au {d}")).unwrap_or_else(|| "jusqu'à ce jour".into())
        ),
        "dataset_not_in_version" => format!(
            "la version {} du registre ({}) ne déclare pas le jeu de données {}",
            detail(f, "version").as_str().unwrap_or("?"),
            detail(f, "version_file").as_str().unwrap_or("?"),
            quoted_list(detail(f, "datasets"))
        ),
        _ => format!("aucun registre ne déclare le jeu de données {}", quoted_list(detail(f, "datasets"))),
    }
}

/// « a », « b » from a JSON list of text.
fn quoted_list(values: &Value) -> String {
    let items: Vec<String> = values
        .as_array()
        .map(|items| items.iter().filter_map(|v| v.as_str()).map(|v| format!("« {v} »")).collect())
        .unwrap_or_default();
    items.join(", ")
}

fn text<'a>(value: &'a Option<String>) -> &'a str {
    value.as_deref().unwrap_or("?")
}

fn detail<'a>(finding: &'a Finding, key: &str) -> &'a Value {
    finding.details.get(key).unwrap_or(&Value::Null)
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

fn french(f: &Finding) -> String {
    let categories = f.categories.join(", ");
    match f.detector {
        "undeclared_recipient" => format!(
            "{} transmission(s) ou extraction(s) du jeu de données « {} » vers « {} », que le registre en vigueur ne déclare pas comme destinataire de ces données",
            f.events,
            text(&f.dataset),
            text(&f.recipient)
        ),
        "category_creep" if f.recipient.is_some() => format!(
            "{} envoi(s) du jeu de données « {} » à « {} » contenaient des catégories de données non déclarées pour ce destinataire : {categories}",
            f.events,
            text(&f.dataset),
            text(&f.recipient)
        ),
        "category_creep" => format!(
            "{} événement(s) sur « {} » portaient sur des catégories de données étrangères à la finalité déclarée{} : {categories}",
            f.events,
            text(&f.dataset),
            f.purpose.as_ref().map(|p| format!(" « {p} »")).unwrap_or_default()
        ),
        "periodic_transfer" => format!(
            "les transmissions du jeu de données « {} » à « {} » suivent un calendrier ({}) : {} envois attendus sur {}, alors que seule une communication ponctuelle sur demande est permise",
            text(&f.dataset),
            text(&f.recipient),
            cadence_fr(detail(f, "cadence")),
            detail(f, "matched_slots"),
            detail(f, "expected_slots")
        ),
        "individual_monitoring" => format!(
            "{} a produit {} rapport(s) sur {} agent(s) nommément, sur {} mois, alors que la finalité « {} » n'autorise que des statistiques agrégées ne permettant pas d'identifier les agents (pas de contrôle individuel)",
            text(&f.actor),
            f.events,
            detail(f, "agents_watched"),
            detail(f, "months_active"),
            text(&f.purpose)
        ),
        "small_cell" => format!(
            "{} a produit {} rapport(s) agrégé(s) dont la plus petite cellule compte {} agent(s), sous le minimum déclaré de {}",
            text(&f.actor),
            f.events,
            detail(f, "smallest_cell"),
            detail(f, "min_group_size")
        ),
        "outside_habilitation" => {
            let reason = match detail(f, "reason").as_str().unwrap_or("") {
                "role_not_allowed" => "dans un rôle qu'aucune finalité en vigueur n'autorise sur ces données",
                "never_granted" => "sans aucune habilitation pour ce rôle",
                "not_yet_granted" => "avant l'octroi de son habilitation",
                "revoked" => "après le retrait de son habilitation",
                _ => "hors du périmètre (unité) de son habilitation",
            };
            format!("{} a agi {reason} ({} événement(s))", text(&f.actor), f.events)
        }
        "stale_habilitation" if detail(f, "reason").as_str() == Some("no_review_recorded") => {
            let roles: Vec<String> = detail(f, "roles")
                .as_object()
                .map(|roles| roles.iter().map(|(role, count)| format!("{role} {count}")).collect())
                .unwrap_or_default();
            format!(
                "aucune des {} habilitations actives ne porte de date de revue (par rôle : {}) : aucune revue des habilitations n'est documentée",
                detail(f, "grants"),
                roles.join(", ")
            )
        }
        "stale_habilitation" => {
            let reviewed = match detail(f, "reviewed_at").as_str() {
                Some(date) => format!("dernière revue le {}", &date[..10.min(date.len())]),
                None => "jamais revue".to_string(),
            };
            let said = match detail(f, "reason").as_str().unwrap_or("") {
                "not_reviewed+unused" => format!(
                    "{reviewed} (au-delà de {} jours) et jamais utilisée sur la période",
                    detail(f, "review_days")
                ),
                "unused" => "jamais utilisée sur la période".to_string(),
                _ => format!("{reviewed} (au-delà de {} jours)", detail(f, "review_days")),
            };
            format!(
                "l'habilitation de {} ({} sur {}) est toujours active : {said}",
                text(&f.actor),
                detail(f, "role").as_str().unwrap_or("?"),
                detail(f, "scope").as_str().unwrap_or("?")
            )
        }
        "retention_overrun" => format!(
            "{} événement(s) « {} » sur « {} » ont utilisé des enregistrements au-delà de leur durée de conservation de {} jours (plus ancien : {}, jusqu'à {} jours de dépassement)",
            f.events,
            detail(f, "reason").as_str().unwrap_or("?"),
            text(&f.dataset),
            detail(f, "retention_days"),
            detail(f, "oldest_record_date").as_str().unwrap_or("?"),
            detail(f, "largest_excess_days")
        ),
        "integrity" => format!(
            "{} : {} anomalie(s) d'intégrité du journal ({})",
            detail(f, "file").as_str().unwrap_or("?"),
            f.events,
            detail(f, "reason").as_str().unwrap_or("?")
        ),
        "register_gap" => format!(
            "{} événement(s) sur {} n'ont pu être confrontés à aucune version du registre des traitements : {}",
            f.events,
            quoted_list(detail(f, "datasets")),
            register_gap_fr(f)
        ),
        _ => f.summary.clone(),
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
            summary: "english".into(),
            ..Default::default()
        }
        .finish("undeclared_recipient", Severity::High, &[]);
        assert_eq!(summary(Lang::En, &finding), "english");
        let french = summary(Lang::Fr, &finding);
        assert!(french.contains("destinataire") && french.contains("« moe_platforms »"), "{french}");
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

    /// Each kind of register gap has its French words, from its facts.
    #[test]
    fn register_gaps_read_in_french() {
        let gap = |facts: serde_json::Value| {
            let details = facts.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            FindingDraft { events: 4, details, ..Default::default() }.finish("register_gap", Severity::Medium, &[])
        };
        let uncovered = gap(
            serde_json::json!({"gap": "uncovered", "processing": "sipsi", "from": "2022-01-01", "to": null, "datasets": ["posting"]}),
        );
        assert!(summary(Lang::Fr, &uncovered).contains("« sipsi » n'est en vigueur du 2022-01-01 jusqu'à ce jour"));
        let missing = gap(
            serde_json::json!({"gap": "dataset_not_in_version", "version": "wikit@2022-03-01", "version_file": "w.toml", "datasets": ["hr"]}),
        );
        assert!(
            rule(Lang::Fr, &missing)
                .contains("la version wikit@2022-03-01 du registre (w.toml) ne déclare pas le jeu de données « hr »")
        );
        let unknown = gap(serde_json::json!({"gap": "unknown_dataset", "datasets": ["mystery"]}));
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

    /// The French sentence says the review period the audit used (it said "more than a year"
    /// whatever `--review-days` was), and the one finding for a register without reviews.
    #[test]
    fn stale_habilitation_sentences_follow_the_review_period() {
        let mut details = std::collections::BTreeMap::new();
        details.insert("reason".to_string(), serde_json::json!("not_reviewed"));
        details.insert("role".to_string(), serde_json::json!("agent"));
        details.insert("scope".to_string(), serde_json::json!("*"));
        details.insert("reviewed_at".to_string(), serde_json::json!("2020-01-15T00:00:00Z"));
        details.insert("review_days".to_string(), serde_json::json!(180));
        let grant = FindingDraft { actor: Some("ag-1".into()), details, ..Default::default() }.finish(
            "stale_habilitation",
            Severity::Low,
            &[],
        );
        let french = summary(Lang::Fr, &grant);
        assert!(french.contains("dernière revue le 2020-01-15 (au-delà de 180 jours)"), "{french}");
        let mut details = std::collections::BTreeMap::new();
        details.insert("reason".to_string(), serde_json::json!("no_review_recorded"));
        details.insert("grants".to_string(), serde_json::json!(3));
        details.insert("roles".to_string(), serde_json::json!({"agent": 2, "supervisor": 1}));
        let register =
            FindingDraft { details, ..Default::default() }.finish("stale_habilitation", Severity::Medium, &[]);
        let french = summary(Lang::Fr, &register);
        assert!(
            french.starts_with("aucune des 3 habilitations actives") && french.contains("agent 2, supervisor 1"),
            "{french}"
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
