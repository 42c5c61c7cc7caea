import CameraAppModel
import Dispatch
import EfficientFormer
import Foundation
import XCTest

final class FrameGateTests: XCTestCase {
    func testFramesThatArriveWhileOneIsClassifiedAreDroppedNeverQueued() {
        let gate = FrameGate()
        let classificationMayEnd = DispatchSemaphore(value: 0)
        let classified = expectation(description: "classified")
        XCTAssertTrue(gate.tryEnter())
        DispatchQueue(label: "classifying").async {
            classificationMayEnd.wait()
            gate.exit()
            classified.fulfill()
        }
        for frame in 0..<30 { XCTAssertFalse(gate.tryEnter(), "frame \(frame) arrived while one was classified") }
        classificationMayEnd.signal()
        wait(for: [classified], timeout: 10)
        XCTAssertTrue(gate.tryEnter(), "the next frame after the classification ended goes through")
        gate.exit()
        XCTAssertEqual(gate.classifiedFrames, 2)
        XCTAssertEqual(gate.droppedFrames, 30)
    }

    func testOneFrameAtATimeUnderACameraFasterThanTheClassifier() {
        let gate = FrameGate()
        let classifying = DispatchQueue(label: "classifying")
        let running = NSLock()
        var inFlight = 0
        var mostInFlight = 0
        let done = DispatchGroup()
        for _ in 0..<300 {
            if gate.tryEnter() {
                done.enter()
                classifying.async {
                    running.withLock { inFlight += 1; mostInFlight = max(mostInFlight, inFlight) }
                    usleep(1000)
                    running.withLock { inFlight -= 1 }
                    gate.exit()
                    done.leave()
                }
            }
            usleep(100)
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(mostInFlight, 1)
        XCTAssertEqual(gate.classifiedFrames + gate.droppedFrames, 300)
        XCTAssertGreaterThan(gate.droppedFrames, 0)
    }

    func testAPausedGateDropsEveryFrame() {
        let gate = FrameGate()
        gate.setPaused(true)
        XCTAssertFalse(gate.tryEnter())
        gate.setPaused(false)
        XCTAssertTrue(gate.tryEnter())
        gate.exit()
        XCTAssertEqual(gate.droppedFrames, 1)
    }
}

final class FrameTextTests: XCTestCase {
    private let result = Classification(
        top: [Prediction(classIndex: 281, label: "tabby, tabby cat", score: 0.6123),
              Prediction(classIndex: 285, label: "Egyptian cat", score: 0.2),
              Prediction(classIndex: 282, label: "tiger cat", score: 0.05),
              Prediction(classIndex: 1, label: "goldfish", score: 0.01)],
        probabilities: [], logits: [], embedding: nil, precision: Precision.f32)

    func testTop3MillisecondsAndDrops() {
        XCTAssertEqual(frameText(result, milliseconds: 12.345, droppedFrames: 7, untrained: false),
                       " 61.2%  tabby, tabby cat\n 20.0%  Egyptian cat\n  5.0%  tiger cat\n12.3 ms per frame, 7 dropped")
    }

    func testTheUntrainedWarningComesFirst() {
        XCTAssertEqual(frameText(result, milliseconds: 1, droppedFrames: 0, untrained: true).split(separator: "\n").first.map(String.init), untrainedWarning)
    }
}

final class ModelSourceTests: XCTestCase {
    private let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("core/tests/fixtures")

    func testWithoutAModelFileTheEmbeddedUntrainedDefaultRuns() throws {
        let classifier = try openClassifier(candidates: [URL(fileURLWithPath: "/nonexistent/\(modelFileName)")], backend: .cpu)
        XCTAssertTrue(classifier.info.untrained)
        XCTAssertEqual(classifier.info.variant, "s0")
    }

    func testTheFirstModelFileThatExistsIsLoaded() throws {
        let converted = fixtures.appendingPathComponent("tiny/timm_f32.safetensors")
        let classifier = try openClassifier(candidates: [URL(fileURLWithPath: "/nonexistent/\(modelFileName)"), converted], backend: .cpu)
        XCTAssertFalse(classifier.info.untrained)
        XCTAssertEqual(classifier.info.variant, "custom")
        XCTAssertEqual(try classifier.classify(tensor: [Float](repeating: 0, count: 3 * 224 * 224)).first?.top.count, 3)
    }
}
