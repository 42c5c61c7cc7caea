import EfficientFormer
import Foundation

/// Shown above the results while the embedded default model runs (the CLI's warning).
public let untrainedWarning =
    "UNTRAINED seeded weights: these predictions are meaningless (convert a checkpoint, see the README)"

/// The overlay's text for one classified frame: the top-3 classes with their probabilities,
/// then the milliseconds the classification took and the frames dropped so far.
public func frameText(_ result: Classification, milliseconds: Double, droppedFrames: Int, untrained: Bool) -> String {
    var lines = untrained ? [untrainedWarning] : []
    for prediction in result.top.prefix(3) {
        let percent = String(format: "%5.1f%%", locale: Locale(identifier: "en_US_POSIX"), Double(prediction.score) * 100)
        lines.append("\(percent)  \(prediction.label)")
    }
    lines.append(String(format: "%.1f ms per frame, %ld dropped", locale: Locale(identifier: "en_US_POSIX"), milliseconds, droppedFrames))
    return lines.joined(separator: "\n")
}
