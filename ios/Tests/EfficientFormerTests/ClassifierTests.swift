import EfficientFormer
import Foundation
import XCTest

/// The Swift API gives timm's logits, synchronously and asynchronously.
final class ClassifierTests: XCTestCase {
    static let classifier = try! Classifier.embeddedDefault(backend: .cpu)
    var classifier: Classifier { Self.classifier }

    func testEncodedImageGivesTimmLogitsAndTop5() throws {
        let expected = try Fixtures.tensor("classify/logits.safetensors", "s0")
        let result = try classifier.classify(imageData: Fixtures.data("classify/chelsea_235.png"))
        Fixtures.assertClose("embedded default on chelsea_235.png", result.logits, expected, 1e-4)
        XCTAssertEqual(result.top.map { Int($0.classIndex) }, Fixtures.topK(expected, 5))
        XCTAssertEqual(result.probabilities.reduce(0, +), 1, accuracy: 1e-4)
    }

    func testAsyncGivesTheSynchronousResult() async throws {
        let image = try Fixtures.data("classify/chelsea_235.png")
        let expected = try Fixtures.tensor("classify/logits.safetensors", "s0")
        let asynchronous = try await classifier.classify(imageData: image)
        let synchronous = try { [classifier] () throws -> Classification in try classifier.classify(imageData: image) }()
        XCTAssertEqual(asynchronous.logits, synchronous.logits)
        Fixtures.assertClose("async", asynchronous.logits, expected, 1e-4)
        let batch = try await classifier.classify(tensor: Fixtures.tensor(batch: 2, seed: 1), batch: 2)
        XCTAssertEqual(batch.count, 2)
    }

    func testPixelFormatsAndPaddedRowsAgree() throws {
        let (width, height) = (97, 61)
        let rgba = (0..<(width * height * 4)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 7) }
        let reference = try classifier.classify(pixels: Data(rgba), width: width, height: height, rowStride: width * 4, format: .rgba8)
        var bgra = rgba
        for i in stride(from: 0, to: bgra.count, by: 4) { bgra.swapAt(i, i + 2) }
        XCTAssertEqual(try classifier.classify(pixels: Data(bgra), width: width, height: height, rowStride: width * 4, format: .bgra8).logits, reference.logits)
        let rgb = rgba.enumerated().filter { $0.offset % 4 != 3 }.map(\.element)
        XCTAssertEqual(try classifier.classify(pixels: Data(rgb), width: width, height: height, rowStride: width * 3, format: .rgb8).logits, reference.logits)
        let stride = width * 4 + 32
        var padded = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height { padded.replaceSubrange(y * stride..<(y * stride + width * 4), with: rgba[(y * width * 4)..<((y + 1) * width * 4)]) }
        XCTAssertEqual(try classifier.classify(pixels: Data(padded), width: width, height: height, rowStride: stride, format: .rgba8).logits, reference.logits)
    }

    func testInfoAndPrewarm() throws {
        XCTAssertEqual(classifier.info.variant, "s0")
        XCTAssertEqual(classifier.info.parameters, 3_600_256)
        XCTAssertEqual(classifier.info.numClasses, 1000)
        XCTAssertTrue(classifier.info.untrained)
        XCTAssertGreaterThan(try classifier.prewarm(), 0)
    }

    func testModelFileLoadsFromURLAndData() throws {
        let url = Fixtures.url("tiny/timm_f32.safetensors")
        let fromURL = try Classifier(modelURL: url, backend: .cpu)
        let fromData = try Classifier(modelData: Data(contentsOf: url), backend: .cpu)
        XCTAssertEqual(fromURL.info.variant, "custom")
        XCTAssertEqual(fromURL.info.numClasses, 10)
        let input = Fixtures.tensor(batch: 1, seed: 2)
        XCTAssertEqual(try fromURL.classify(tensor: input)[0].logits, try fromData.classify(tensor: input)[0].logits)
    }

    func testEightTasksAgreeWithSequentialCalls() async throws {
        let classifier = self.classifier
        let inputs = (0..<8).map { Fixtures.tensor(batch: 1, seed: $0) }
        let sequential = try inputs.map { try classifier.classify(tensor: $0)[0].logits }
        let concurrent = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (i, input) in inputs.enumerated() {
                group.addTask { (i, try await classifier.classify(tensor: input)[0].logits) }
            }
            var results = [[Float]](repeating: [], count: inputs.count)
            for try await (i, logits) in group { results[i] = logits }
            return results
        }
        XCTAssertEqual(concurrent, sequential)
    }
}
