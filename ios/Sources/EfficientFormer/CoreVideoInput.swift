#if canImport(CoreVideo)
import CoreMedia
import CoreVideo
import EfficientFormerBindings
import Foundation

// Written against Apple's documented CoreVideo/CoreMedia API; not built on our Linux machines
// (no CoreVideo there). What it calls underneath, `classify(yuv:)` and `classify(pixels:)`,
// is tested on Linux.

extension Classifier {
    /// Classifies a camera frame: bi-planar YUV ('420f' full range, '420v' video range; the
    /// matrix from the buffer's `kCVImageBufferYCbCrMatrixKey`, BT.601 when absent) or
    /// 32BGRA/32RGBA. `orientation` is the EXIF code of the frame (1 = upright; a portrait
    /// back-camera frame is 6); `regionOfInterest` is in the buffer's pixels.
    public func classify(pixelBuffer: CVPixelBuffer, regionOfInterest: CGRect? = nil, orientation: Int = 1) throws(EfficientFormerError) -> Classification {
        try classify(Self.frame(pixelBuffer), regionOfInterest, orientation)
    }

    /// ``classify(pixelBuffer:regionOfInterest:orientation:)`` off the caller's thread,
    /// cancellable. The planes are copied before it returns to the caller's executor, so the
    /// buffer may be recycled at once.
    public func classify(pixelBuffer: CVPixelBuffer, regionOfInterest: CGRect? = nil, orientation: Int = 1) async throws -> Classification {
        try await classify(Self.frame(pixelBuffer), regionOfInterest, orientation)
    }

    /// Classifies the image of a `CMSampleBuffer` (an `AVCaptureVideoDataOutput` delegate's).
    public func classify(sampleBuffer: CMSampleBuffer, regionOfInterest: CGRect? = nil, orientation: Int = 1) throws(EfficientFormerError) -> Classification {
        try classify(pixelBuffer: Self.imageBuffer(sampleBuffer), regionOfInterest: regionOfInterest, orientation: orientation)
    }

    /// ``classify(sampleBuffer:regionOfInterest:orientation:)`` off the caller's thread, cancellable.
    public func classify(sampleBuffer: CMSampleBuffer, regionOfInterest: CGRect? = nil, orientation: Int = 1) async throws -> Classification {
        try await classify(pixelBuffer: Self.imageBuffer(sampleBuffer), regionOfInterest: regionOfInterest, orientation: orientation)
    }

    private static func imageBuffer(_ sampleBuffer: CMSampleBuffer) throws(EfficientFormerError) -> CVPixelBuffer {
        guard let buffer = CMSampleBufferGetImageBuffer(sampleBuffer) else {
            throw .invalidInput(code: 9, message: "the sample buffer holds no image (audio, or a dropped frame)")
        }
        return buffer
    }

    /// The buffer's planes, copied while it is locked.
    private static func frame(_ buffer: CVPixelBuffer) throws(EfficientFormerError) -> Frame {
        let format = CVPixelBufferGetPixelFormatType(buffer)
        let range: YuvRange
        switch format {
        case kCVPixelFormatType_32BGRA, kCVPixelFormatType_32RGBA:
            return try locked(buffer) { () throws(EfficientFormerError) in
                let (pixels, rowStride) = try plane(buffer, nil)
                let layout: PixelFormat = format == kCVPixelFormatType_32BGRA ? .bgra8 : .rgba8
                return .pixels(pixels, width: CVPixelBufferGetWidth(buffer), height: CVPixelBufferGetHeight(buffer), rowStride: rowStride, format: layout)
            }
        case kCVPixelFormatType_420YpCbCr8BiPlanarFullRange: range = .full
        case kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange: range = .video
        default:
            throw .invalidPixelBuffer(code: 12, message: "unsupported pixel format \(format): use '420f', '420v', 32BGRA or 32RGBA")
        }
        let matrixKey = CVBufferCopyAttachment(buffer, kCVImageBufferYCbCrMatrixKey, nil) as? String
        let matrix: YuvMatrix = matrixKey == (kCVImageBufferYCbCrMatrix_ITU_R_709_2 as String) ? .bt709 : .bt601
        return try locked(buffer) { () throws(EfficientFormerError) in
            let (luma, lumaStride) = try plane(buffer, 0)
            let (chroma, chromaStride) = try plane(buffer, 1)
            return .yuv(YuvFrame(
                y: luma, yRowStride: Int64(lumaStride),
                chroma: .interleaved(data: chroma, rowStride: Int64(chromaStride), vFirst: false),
                width: Int64(CVPixelBufferGetWidth(buffer)), height: Int64(CVPixelBufferGetHeight(buffer)),
                matrix: matrix, range: range
            ))
        }
    }

    private static func locked<T>(_ buffer: CVPixelBuffer, _ body: () throws(EfficientFormerError) -> T) throws(EfficientFormerError) -> T {
        CVPixelBufferLockBaseAddress(buffer, .readOnly)
        defer { CVPixelBufferUnlockBaseAddress(buffer, .readOnly) }
        return try body()
    }

    /// A copy of plane `index` (`nil`: the whole non-planar buffer) and its row stride.
    private static func plane(_ buffer: CVPixelBuffer, _ index: Int?) throws(EfficientFormerError) -> (Data, Int) {
        let base = index.map { CVPixelBufferGetBaseAddressOfPlane(buffer, $0) } ?? CVPixelBufferGetBaseAddress(buffer)
        guard let base else {
            throw .invalidInput(code: 9, message: "the pixel buffer has no CPU-visible memory (lock failed or GPU-only)")
        }
        let rowStride = index.map { CVPixelBufferGetBytesPerRowOfPlane(buffer, $0) } ?? CVPixelBufferGetBytesPerRow(buffer)
        let rows = index.map { CVPixelBufferGetHeightOfPlane(buffer, $0) } ?? CVPixelBufferGetHeight(buffer)
        return (Data(bytes: base, count: rowStride * rows), rowStride)
    }
}
#endif
