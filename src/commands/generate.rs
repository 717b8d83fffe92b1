//! `driftwatch generate`: writes a seeded scenario for tests, benchmarks and the sample data.

use crate::cli::GenerateArgs;
use crate::error::Result;

pub fn run(args: &GenerateArgs) -> Result<()> {
    let report = crate::generate::generate(args.scenario, args.events, args.seed, args.format, &args.out)?;
    eprintln!(
        "generated {} events ({}), {} expected finding(s) in {}",
        report.events,
        args.scenario.name(),
        report.expected_findings,
        args.out.join("truth.json").display()
    );
    Ok(())
}
