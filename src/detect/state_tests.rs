//! Detector state is data: the shipped sample cut into random partitions — rows dealt at random,
//! so flows, actors and hash chains straddle them — each scanned by its own scanners (its own
//! dictionaries, as another process would have), saved to JSON text and read back, then
//! absorbed in a random order into fresh scanners: the findings equal one scan over the whole
//! log, for every detector. `DRIFTWATCH_STATE_CASES` sets how many random cuts (default 6).

use std::collections::BTreeMap;
use std::path::PathBuf;

use polars::prelude::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng, seq::SliceRandom};

use super::chunk::{Chunk, Judge};
use super::{Context, Scanners, Settings};
use crate::finding::Finding;
use crate::register::{RegisterSet, habilitations::Habilitations};

struct Sample {
    register: RegisterSet,
    habilitations: Habilitations,
    input_files: Vec<String>,
    chunks: Vec<DataFrame>,
}

fn sample() -> &'static Sample {
    static SAMPLE: std::sync::OnceLock<Sample> = std::sync::OnceLock::new();
    SAMPLE.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-data");
        let register = crate::register::load(&crate::register::discover(&[root.join("register")]).unwrap()).unwrap();
        let habilitations = crate::register::habilitations::load(&root.join("habilitations.csv")).unwrap();
        let maps = crate::ingest::source_map::SourceMaps::load(&[], None).unwrap();
        let inputs = crate::ingest::discover(&[root.join("events")], &maps).unwrap();
        let input_files = inputs.iter().map(|input| input.path.display().to_string()).collect();
        let mut chunks = Vec::new();
        crate::ingest::stream(&inputs, &maps, true, 3000, |chunk| {
            chunks.push(chunk);
            Ok(())
        })
        .unwrap();
        Sample { register, habilitations, input_files, chunks }
    })
}

fn context(sample: &Sample, saving_state: bool) -> Context<'_> {
    Context {
        register: &sample.register,
        habilitations: Some(&sample.habilitations),
        settings: Settings { saving_state, ..Settings::default() },
        input_files: &sample.input_files,
    }
}

/// Scans `chunks` with fresh scanners (and fresh dictionaries).
fn scanned(context: &Context, chunks: &[DataFrame]) -> Scanners {
    let mut judge = Judge::new(context.register);
    let mut scanners = Scanners::new(&super::all());
    for events in chunks.iter().filter(|chunk| chunk.height() > 0) {
        let (events, codes) = judge.judge(events.clone()).unwrap();
        scanners.scan(context, &Chunk { events: &events, codes: &codes, dictionaries: &judge.dictionaries }).unwrap();
    }
    scanners
}

fn one_scan() -> &'static Vec<Finding> {
    static FINDINGS: std::sync::OnceLock<Vec<Finding>> = std::sync::OnceLock::new();
    FINDINGS.get_or_init(|| {
        let sample = sample();
        let context = context(sample, false);
        scanned(&context, &sample.chunks).finish(&context).unwrap()
    })
}

/// The sample's rows dealt into `parts` partitions by a seeded generator.
fn dealt(sample: &Sample, parts: usize, seed: u64) -> Vec<Vec<DataFrame>> {
    let mut random = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut partitions = vec![Vec::new(); parts];
    for chunk in &sample.chunks {
        let owner: Vec<usize> = (0..chunk.height()).map(|_| random.gen_range(0..parts)).collect();
        for (part, partition) in partitions.iter_mut().enumerate() {
            let mask: BooleanChunked = owner.iter().map(|&o| o == part).collect();
            partition.push(chunk.filter(&mask).unwrap());
        }
    }
    partitions
}

fn cases() -> u32 {
    std::env::var("DRIFTWATCH_STATE_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn partitions_scanned_apart_and_merged_give_the_findings_of_one_scan(parts in 2usize..=4, seed in any::<u64>()) {
        let sample = sample();
        let saving = context(sample, true);
        let mut states: Vec<BTreeMap<String, Box<super::state::Saved>>> = dealt(sample, parts, seed)
            .iter()
            .map(|chunks| {
                let saved = scanned(&saving, chunks).save(&saving);
                // Through text, as a state file would carry it.
                serde_json::from_str(&serde_json::to_string(&saved).unwrap()).unwrap()
            })
            .collect();
        states.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed.rotate_left(17)));
        let merging = context(sample, false);
        let mut merged = Scanners::new(&super::all());
        for state in states {
            merged.absorb(&merging, state).unwrap();
        }
        let findings = merged.finish(&merging).unwrap();
        let expected = one_scan();
        prop_assert_eq!(findings.len(), expected.len());
        for (found, wanted) in findings.iter().zip(expected) {
            prop_assert_eq!(found, wanted, "{} differs after the merge", wanted.detector);
        }
    }
}

/// A state saved twice gives the same bytes (maps in key order, evidence sorted).
#[test]
fn a_saved_state_is_the_same_bytes_every_time() {
    let sample = sample();
    let saving = context(sample, true);
    let once = serde_json::to_string(&scanned(&saving, &sample.chunks).save(&saving)).unwrap();
    let again = serde_json::to_string(&scanned(&saving, &sample.chunks).save(&saving)).unwrap();
    assert_eq!(once, again);
    assert!(super::all().iter().all(|d| once.contains(&format!("\"{}\"", d.name()))));
}
