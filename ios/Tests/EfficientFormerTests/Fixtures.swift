import Foundation
import XCTest

/// The Rust tests' fixtures (`core/tests/fixtures`, written by `core/reference/*.py` from
/// timm), read here so the Swift tests compare against the same PyTorch outputs.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("core/tests/fixtures")

    static func url(_ name: String) -> URL { root.appendingPathComponent(name) }

    static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

    /// One tensor of a safetensors file (8-byte header length, JSON header, data): its bytes
    /// and shape, checked to be of `dtype`.
    static func raw(_ name: String, _ key: String, _ dtype: String) throws -> ([UInt8], [Int]) {
        let bytes = [UInt8](try data(name))
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as! [String: Any]
        let entry = header[key] as! [String: Any]
        XCTAssertEqual(entry["dtype"] as? String, dtype)
        let offsets = entry["data_offsets"] as! [Int]
        return (Array(bytes[(8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1])]), entry["shape"] as! [Int])
    }

    /// One U8 tensor and its shape.
    static func bytes(_ name: String, _ key: String) throws -> ([UInt8], [Int]) {
        try raw(name, key, "U8")
    }

    /// One F32 tensor.
    static func tensor(_ name: String, _ key: String) throws -> [Float] {
        let (bytes, _) = try raw(name, key, "F32")
        return (0..<(bytes.count / 4)).map { i in
            let o = 4 * i
            return Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
        }
    }

    /// Indices of the `k` largest values, largest first.
    static func topK(_ values: [Float], _ k: Int) -> [Int] {
        Array(values.indices.sorted { values[$0] > values[$1] }.prefix(k))
    }

    /// |actual - expected| <= tolerance * max(1, |expected|) everywhere (the Rust tests' rule).
    static func assertClose(_ what: String, _ actual: [Float], _ expected: [Float], _ tolerance: Float,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(what): length", file: file, line: line)
        let worst = zip(actual, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): worst scaled difference \(worst)", file: file, line: line)
    }

    /// A deterministic `[batch, 3, 224, 224]` input.
    static func tensor(batch: Int, seed: Int) -> [Float] {
        (0..<(batch * 3 * 224 * 224)).map { Float(($0 * (seed + 3)) % 29) / 29 - 0.5 }
    }
}
