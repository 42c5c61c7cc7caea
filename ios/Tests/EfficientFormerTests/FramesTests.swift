import EfficientFormer
import Foundation
import XCTest

/// YUV camera frames through UniFFI classify as the RGB image the published BT.601 conversion
/// makes of them (`core/reference/yuv_fixtures.py`), in the layouts iOS ('420f': NV12) and
/// Android (three planes) deliver; a region of interest classifies as the cropped image.
final class FramesTests: XCTestCase {
    var classifier: Classifier { ClassifierTests.classifier }

    struct Photo {
        let width: Int, height: Int
        let y: [UInt8], u: [UInt8], v: [UInt8], rgb: [UInt8]
    }

    func photo() throws -> Photo {
        let name = "yuv/photo.safetensors"
        let (y, shape) = try Fixtures.bytes(name, "y")
        return Photo(width: shape[1], height: shape[0], y: y, u: try Fixtures.bytes(name, "u").0, v: try Fixtures.bytes(name, "v").0, rgb: try Fixtures.bytes(name, "rgb").0)
    }

    func rgbLogits(_ photo: Photo, _ region: CGRect? = nil, _ orientation: Int = 1) throws -> [Float] {
        try classifier.classify(
            pixels: Data(photo.rgb), width: photo.width, height: photo.height, rowStride: photo.width * 3, format: .rgb8,
            regionOfInterest: region, orientation: orientation
        ).logits
    }

    /// NV12 with padded rows, as a '420f' `CVPixelBuffer`'s two planes.
    func nv12(_ photo: Photo) -> YuvFrame {
        let stride = photo.width + 29
        let chromaWidth = (photo.width + 1) / 2, chromaHeight = (photo.height + 1) / 2
        var luma = [UInt8](repeating: 0x55, count: stride * photo.height)
        for row in 0..<photo.height { luma.replaceSubrange(row * stride..<(row * stride + photo.width), with: photo.y[(row * photo.width)..<((row + 1) * photo.width)]) }
        var chroma = [UInt8](repeating: 0x55, count: stride * chromaHeight)
        for row in 0..<chromaHeight {
            for column in 0..<chromaWidth {
                chroma[row * stride + 2 * column] = photo.u[row * chromaWidth + column]
                chroma[row * stride + 2 * column + 1] = photo.v[row * chromaWidth + column]
            }
        }
        return YuvFrame(
            y: Data(luma), yRowStride: Int64(stride), chroma: .interleaved(data: Data(chroma), rowStride: Int64(stride), vFirst: false),
            width: Int64(photo.width), height: Int64(photo.height), matrix: .bt601, range: .full
        )
    }

    func testBiPlanarAndPlanarFramesClassifyAsTheirRgbConversion() throws {
        let photo = try photo()
        let expected = try rgbLogits(photo)
        XCTAssertEqual(try classifier.classify(yuv: nv12(photo)).logits, expected)
        let chromaWidth = Int64((photo.width + 1) / 2)
        let planar = YuvFrame(
            y: Data(photo.y), yRowStride: Int64(photo.width),
            chroma: .planar(u: Data(photo.u), uRowStride: chromaWidth, uPixelStride: 1, v: Data(photo.v), vRowStride: chromaWidth, vPixelStride: 1),
            width: Int64(photo.width), height: Int64(photo.height), matrix: .bt601, range: .full
        )
        XCTAssertEqual(try classifier.classify(yuv: planar).logits, expected)
    }

    func testRegionOfInterestAndOrientation() async throws {
        let photo = try photo()
        let region = CGRect(x: 40.5, y: 20, width: 300, height: 250.2)
        let whole = CGRect(x: 40, y: 20, width: 301, height: 251)
        let expected = try rgbLogits(photo, whole, 6)
        let frame = nv12(photo)
        let result = try await classifier.classify(yuv: frame, regionOfInterest: region, orientation: 6)
        XCTAssertEqual(result.logits, expected)
        XCTAssertNotEqual(try rgbLogits(photo), expected)
    }
}
