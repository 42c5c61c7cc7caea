#if canImport(CoreGraphics)
import CoreGraphics
import Foundation

// Written against Apple's documented CoreGraphics API; not built on our Linux machines.

extension Classifier {
    /// Classifies a `CGImage` of any format: it is drawn once into an RGBA8 buffer
    /// (premultiplied alpha over black, as a JPEG decoder would see an opaque photo).
    public func classify(cgImage: CGImage, regionOfInterest: CGRect? = nil, orientation: Int = 1) throws(EfficientFormerError) -> Classification {
        try classify(Self.frame(cgImage), regionOfInterest, orientation)
    }

    /// ``classify(cgImage:regionOfInterest:orientation:)`` off the caller's thread, cancellable.
    public func classify(cgImage: CGImage, regionOfInterest: CGRect? = nil, orientation: Int = 1) async throws -> Classification {
        try await classify(Self.frame(cgImage), regionOfInterest, orientation)
    }

    private static func frame(_ cgImage: CGImage) throws(EfficientFormerError) -> Frame {
        let width = cgImage.width, height = cgImage.height, rowStride = width * 4
        var pixels = Data(count: rowStride * height)
        let drawn = pixels.withUnsafeMutableBytes { buffer -> Bool in
            guard let context = CGContext(
                data: buffer.baseAddress, width: width, height: height, bitsPerComponent: 8, bytesPerRow: rowStride,
                space: CGColorSpace(name: CGColorSpace.sRGB)!, bitmapInfo: CGImageAlphaInfo.premultipliedLast.rawValue
            ) else { return false }
            context.draw(cgImage, in: CGRect(x: 0, y: 0, width: width, height: height))
            return true
        }
        guard drawn else {
            throw .invalidImage(code: 11, message: "cannot draw a \(width)x\(height) CGImage into an RGBA buffer")
        }
        return .pixels(pixels, width: width, height: height, rowStride: rowStride, format: .rgba8)
    }
}
#endif
