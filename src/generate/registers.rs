//! The registers the scenarios are judged against, written as a controller would: one file per
//! version, with the legal texts of the seed documents.

pub const WIKIT_V1: &str = r#"# Wiki'T, as authorised by the CNIL on 2015-10-06 (seed 000, seed 001).
processing    = "wikit"
title         = "Wiki'T — labour inspection activity"
in_force_from = "2015-10-06"
in_force_until = "2022-03-01"
recorded_at   = "2015-10-06"
legal_ref     = "CNIL deliberation of 2015-10-06 (Wiki'T): recipients limited to the labour inspection system"

[[dataset]]
id = "follow_ups"
title = "Follow-up decisions of inspections (suites à intervention)"
retention_days = 1825

[[dataset]]
id = "inspections"
retention_days = 1825

[[dataset]]
id = "activity_reports"
title = "Activity statistics"

[[role]]
id = "agent"

[[role]]
id = "unit_head"
management = true

[[role]]
id = "regional_director"
management = true

[[role]]
id = "central_staff"

[[role]]
id = "batch"

[[purpose]]
id = "inspection"
datasets   = ["follow_ups", "inspections"]
roles      = ["agent", "unit_head", "regional_director", "central_staff", "batch"]
categories = ["identity", "employer", "worksite", "penal_follow_up", "administrative_sanction", "observation_letter", "work_stoppage", "declared_activity"]
legal_ref  = "CNIL deliberation of 2015-10-06, purposes"

[[purpose]]
id = "activity_statistics"
datasets   = ["activity_reports"]
roles      = ["agent", "unit_head", "regional_director"]
categories = ["activity_counts"]
monitoring = "aggregate_only"
min_group_size = 5
legal_ref  = "CNIL deliberation of 2015-10-06: aggregated statistics that do not identify agents; not for individual control"

[[recipient]]
id         = "prefecture_work_permits"
title      = "Prefecture, on request (CESEDA L.811-3)"
datasets   = ["follow_ups"]
categories = ["declared_activity"]
mode       = "on_request"
legal_ref  = "CESEDA L.811-3, L.811-4, R.811-5"
"#;

/// From 2022-03-01 the ministry declares the work-permit platforms, for what it told the CTM
/// (penal follow-ups and administrative sanctions) — not observation letters or stoppages.
pub fn wikit_v2() -> String {
    WIKIT_V1
        .replace(
            "in_force_from = \"2015-10-06\"\nin_force_until = \"2022-03-01\"\nrecorded_at   = \"2015-10-06\"",
            "in_force_from = \"2022-03-01\"\nrecorded_at   = \"2022-02-15\"",
        )
        .replace(
            "# Wiki'T, as authorised by the CNIL on 2015-10-06 (seed 000, seed 001).",
            "# Wiki'T after the declaration of the MOE platforms (2022-03-01).",
        )
        + r#"
[[recipient]]
id         = "moe_platforms"
title      = "Interior ministry work-permit platforms (plateformes MOE), on request"
datasets   = ["follow_ups"]
categories = ["identity", "declared_activity", "penal_follow_up", "administrative_sanction"]
mode       = "on_request"
legal_ref  = "CESEDA L.811-3, L.811-4 (sur demande, de manière ponctuelle), R.811-5"
"#
}

const SIPSI_BODY: &str = r#"
[[dataset]]
id = "posting_declarations"
title = "Posted-worker declarations"
retention_days = 1825

[[role]]
id = "instructor"

[[role]]
id = "controller"

[[role]]
id = "batch"

[[purpose]]
id = "posting_control"
datasets   = ["posting_declarations"]
roles      = ["instructor", "controller", "batch"]
categories = ["identity", "birth", "nationality", "employer", "service_address", "service_dates", "posting_details"]
legal_ref  = "Décret n° 2016-1044 du 29 juillet 2016"

[[recipient]]
id         = "ucf_ci_btp"
title      = "Construction-worker card system (SI-CIP)"
datasets   = ["posting_declarations"]
categories = ["identity", "birth", "nationality", "employer", "service_address", "service_dates"]
mode       = "scheduled"
legal_ref  = "Code du travail R.8293-2; CNIL opinion on SIPSI–SI-CIP interoperability"
"#;

pub fn sipsi_v1() -> String {
    format!(
        "# SIPSI (seed 002), first declaration.\nprocessing = \"sipsi\"\ntitle = \"SIPSI posted-worker declarations\"\nin_force_from = \"2017-05-19\"\nin_force_until = \"2022-01-01\"\nlegal_ref = \"CNIL opinion on the SIPSI–SI-CIP interoperability\"\n{SIPSI_BODY}"
    )
}

/// The renewed declaration only came into force a month after the first lapsed: a gap.
pub fn sipsi_v2() -> String {
    format!(
        "# SIPSI (seed 002), renewed declaration.\nprocessing = \"sipsi\"\ntitle = \"SIPSI posted-worker declarations\"\nin_force_from = \"2022-02-01\"\nlegal_ref = \"CNIL opinion on the SIPSI–SI-CIP interoperability (renewed)\"\n{SIPSI_BODY}"
    )
}

pub const SOCIAL: &str = r#"# Departmental social service files (seed 003).
processing    = "social_service"
title         = "Social service intervention files (DIS)"
in_force_from = "2009-05-01"
legal_ref     = "CNIL recommendations to the departmental social service"

[[dataset]]
id = "social_files"
retention_days = 1825

[[role]]
id = "social_worker"

[[role]]
id = "secretary"

[[role]]
id = "manager"
management = true

[[purpose]]
id = "social_support"
datasets   = ["social_files"]
roles      = ["social_worker"]
categories = ["identity", "contact", "household", "social_situation", "support_plan"]
legal_ref  = "CNIL: habilitations by profession; no systematic NIR; no subjective appraisals"
"#;

pub const IMILO: &str = r#"# I-Milo, youth employment follow-up (seed 004).
processing    = "imilo"
title         = "I-Milo — missions locales youth follow-up"
in_force_from = "2015-01-01"
legal_ref     = "Declaration of the I-Milo processing (missions locales)"

[[dataset]]
id = "youth_files"
retention_days = 1825

[[role]]
id = "counsellor"

[[role]]
id = "reception"

[[purpose]]
id = "youth_support"
datasets   = ["youth_files"]
roles      = ["counsellor", "reception"]
categories = ["identity", "contact", "education", "employment_path", "support_actions"]
legal_ref  = "Code du travail L.5314-2 (missions locales); registration on a declarative basis"
"#;
