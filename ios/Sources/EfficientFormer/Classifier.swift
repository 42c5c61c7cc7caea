import EfficientFormerBindings
import Foundation

/// One ranked class: index, label, softmax probability.
public typealias Prediction = EfficientFormerBindings.Prediction
/// The result for one image: `top` (best first), `probabilities`, raw `logits`, and the pooled
/// features (`embedding`) when the classifier was built with `embedding: true`.
public typealias Classification = EfficientFormerBindings.Classification
/// What a loaded classifier runs (variant, backend, adapter, parameters, GMACs, ...).
public typealias ModelInfo = EfficientFormerBindings.ModelInfo
/// Memory layout of 8-bit pixels (`.bgra8` is `kCVPixelFormatType_32BGRA`).
public typealias PixelFormat = EfficientFormerBindings.PixelFormat
/// Where inference runs: `.auto` (Metal when usable, else the CPU), `.cpu`, `.gpu`.
public typealias Backend = EfficientFormerBindings.ComputeBackend
/// The arithmetic a classifier runs in: `.f16` on a CPU with half precision or a GPU that stores
/// it (every Apple GPU), else `.f32`.
public typealias Precision = EfficientFormerBindings.ComputePrecision
/// A YUV 4:2:0 frame: luma planes and chroma (`.interleaved` for NV12/NV21, `.planar` for
/// I420 and three-plane layouts), with its colour `matrix` and `range`.
public typealias YuvFrame = EfficientFormerBindings.YuvFrame
/// Where a ``YuvFrame``'s chroma lies.
public typealias YuvChroma = EfficientFormerBindings.YuvChroma
/// YUV colour matrix: `.bt601` (SD, JPEG) or `.bt709` (HD; iOS camera formats from 720p).
public typealias YuvMatrix = EfficientFormerBindings.YuvMatrix
/// YUV code range: `.full` ('420f') or `.video` ('420v', luma 16-235).
public typealias YuvRange = EfficientFormerBindings.YuvRange

/// One loaded EfficientFormerV2 network (arXiv 2212.08059) on one device.
///
/// Thread-safe: share one instance across tasks; calls run concurrently. The synchronous
/// methods block the caller and throw ``EfficientFormerError``; the `async` ones run on a
/// global dispatch queue, and a cancelled `Task` stops the network at its next stage boundary
/// and throws `CancellationError`.
///
/// `regionOfInterest` is a rectangle in the input's pixels (origin top-left, before
/// `orientation` is applied); only it is converted and classified.
public final class Classifier: @unchecked Sendable {
    private let native: NativeClassifier

    /// What this classifier runs.
    public let info: ModelInfo

    private init(_ native: NativeClassifier) {
        self.native = native
        self.info = native.info()
    }

    private static func config(
        _ backend: Backend, _ topK: Int, _ scoreThreshold: Float, _ labels: [String]?, _ embedding: Bool,
        _ cpuThreads: Int?, _ expectedVariant: String?, _ gpuCacheDirectory: URL?, _ precision: Precision
    ) -> ClassifierConfig {
        ClassifierConfig(
            backend: backend,
            cpuThreads: cpuThreads.map { UInt32(clamping: $0) },
            topK: UInt32(clamping: topK),
            scoreThreshold: scoreThreshold,
            labels: labels,
            embedding: embedding,
            gpuCacheDir: gpuCacheDirectory?.path,
            expectedVariant: expectedVariant,
            precision: precision
        )
    }

