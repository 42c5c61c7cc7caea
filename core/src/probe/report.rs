//! The probe report for people (Markdown), machines (JSON, `efficientformer.probe/1`, schema
//! in `core/src/probe/schema.json`), and existing log parsers (TFLite `benchmark_model` lines).

use std::fmt::Write;

use super::ProbeReport;

impl ProbeReport {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serialises")
    }

    /// A Markdown table beside the paper's columns.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let h = &self.host;
        let p = &self.protocol;
        let _ = writeln!(out, "EfficientFormerV2 latency probe: {} {} ({} logical CPUs), batch {}, {} warm-up + {} timed runs\n", h.os, h.arch, h.logical_cpus, p.batch, p.warmup, p.runs);
        out.push_str("| variant | backend | precision | params | toolbox M params | GMACs | paper iPhone 12 ms | mean ms | median | p90 | p99 | min | std | runs/s | load ms | cold ms | peak RSS MB | ratio to S0 | paper ratio |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let l = &r.latency;
            let opt = |v: Option<f64>, digits: usize| v.map_or("–".to_owned(), |v| format!("{v:.digits$}"));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.4} | {:.4} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} | {:.1} | {} | {} | {} |",
                r.variant.to_uppercase(),
                r.backend,
                if r.precision == r.requested_precision { r.precision.to_owned() } else { format!("{} ({} asked)", r.precision, r.requested_precision) },
                r.parameters,
                r.toolbox_parameters as f64 / 1e6,
                r.gmacs,
                opt(r.paper_iphone12_ms, 1),
                l.mean_ms,
                l.median_ms,
                l.p90_ms,
                l.p99_ms,
                l.min_ms,
                l.std_ms,
                l.runs_per_s,
                r.load_ms,
                r.cold_ms,
                opt(r.peak_rss_bytes.map(|b| b as f64 / 1e6), 0),
                opt(r.ratio_to_s0, 2),
                opt(r.paper_ratio_to_s0, 2),
            );
        }
        for r in &self.rows {
            let Some(profile) = &r.profile else { continue };
            let _ = writeln!(out, "\nWhere the time goes: {} on {} in {} (mean per forward pass)\n", r.variant.to_uppercase(), r.backend, r.precision);
            out.push_str("| stage | module | count | ms | share |\n|---|---|---|---|---|\n");
            for e in profile {
                let stage = e.stage.map_or("–".to_owned(), |s| s.to_string());
                let _ = writeln!(out, "| {stage} | {} | {} | {:.3} | {:.1}% |", e.kind, e.count, e.mean_ms, e.share * 100.0);
            }
        }
        for s in &self.skipped {
            let _ = writeln!(out, "\nskipped {} on {}: {}", s.variant, s.backend, s.reason);
        }
        let _ = writeln!(out, "\nPaper: {}.", p.paper);
        out
    }

    /// Lines in the format of TFLite's `benchmark_model` (microseconds), one block per row.
    pub fn to_tflite_summary(&self) -> String {
        let mut out = String::new();
        for r in &self.rows {
            let l = &r.latency;
            let us = |ms: f64| (ms * 1e3).round() as u64;
            let _ = writeln!(out, "Graph: [efficientformerv2_{}] Backend: [{}] Precision: [{}]", r.variant, r.backend, r.precision);
            let _ = writeln!(out, "count={} first={} curr={} min={} max={} avg={:.1} std={}", self.protocol.runs, us(r.cold_ms), us(l.median_ms), us(l.min_ms), us(l.max_ms), l.mean_ms * 1e3, us(l.std_ms));
            let _ = writeln!(out, "Inference timings in us: Init: {}, First inference: {}, Warmup (avg): {}, Inference (avg): {:.1}", us(r.load_ms), us(r.cold_ms), us(l.mean_ms), l.mean_ms * 1e3);
        }
        out
    }
}
