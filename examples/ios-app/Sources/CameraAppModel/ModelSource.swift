import EfficientFormer
import Foundation

/// The model file the app looks for, produced by `efficientformer convert` (see the README).
public let modelFileName = "model.safetensors"

/// The user's converted model from the first of `candidates` that exists (the app passes its
/// bundled resource, then its Documents directory); without one, the embedded default:
/// seeded, untrained S0 (show `untrainedWarning` when `info.untrained`).
public func openClassifier(candidates: [URL], backend: Backend = .auto) throws(EfficientFormerError) -> Classifier {
    if let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
        return try Classifier(modelURL: url, backend: backend, topK: 3)
    }
    return try Classifier.embeddedDefault(backend: backend, topK: 3)
}
