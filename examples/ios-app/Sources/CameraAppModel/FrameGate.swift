import Foundation

/// Lets one frame at a time through to the classifier and drops the others: the camera
/// delivers frames faster than a phone classifies them, and a queue would only add latency
/// (the answer would describe a scene that is gone). `AVCaptureVideoDataOutput`'s
/// `alwaysDiscardsLateVideoFrames` drops frames while its delegate is busy; the delegate hands
/// frames to a classifying queue so as to return at once, and this gate is what keeps that
/// queue from growing.
///
/// Thread-safe: the capture queue calls `tryEnter`, the classifying queue `exit`.
public final class FrameGate: @unchecked Sendable {
    private let lock = NSLock()
    private var busy = false
    private var paused = false
    private var classified = 0
    private var dropped = 0

    public init() {}

    /// Frames let through.
    public var classifiedFrames: Int { lock.withLock { classified } }

    /// Frames dropped because a classification was running or the gate was paused.
    public var droppedFrames: Int { lock.withLock { dropped } }

    /// True when the caller may classify this frame and must call `exit()` when done; false
    /// when it must let the frame go at once.
    public func tryEnter() -> Bool {
        lock.withLock {
            let entered = !paused && !busy
            if entered { busy = true; classified += 1 } else { dropped += 1 }
            return entered
        }
    }

    /// Ends the classification `tryEnter()` let through.
    public func exit() {
        lock.withLock {
            precondition(busy, "exit() without a successful tryEnter()")
            busy = false
        }
    }

    /// Drops every frame while paused (the latency probe needs the CPU to itself).
    public func setPaused(_ paused: Bool) {
        lock.withLock { self.paused = paused }
    }
}
