import EfficientFormer
import Foundation
import XCTest

/// Bad input throws the matching typed error with the core's stable code.
final class ErrorTests: XCTestCase {
    private func error(_ body: () throws(EfficientFormerError) -> Void) -> EfficientFormerError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    func testCorruptMissingAndForeignModels() throws {
        guard case .invalidModelFile(let code, _)? = error({ () throws(EfficientFormerError) in _ = try Classifier(modelData: Data(repeating: 7, count: 64), backend: .cpu) }) else {
            return XCTFail("corrupt model")
        }
        XCTAssertEqual(code, 2)
        guard case .io(1, _)? = error({ () throws(EfficientFormerError) in _ = try Classifier(modelURL: URL(fileURLWithPath: "/nonexistent.safetensors"), backend: .cpu) }) else {
            return XCTFail("missing file")
        }
        let tiny = Fixtures.url("tiny/timm_f32.safetensors")
        guard case .wrongVariant(8, _)? = error({ () throws(EfficientFormerError) in _ = try Classifier(modelURL: tiny, backend: .cpu, expectedVariant: "s0") }) else {
            return XCTFail("wrong variant")
        }
        guard case .invalidInput(9, _)? = error({ () throws(EfficientFormerError) in _ = try Classifier.embeddedDefault(backend: .cpu, topK: 0) }) else {
            return XCTFail("top-k 0")
        }
    }

    func testBadImagesBuffersAndTensors() throws {
        let classifier = ClassifierTests.classifier
        guard case .invalidImage(11, _)? = error({ () throws(EfficientFormerError) in _ = try classifier.classify(imageData: Data([1, 2, 3])) }) else {
            return XCTFail("bad image")
        }
        let small = Data(count: 100)
        guard case .invalidPixelBuffer(13, _)? = error({ () throws(EfficientFormerError) in _ = try classifier.classify(pixels: small, width: 16, height: 16, rowStride: 64, format: .rgba8) }) else {
            return XCTFail("short buffer")
        }
        let buffer = Data(count: 16 * 16 * 4)
        guard case .invalidPixelBuffer(14, _)? = error({ () throws(EfficientFormerError) in _ = try classifier.classify(pixels: buffer, width: 16, height: 16, rowStride: 32, format: .rgba8) }) else {
            return XCTFail("bad stride")
        }
        guard case .invalidPixelBuffer(14, _)? = error({ () throws(EfficientFormerError) in _ = try classifier.classify(pixels: buffer, width: -1, height: 16, rowStride: 64, format: .rgba8) }) else {
            return XCTFail("negative width")
        }
        guard case .invalidInput(9, _)? = error({ () throws(EfficientFormerError) in _ = try classifier.classify(tensor: [1, 2, 3]) }) else {
            return XCTFail("short tensor")
        }
    }

    func testOverflowingModelThrowsNonFiniteOutput() throws {
        let overflowing = try Classifier(modelURL: Fixtures.url("tiny/overflow_f32.safetensors"), backend: .cpu)
        let photo = try Fixtures.data("classify/chelsea_235.png")
        guard case .nonFiniteOutput(16, _)? = error({ () throws(EfficientFormerError) in _ = try overflowing.classify(imageData: photo) }) else {
            return XCTFail("NaN logits ranked")
        }
    }

    func testAsyncThrowsTheSameErrors() async {
        do {
            _ = try await ClassifierTests.classifier.classify(imageData: Data([0xFF, 0xD8]))
            XCTFail("truncated JPEG")
        } catch let error as EfficientFormerError {
            guard case .invalidImage(11, _) = error else { return XCTFail("\(error)") }
        } catch {
            XCTFail("untyped \(error)")
        }
    }

    func testErrorsReadAsSwiftErrors() {
        let error = EfficientFormerError.invalidImage(code: 11, message: "cannot decode image: truncated")
        XCTAssertEqual(error.localizedDescription, "cannot decode image: truncated")
        XCTAssertEqual(error.code, 11)
        XCTAssertEqual("\(error)", "EfficientFormerError 11: cannot decode image: truncated")
    }

    func testYuvPlanesAndCropsAreChecked() {
        let classifier = ClassifierTests.classifier
        let frame = YuvFrame(
            y: Data(count: 64 * 48), yRowStride: 64, chroma: .interleaved(data: Data(count: 100), rowStride: 64, vFirst: false),
            width: 64, height: 48, matrix: .bt601, range: .full
        )
        guard case .invalidPixelBuffer(18, let message)? = error({ () throws(EfficientFormerError) in _ = try classifier.classify(yuv: frame) }) else {
            return XCTFail("short chroma plane")
        }
        XCTAssertTrue(message.contains("U plane"), message)
        let rgba = Data(count: 16 * 16 * 4)
        let outside = CGRect(x: 10, y: 10, width: 10, height: 4)
        guard case .invalidPixelBuffer(14, _)? = error({ () throws(EfficientFormerError) in
            _ = try classifier.classify(pixels: rgba, width: 16, height: 16, rowStride: 64, format: .rgba8, regionOfInterest: outside)
        }) else {
            return XCTFail("crop outside the buffer")
        }
        guard case .invalidPixelBuffer(14, _)? = error({ () throws(EfficientFormerError) in
            _ = try classifier.classify(pixels: rgba, width: 16, height: 16, rowStride: 64, format: .rgba8, regionOfInterest: .infinite)
        }) else {
            return XCTFail("infinite region")
        }
    }
}
