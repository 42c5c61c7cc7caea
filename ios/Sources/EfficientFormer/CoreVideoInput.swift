#if canImport(CoreVideo)
import CoreVideo
import Foundation

extension Classifier {
    /// Classifies a camera frame in place (no copy): `kCVPixelFormatType_32BGRA` or
    /// `kCVPixelFormatType_32RGBA` buffers. `orientation` is the EXIF code of the frame
    /// (1 = upright; a portrait back-camera frame is 6).
    public func classify(pixelBuffer: CVPixelBuffer, orientation: Int = 1) throws(EfficientFormerError) -> Classification {
        let format: PixelFormat
        switch CVPixelBufferGetPixelFormatType(pixelBuffer) {
        case kCVPixelFormatType_32BGRA: format = .bgra8
        case kCVPixelFormatType_32RGBA: format = .rgba8
        case let other:
            throw .InvalidPixelBuffer(code: 12, message: "unsupported pixel format \(other): use 32BGRA or 32RGBA")
        }
        CVPixelBufferLockBaseAddress(pixelBuffer, .readOnly)
        defer { CVPixelBufferUnlockBaseAddress(pixelBuffer, .readOnly) }
        guard let base = CVPixelBufferGetBaseAddress(pixelBuffer) else {
            throw .InvalidPixelBuffer(code: 13, message: "the pixel buffer has no CPU-visible memory")
        }
        let rowStride = CVPixelBufferGetBytesPerRow(pixelBuffer)
        let height = CVPixelBufferGetHeight(pixelBuffer)
        let pixels = Data(bytesNoCopy: base, count: rowStride * height, deallocator: .none)
        return try classify(
            pixels: pixels, width: CVPixelBufferGetWidth(pixelBuffer), height: height,
            rowStride: rowStride, format: format, orientation: orientation
        )
    }
}
#endif
