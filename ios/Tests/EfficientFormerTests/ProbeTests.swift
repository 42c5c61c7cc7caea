import EfficientFormer
import XCTest

/// A short probe through the Swift API returns a report of the documented shape.
final class ProbeTests: XCTestCase {
    func testShortProbeReportsS0BesideThePaper() async throws {
        let report = try await LatencyProbe.run(ProbeConfig(variants: ["s0"], backends: ["cpu"], warmup: 1, runs: 3, threads: 2))
        XCTAssertEqual(report.rows.count, 1)
        let row = report.rows[0]
        XCTAssertEqual(row.variant, "s0")
        XCTAssertEqual(row.parameters, 3_600_256)
        XCTAssertEqual(row.paperMs, 0.9)
        XCTAssertEqual(row.threads, 2)
        XCTAssertTrue(row.minMs > 0 && row.minMs <= row.medianMs && row.medianMs <= row.p99Ms)
        XCTAssertTrue(report.skipped.isEmpty)
        XCTAssertTrue(report.json.contains("\"rows\""))
        XCTAssertTrue(report.markdown.contains("iPhone 12"))
        XCTAssertTrue(report.tfliteSummary.contains("Inference timings in us"))
    }

    func testTheProbeMeasuresEachPrecisionAskedFor() async throws {
        let config = ProbeConfig(variants: ["s0"], backends: ["cpu"], warmup: 0, runs: 1, precisions: ["f32", "f16"])
        let rows = try await LatencyProbe.run(config).rows
        XCTAssertEqual(rows.map(\.requestedPrecision), ["f32", "f16"])
        XCTAssertEqual(rows[0].precision, "f32")
    }

    func testUnknownVariantThrows() async {
        do {
            _ = try await LatencyProbe.run(ProbeConfig(variants: ["xl"]))
            XCTFail("unknown variant")
        } catch {
            guard case .invalidInput(9, _) = error else { return XCTFail("\(error)") }
        }
    }
}