    /// Loads a model file: SDK or timm safetensors, or an official `.pth` checkpoint.
    ///
    /// - Parameters:
    ///   - topK: most classes per result; `scoreThreshold`: least probability of one (0-1).
    ///   - labels: one name per class (default: the names the SDK file carries, else ImageNet-1k).
    ///   - embedding: also return the pooled features before the classifier.
    ///   - expectedVariant: throw `.wrongVariant` unless the file holds this variant (`"s0"`...).
    ///   - gpuCacheDirectory: where the GPU runtime keeps its kernel cache (your caches directory).
    ///   - precision: `.f16` runs in half precision on a CPU that has it (A11 and later) and
    ///     stores `f16` on the GPU (Metal), `.f32` elsewhere; `info.precision` and each
    ///     result's `precision` say which ran.
    public convenience init(
        modelURL: URL, backend: Backend = .auto, topK: Int = 5, scoreThreshold: Float = 0, labels: [String]? = nil,
        embedding: Bool = false, cpuThreads: Int? = nil, expectedVariant: String? = nil, gpuCacheDirectory: URL? = nil,
        precision: Precision = .f32
    ) throws(EfficientFormerError) {
        let config = Self.config(
            backend, topK, scoreThreshold, labels, embedding, cpuThreads, expectedVariant, gpuCacheDirectory, precision
        )
        self.init(try ffiCall { try NativeClassifier.fromPath(path: modelURL.path, config: config) })
    }

    /// Loads a model held in memory (an asset), in any format `init(modelURL:)` reads.
    public convenience init(
        modelData: Data, backend: Backend = .auto, topK: Int = 5, scoreThreshold: Float = 0, labels: [String]? = nil,
        embedding: Bool = false, cpuThreads: Int? = nil, expectedVariant: String? = nil, gpuCacheDirectory: URL? = nil,
        precision: Precision = .f32
    ) throws(EfficientFormerError) {
        let config = Self.config(
            backend, topK, scoreThreshold, labels, embedding, cpuThreads, expectedVariant, gpuCacheDirectory, precision
        )
        self.init(try ffiCall { try NativeClassifier.fromBytes(bytes: modelData, config: config) })
    }

    /// The embedded EfficientFormerV2-S0 with seeded, untrained weights: real latency,
    /// meaningless predictions (`info.untrained` is true).
    public static func embeddedDefault(
        backend: Backend = .auto, topK: Int = 5, scoreThreshold: Float = 0, labels: [String]? = nil, embedding: Bool = false,
        cpuThreads: Int? = nil, gpuCacheDirectory: URL? = nil, precision: Precision = .f32
    ) throws(EfficientFormerError) -> Classifier {
        let config = config(backend, topK, scoreThreshold, labels, embedding, cpuThreads, nil, gpuCacheDirectory, precision)
        return Classifier(try ffiCall { try NativeClassifier.embeddedDefault(config: config) })
    }

    /// Runs one untimed inference so the first real call is not the slow one; returns its
    /// milliseconds.
    @discardableResult
    public func prewarm() throws(EfficientFormerError) -> Double {
        try ffiCall { try native.prewarm() }
    }

    /// ``prewarm()`` off the caller's thread (an app's launch path).
    @discardableResult
    public func prewarm() async throws(EfficientFormerError) -> Double {
        try await offload { () throws(EfficientFormerError) in try self.prewarm() }
    }

    /// Classifies encoded image bytes (JPEG, PNG, WebP; EXIF orientation applied).
    public func classify(imageData: Data) throws(EfficientFormerError) -> Classification {
        try ffiCall { try native.classifyEncoded(bytes: imageData, cancel: nil) }
    }

    /// ``classify(imageData:)`` off the caller's thread, cancellable.
    public func classify(imageData: Data) async throws -> Classification {
        try await cancellable { [native] token in try native.classifyEncoded(bytes: imageData, cancel: token) }
    }

    /// Classifies 8-bit pixels: `rowStride` bytes per row, `orientation` an EXIF code
    /// (1 = upright).
    public func classify(
        pixels: Data, width: Int, height: Int, rowStride: Int, format: PixelFormat,
        regionOfInterest: CGRect? = nil, orientation: Int = 1
    ) throws(EfficientFormerError) -> Classification {
        let frame = Frame.pixels(pixels, width: width, height: height, rowStride: rowStride, format: format)
        return try ffiCall { try frame.classify(native, cropRect(regionOfInterest), orientation, nil) }
    }

