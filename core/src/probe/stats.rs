//! Latency statistics of one probe run.

use std::time::Duration;

/// Summary of the timed runs, milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LatencyStats {
    /// Mean (the paper's statistic).
    pub mean_ms: f64,
    /// Median.
    pub median_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Fastest run.
    pub min_ms: f64,
    /// Slowest run.
    pub max_ms: f64,
    /// Standard deviation.
    pub std_ms: f64,
    /// Runs per second (`1000 / mean`).
    pub runs_per_s: f64,
}

impl LatencyStats {
    /// Statistics of `times` (nearest-rank percentiles); `None` when empty.
    pub fn from_durations(times: &[Duration]) -> Option<LatencyStats> {
        if times.is_empty() {
            return None;
        }
        let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let n = ms.len() as f64;
        let mean = ms.iter().sum::<f64>() / n;
        let variance = ms.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let rank = |p: f64| ms[((p * n).ceil() as usize).clamp(1, ms.len()) - 1];
        Some(LatencyStats {
            mean_ms: mean,
            median_ms: rank(0.5),
            p90_ms: rank(0.9),
            p99_ms: rank(0.99),
            min_ms: ms[0],
            max_ms: ms[ms.len() - 1],
            std_ms: variance.sqrt(),
            runs_per_s: 1e3 / mean,
        })
    }
}

/// Peak resident memory of this process in bytes, where the platform reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the struct it is given and touches nothing else.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0;
    if !ok {
        return None;
    }
    // SAFETY: initialised by the successful call above.
    let max_rss = unsafe { usage.assume_init() }.ru_maxrss as u64;
    // Linux and Android report kilobytes; Apple platforms bytes.
    Some(if cfg!(target_vendor = "apple") { max_rss } else { max_rss * 1024 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let times: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = LatencyStats::from_durations(&times).unwrap();
        assert_eq!((s.median_ms, s.p90_ms, s.p99_ms, s.min_ms, s.max_ms), (50.0, 90.0, 99.0, 1.0, 100.0));
        assert!((s.mean_ms - 50.5).abs() < 1e-9);
        assert!(LatencyStats::from_durations(&[]).is_none());
    }
}
