//! The NLU text path: any UTF-8 text through the whole pipeline (L0 patterns,
//! L1 intent, L2 slots with Italian dates and numbers, L3 FAQ search) of the
//! demo salon, at a fixed "now". It must never panic.
#![no_main]

use std::sync::OnceLock;

use fluxion::seed::SeedData;
use fluxion_core::booking::Vertical;
use fluxion_core::nlu::{Pipeline, PipelineConfig};
use libfuzzer_sys::fuzz_target;

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| {
        let seed = SeedData::demo(Vertical::Salone).expect("demo seed");
        Pipeline::new(Vertical::Salone, &seed.services(), &seed.operators(), &seed.faqs(), PipelineConfig::default()).expect("pipeline")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let now = jiff::civil::date(2027, 3, 10).at(10, 0, 0, 0);
    let _ = pipeline().parse(text, now);
});