    /// ``classify(pixels:width:height:rowStride:format:regionOfInterest:orientation:)`` off the
    /// caller's thread, cancellable.
    public func classify(
        pixels: Data, width: Int, height: Int, rowStride: Int, format: PixelFormat,
        regionOfInterest: CGRect? = nil, orientation: Int = 1
    ) async throws -> Classification {
        try await classify(Frame.pixels(pixels, width: width, height: height, rowStride: rowStride, format: format), regionOfInterest, orientation)
    }

    /// Classifies a YUV 4:2:0 frame (NV12, NV21, I420, or three planes with their own strides).
    public func classify(yuv: YuvFrame, regionOfInterest: CGRect? = nil, orientation: Int = 1) throws(EfficientFormerError) -> Classification {
        try ffiCall { try Frame.yuv(yuv).classify(native, cropRect(regionOfInterest), orientation, nil) }
    }

    /// ``classify(yuv:regionOfInterest:orientation:)`` off the caller's thread, cancellable.
    public func classify(yuv: YuvFrame, regionOfInterest: CGRect? = nil, orientation: Int = 1) async throws -> Classification {
        try await classify(Frame.yuv(yuv), regionOfInterest, orientation)
    }

    /// Classifies `batch` preprocessed images: `[batch, 3, 224, 224]` normalised floats.
    public func classify(tensor: [Float], batch: Int = 1) throws(EfficientFormerError) -> [Classification] {
        try ffiCall { try native.classifyTensor(values: tensor, batch: UInt32(clamping: batch)) }
    }

    /// ``classify(tensor:batch:)`` off the caller's thread.
    public func classify(tensor: [Float], batch: Int = 1) async throws(EfficientFormerError) -> [Classification] {
        try await offload { () throws(EfficientFormerError) in try self.classify(tensor: tensor, batch: batch) }
    }

    /// Classifies a frame already copied out of its buffer (the CoreVideo and CoreGraphics
    /// conveniences), synchronously.
    func classify(_ frame: Frame, _ regionOfInterest: CGRect?, _ orientation: Int) throws(EfficientFormerError) -> Classification {
        try ffiCall { try frame.classify(native, cropRect(regionOfInterest), orientation, nil) }
    }

    /// Classifies a frame off the caller's thread, cancellable.
    func classify(_ frame: Frame, _ regionOfInterest: CGRect?, _ orientation: Int) async throws -> Classification {
        let crop = cropRect(regionOfInterest)
        return try await cancellable { [native] token in try frame.classify(native, crop, orientation, token) }
    }
}

/// Raw pixels in one of the forms the core reads.
enum Frame: Sendable {
    case pixels(Data, width: Int, height: Int, rowStride: Int, format: PixelFormat)
    case yuv(YuvFrame)

    func classify(_ native: NativeClassifier, _ crop: CropRect?, _ orientation: Int, _ token: CancellationToken?) throws -> Classification {
        switch self {
        case let .pixels(data, width, height, rowStride, format):
            return try native.classifyPixels(
                pixels: data, width: Int64(width), height: Int64(height), rowStride: Int64(rowStride), format: format,
                crop: crop, orientation: Int64(orientation), cancel: token
            )
        case let .yuv(frame):
            return try native.classifyYuv(frame: frame, crop: crop, orientation: Int64(orientation), cancel: token)
        }
    }
}

/// A region of interest as whole pixels: the smallest integral rectangle holding it. A
/// rectangle that is not finite becomes an invalid one, which the core refuses with
/// `.invalidPixelBuffer`.
func cropRect(_ rect: CGRect?) -> CropRect? {
    guard let rect = rect?.standardized.integral else { return nil }
    let whole = { (value: CGFloat) in Int64(exactly: value) ?? -1 }
    return CropRect(x: whole(rect.minX), y: whole(rect.minY), width: whole(rect.width), height: whole(rect.height))
}
