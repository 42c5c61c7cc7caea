import EfficientFormer
import EfficientFormerBindings
import Foundation
import XCTest

/// Labels, the score threshold, the embedding (against timm) and cooperative cancellation.
final class OptionsTests: XCTestCase {
    func testEmbeddingIsTimmsPooledFeatures() throws {
        let classifier = try Classifier.embeddedDefault(backend: .cpu, embedding: true)
        let result = try classifier.classify(imageData: Fixtures.data("classify/chelsea_235.png"))
        let embedding = try XCTUnwrap(result.embedding)
        Fixtures.assertClose("S0 embedding", embedding, try Fixtures.tensor("classify/logits.safetensors", "s0_embedding"), 1e-4)
        XCTAssertNil(try ClassifierTests.classifier.classify(imageData: Fixtures.data("classify/chelsea_235.png")).embedding)
    }

    func testF16ReportsThePrecisionThatRan() throws {
        let photo = try Fixtures.data("classify/chelsea_235.png")
        let half = try Classifier.embeddedDefault(backend: .cpu, precision: .f16)
        let result = try half.classify(imageData: photo)
        XCTAssertEqual(result.precision, half.info.precision)
        let tolerance: Float = result.precision == .f16 ? 1e-2 : 1e-4
        Fixtures.assertClose("S0 logits", result.logits, try Fixtures.tensor("classify/logits.safetensors", "s0"), tolerance)
        XCTAssertEqual(try ClassifierTests.classifier.classify(imageData: photo).precision, .f32)
    }

    func testLabelsAndThreshold() throws {
        let names = (0..<1000).map { "thing \($0)" }
        let photo = try Fixtures.data("classify/chelsea_235.png")
        let named = try Classifier.embeddedDefault(backend: .cpu, topK: 1000, labels: names).classify(imageData: photo)
        XCTAssertTrue(named.top.allSatisfy { $0.label == "thing \($0.classIndex)" })
        let threshold = named.top[2].score
        let kept = try Classifier.embeddedDefault(backend: .cpu, topK: 1000, scoreThreshold: threshold).classify(imageData: photo).top
        XCTAssertEqual(kept.count, named.top.filter { $0.score >= threshold }.count)
        XCTAssertThrowsError(try Classifier.embeddedDefault(backend: .cpu, labels: ["one"]))
    }

    func testACancelledTaskThrowsCancellationError() async throws {
        let classifier = ClassifierTests.classifier
        let photo = try Fixtures.data("classify/chelsea_235.png")
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await classifier.classify(imageData: photo)
        }
        do {
            _ = try await task.value
            XCTFail("a cancelled task classified")
        } catch is CancellationError {
        } catch {
            XCTFail("expected CancellationError, got \(error)")
        }
        let after = try await classifier.classify(imageData: photo)
        XCTAssertEqual(after.logits.count, 1000, "the classifier still works")
    }

    /// What a cancelled `Task` does underneath: its token reaches the core, which stops with
    /// the Cancelled error (code 17) the async layer turns into `CancellationError`.
    func testACancelledTokenStopsTheNativeCall() throws {
        let native = try NativeClassifier.embeddedDefault(config: ClassifierConfig(backend: .cpu))
        let token = CancellationToken()
        token.cancel()
        XCTAssertTrue(token.isCancelled())
        let photo = try Fixtures.data("classify/chelsea_235.png")
        XCTAssertThrowsError(try native.classifyEncoded(bytes: photo, cancel: token)) { error in
            guard case NativeError.Cancelled(17, _) = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try native.classifyEncoded(bytes: photo, cancel: CancellationToken()).logits.count, 1000)
    }
}
