#if canImport(UIKit)
import UIKit

extension Classifier {
    /// Classifies a `UIImage`, honouring its `imageOrientation`.
    public func classify(image: UIImage) throws(EfficientFormerError) -> Classification {
        guard let cgImage = image.cgImage else {
            throw .InvalidImage(code: 11, message: "the UIImage has no CGImage (CIImage-backed images are not supported)")
        }
        return try classify(cgImage: cgImage, orientation: Self.exifOrientation(image.imageOrientation))
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
