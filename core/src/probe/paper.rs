//! The paper's iPhone 12 table (arXiv 2212.08059, official README), measured with Core ML on
//! the Neural Engine (compute units "all"), which burn cannot use: the probe reproduces the
//! parameter and MAC columns exactly and lays its own latency beside the paper's.

use crate::config::Variant;

/// One row of the paper's table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperRow {
    /// Variant.
    pub variant: Variant,
    /// Parameters as printed (millions).
    pub params_m: f64,
    /// GMACs as printed.
    pub gmacs: f64,
    /// iPhone 12 latency, ms (Core ML, Neural Engine).
    pub iphone12_ms: f64,
    /// ImageNet-1k top-1, 450 epochs.
    pub top1: f64,
}

/// The four rows, S0 first.
pub const PAPER_TABLE: [PaperRow; 4] = [
    PaperRow { variant: Variant::S0, params_m: 3.5, gmacs: 0.40, iphone12_ms: 0.9, top1: 76.2 },
    PaperRow { variant: Variant::S1, params_m: 6.1, gmacs: 0.65, iphone12_ms: 1.1, top1: 79.7 },
    PaperRow { variant: Variant::S2, params_m: 12.6, gmacs: 1.25, iphone12_ms: 1.6, top1: 82.0 },
    PaperRow { variant: Variant::L, params_m: 26.1, gmacs: 2.56, iphone12_ms: 2.7, top1: 83.5 },
];

/// The paper's row for `variant`.
pub fn row(variant: Variant) -> Option<PaperRow> {
    PAPER_TABLE.into_iter().find(|r| r.variant == variant)
}

/// How the paper measured, for every report to say.
pub const PAPER_PROTOCOL: &str = "iPhone 12, iOS 16, Core ML (coremltools 5.2) on CPU+GPU+Neural Engine, batch 1, 224x224; burn cannot use the Neural Engine, so milliseconds are not expected to match, ratios between variants are comparable";
