import EfficientFormer
import Foundation

/// Classifies image files and prints the top-k as `efficientformer classify` does; `--probe`
/// runs the latency probe.
@main
struct EfficientFormerSwift {
    static let usage = """
        usage: efficientformer-swift [--model FILE] [--backend auto|cpu|gpu] [--top K] IMAGE...
               efficientformer-swift --probe [--runs N] [--warmup N] [--variants s0,s1,s2,l] [--backend cpu,gpu]
        """

    static func fail(_ message: String, code: Int32 = 2) -> Never {
        FileHandle.standardError.write("error: \(message)\n".data(using: .utf8)!)
        exit(code)
    }

    static func main() async {
        var options: [String: String] = [:]
        var images: [String] = []
        var probe = false
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--probe": probe = true
            case "--model", "--backend", "--top", "--runs", "--warmup", "--variants":
                guard let value = arguments.next() else { fail("\(argument) needs a value") }
                options[argument] = value
            case "-h", "--help":
                print(usage)
                return
            default:
                if argument.hasPrefix("--") { fail("unknown option \(argument)\n\(usage)") }
                images.append(argument)
            }
        }
        do {
            if probe { try await runProbe(options) } else { try classify(options, images) }
        } catch {
            fail("\(error) (code \(error.code))", code: 1)
        }
    }

    static func classify(_ options: [String: String], _ images: [String]) throws(EfficientFormerError) {
        guard !images.isEmpty else { fail("no images given\n\(usage)") }
        let backends: [String: Backend] = ["auto": .auto, "cpu": .cpu, "gpu": .gpu]
        guard let backend = backends[options["--backend"] ?? "auto"] else { fail("unknown backend \(options["--backend"]!)") }
        let topK = Int(options["--top"] ?? "5") ?? 5
        let classifier: Classifier
        if let path = options["--model"] {
            classifier = try Classifier(modelURL: URL(fileURLWithPath: path), backend: backend, topK: topK)
        } else {
            classifier = try Classifier.embeddedDefault(backend: backend, topK: topK)
        }
        let info = classifier.info
        print("EfficientFormerV2-\(info.variant) on \(info.backend) (\(info.adapter))")
        if let note = info.backendNote { print("  \(note)") }
        if info.untrained { print("  UNTRAINED seeded weights: these predictions are meaningless (pass --model FILE)") }
        for image in images {
            guard let data = FileManager.default.contents(atPath: image) else { fail("cannot read \(image)", code: 1) }
            let result = try classifier.classify(imageData: data)
            print(image)
            for (rank, p) in result.top.enumerated() {
                print("  \(rank + 1). \(String(format: "%6.2f", p.score * 100))%  [\(String(format: "%3d", p.classIndex))] \(p.label)")
            }
        }
    }

    static func runProbe(_ options: [String: String]) async throws(EfficientFormerError) {
        var config = ProbeConfig()
        if let variants = options["--variants"] { config.variants = variants.split(separator: ",").map(String.init) }
        if let backends = options["--backend"] { config.backends = backends.split(separator: ",").map(String.init) }
        if let runs = options["--runs"].flatMap(UInt32.init) { config.runs = runs }
        if let warmup = options["--warmup"].flatMap(UInt32.init) { config.warmup = warmup }
        let report = try await LatencyProbe.run(config)
        print(report.markdown)
        report.skipped.forEach { print("skipped \($0)") }
    }
}
