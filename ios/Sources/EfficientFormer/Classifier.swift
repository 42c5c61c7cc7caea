import EfficientFormerBindings
import Foundation

/// One ranked class: ImageNet-1k index, label, softmax probability.
public typealias Prediction = EfficientFormerBindings.Prediction
/// The result for one image: `top` (best first), `probabilities`, raw `logits`.
public typealias Classification = EfficientFormerBindings.Classification
/// What a loaded classifier runs (variant, backend, adapter, parameters, GMACs, ...).
public typealias ModelInfo = EfficientFormerBindings.ModelInfo
/// Memory layout of 8-bit pixels (`.bgra8` is `kCVPixelFormatType_32BGRA`).
public typealias PixelFormat = EfficientFormerBindings.PixelFormat
/// Where inference runs: `.auto` (Metal when usable, else the CPU), `.cpu`, `.gpu`.
public typealias Backend = EfficientFormerBindings.ComputeBackend

/// One loaded EfficientFormerV2 network (arXiv 2212.08059) on one device.
///
/// Thread-safe: share one instance across tasks; calls run concurrently. The synchronous
/// methods block the caller; the `async` ones run on a global dispatch queue.
public final class Classifier: @unchecked Sendable {
    private let native: NativeClassifier

    /// What this classifier runs.
    public let info: ModelInfo

    private init(_ native: NativeClassifier) {
        self.native = native
        self.info = native.info()
    }

    private static func config(_ backend: Backend, _ topK: Int, _ cpuThreads: Int?, _ expectedVariant: String?, _ gpuCacheDirectory: URL?) -> ClassifierConfig {
        ClassifierConfig(
            backend: backend,
            cpuThreads: cpuThreads.map { UInt32(clamping: $0) },
            topK: UInt32(clamping: topK),
            gpuCacheDir: gpuCacheDirectory?.path,
            expectedVariant: expectedVariant
        )
    }

    /// Loads a model file: SDK or timm safetensors, or an official `.pth` checkpoint.
    ///
    /// - Parameters:
    ///   - expectedVariant: throw `.WrongVariant` unless the file holds this variant (`"s0"`...).
    ///   - gpuCacheDirectory: where the GPU runtime keeps its kernel cache (your caches directory).
    public convenience init(
        modelURL: URL, backend: Backend = .auto, topK: Int = 5, cpuThreads: Int? = nil,
        expectedVariant: String? = nil, gpuCacheDirectory: URL? = nil
    ) throws(EfficientFormerError) {
        let config = Self.config(backend, topK, cpuThreads, expectedVariant, gpuCacheDirectory)
        self.init(try ffiCall { try NativeClassifier.fromPath(path: modelURL.path, config: config) })
    }

    /// Loads a model held in memory (an asset), in any format `init(modelURL:)` reads.
    public convenience init(
        modelData: Data, backend: Backend = .auto, topK: Int = 5, cpuThreads: Int? = nil,
        expectedVariant: String? = nil, gpuCacheDirectory: URL? = nil
    ) throws(EfficientFormerError) {
        let config = Self.config(backend, topK, cpuThreads, expectedVariant, gpuCacheDirectory)
        self.init(try ffiCall { try NativeClassifier.fromBytes(bytes: modelData, config: config) })
    }

    /// The embedded EfficientFormerV2-S0 with seeded, untrained weights: real latency,
    /// meaningless predictions (`info.untrained` is true).
    public static func embeddedDefault(
        backend: Backend = .auto, topK: Int = 5, cpuThreads: Int? = nil, gpuCacheDirectory: URL? = nil
    ) throws(EfficientFormerError) -> Classifier {
        let config = config(backend, topK, cpuThreads, nil, gpuCacheDirectory)
        return Classifier(try ffiCall { try NativeClassifier.embeddedDefault(config: config) })
    }

    /// Runs one untimed inference so the first real call is not the slow one; returns its
    /// milliseconds.
    @discardableResult
    public func prewarm() throws(EfficientFormerError) -> Double {
        try ffiCall { try native.prewarm() }
    }

    /// Classifies encoded image bytes (JPEG, PNG, WebP; EXIF orientation applied).
    public func classify(imageData: Data) throws(EfficientFormerError) -> Classification {
        try ffiCall { try native.classifyEncoded(bytes: imageData) }
    }

    /// Classifies 8-bit pixels read in place: `rowStride` bytes per row, `orientation` an EXIF
    /// code (1 = upright).
    public func classify(
        pixels: Data, width: Int, height: Int, rowStride: Int, format: PixelFormat, orientation: Int = 1
    ) throws(EfficientFormerError) -> Classification {
        try ffiCall {
            try native.classifyPixels(
                pixels: pixels, width: Int64(width), height: Int64(height), rowStride: Int64(rowStride),
                format: format, orientation: Int64(orientation)
            )
        }
    }

    /// Classifies `batch` preprocessed images: `[batch, 3, 224, 224]` normalised floats.
    public func classify(tensor: [Float], batch: Int = 1) throws(EfficientFormerError) -> [Classification] {
        try ffiCall { try native.classifyTensor(values: tensor, batch: UInt32(clamping: batch)) }
    }

    /// ``classify(imageData:)`` off the caller's thread.
    public func classify(imageData: Data) async throws(EfficientFormerError) -> Classification {
        try await offload { () throws(EfficientFormerError) in try self.classify(imageData: imageData) }
    }

    /// ``classify(pixels:width:height:rowStride:format:orientation:)`` off the caller's thread.
    public func classify(
        pixels: Data, width: Int, height: Int, rowStride: Int, format: PixelFormat, orientation: Int = 1
    ) async throws(EfficientFormerError) -> Classification {
        try await offload { () throws(EfficientFormerError) in
            try self.classify(pixels: pixels, width: width, height: height, rowStride: rowStride, format: format, orientation: orientation)
        }
    }

    /// ``classify(tensor:batch:)`` off the caller's thread.
    public func classify(tensor: [Float], batch: Int = 1) async throws(EfficientFormerError) -> [Classification] {
        try await offload { () throws(EfficientFormerError) in try self.classify(tensor: tensor, batch: batch) }
    }
}
