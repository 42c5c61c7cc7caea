#if canImport(UIKit)
import UIKit

// Written against Apple's documented UIKit API; not built on our Linux machines.

extension Classifier {
    /// Classifies a `UIImage`, honouring its `imageOrientation`; `regionOfInterest` is in the
    /// pixels of its `cgImage`, before orientation.
    public func classify(image: UIImage, regionOfInterest: CGRect? = nil) throws(EfficientFormerError) -> Classification {
        try classify(cgImage: Self.cgImage(image), regionOfInterest: regionOfInterest, orientation: Self.exifOrientation(image.imageOrientation))
    }

    /// ``classify(image:regionOfInterest:)`` off the caller's thread, cancellable.
    public func classify(image: UIImage, regionOfInterest: CGRect? = nil) async throws -> Classification {
        try await classify(cgImage: Self.cgImage(image), regionOfInterest: regionOfInterest, orientation: Self.exifOrientation(image.imageOrientation))
    }

    private static func cgImage(_ image: UIImage) throws(EfficientFormerError) -> CGImage {
        guard let cgImage = image.cgImage else {
            throw .invalidImage(code: 11, message: "the UIImage has no CGImage (CIImage-backed images are not supported)")
        }
        return cgImage
    }

    private static func exifOrientation(_ orientation: UIImage.Orientation) -> Int {
        switch orientation {
        case .up: return 1
        case .upMirrored: return 2
        case .down: return 3
        case .downMirrored: return 4
        case .leftMirrored: return 5
        case .right: return 6
        case .rightMirrored: return 7
        case .left: return 8
        @unknown default: return 1
        }
    }
}
#endif
