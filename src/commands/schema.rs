//! `driftwatch schema <events|register|habilitations|findings|source-map|routes|triage>`: prints the
//! JSON Schema.

use crate::cli::SchemaName;

pub fn text(which: SchemaName) -> &'static str {
    match which {
        SchemaName::Events => include_str!("../../schemas/events.schema.json"),
        SchemaName::Register => include_str!("../../schemas/register.schema.json"),
        SchemaName::Habilitations => include_str!("../../schemas/habilitations.schema.json"),
        SchemaName::Findings => include_str!("../../schemas/findings.schema.json"),
        SchemaName::SourceMap => include_str!("../../schemas/source-map.schema.json"),
        SchemaName::Routes => include_str!("../../schemas/routes.schema.json"),
        SchemaName::Triage => include_str!("../../schemas/triage.schema.json"),
    }
}
