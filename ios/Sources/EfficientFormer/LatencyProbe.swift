import EfficientFormerBindings

/// What the probe measures; `ProbeConfig()` is the paper's protocol (50 warm-up runs, the mean
/// of 500 timed runs, batch 1) over S0, S1, S2 and L on the CPU and the GPU.
public typealias ProbeConfig = EfficientFormerBindings.ProbeConfig
/// The probe's result: rows, skipped combinations, and JSON / Markdown / TFLite-style renderings.
public typealias ProbeReport = EfficientFormerBindings.ProbeReport
/// One variant on one backend (milliseconds; `paperMs` is the paper's iPhone 12 Core ML figure).
public typealias ProbeRow = EfficientFormerBindings.ProbeRow

/// The latency probe: the paper's iPhone 12 table (Table 1) measured on this device.
public enum LatencyProbe {
    /// Runs the probe off the caller's thread; takes as long as the protocol does.
    public static func run(_ config: ProbeConfig = ProbeConfig()) async throws(EfficientFormerError) -> ProbeReport {
        try await offload { () throws(EfficientFormerError) in try ffiCall { try runProbe(config: config) } }
    }
}

/// The SDK's version (the Rust crates').
public var sdkVersion: String { EfficientFormerBindings.sdkVersion() }
