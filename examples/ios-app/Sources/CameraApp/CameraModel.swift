import AVFoundation
import CameraAppModel
import EfficientFormer
import Foundation

/// The capture session and the classifier: '420f' frames from the back camera, one at a time
/// through `FrameGate` to a classifying queue, the overlay's text published on the main queue.
final class CameraModel: NSObject, ObservableObject, AVCaptureVideoDataOutputSampleBufferDelegate, @unchecked Sendable {
    @Published var overlay = "Loading the model…"
    @Published var probeTable: String?
    @Published var probeRunning = false

    let session = AVCaptureSession()
    private let gate = FrameGate()
    private let captureQueue = DispatchQueue(label: "capture")
    private let classifyingQueue = DispatchQueue(label: "classifying")
    private var classifier: Classifier?
    private var started = false

    /// Loads the model and starts the camera, once.
    func start() {
        guard !started else { return }
        started = true
        classifyingQueue.async { [self] in
            let documents = FileManager.default.urls(for: .documentDirectory, in: .userDomainMask).first
            let candidates = [Bundle.module.url(forResource: "model", withExtension: "safetensors"),
                              documents?.appendingPathComponent(modelFileName)].compactMap { $0 }
            do {
                let loaded = try openClassifier(candidates: candidates)
                classifier = loaded
                publish(loaded.info.untrained ? untrainedWarning : "EfficientFormerV2-\(loaded.info.variant.uppercased())")
            } catch {
                publish("Could not load the model: \(error.localizedDescription)")
            }
        }
        AVCaptureDevice.requestAccess(for: .video) { [self] granted in
            guard granted else { return publish("The camera permission is needed to classify frames.") }
            captureQueue.async { [self] in configureAndRun() }
        }
    }

    private func configureAndRun() {
        guard let camera = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: .back),
              let input = try? AVCaptureDeviceInput(device: camera) else { return publish("No back camera") }
        let output = AVCaptureVideoDataOutput()
        output.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_420YpCbCr8BiPlanarFullRange]
        output.alwaysDiscardsLateVideoFrames = true
        output.setSampleBufferDelegate(self, queue: captureQueue)
        session.beginConfiguration()
        session.sessionPreset = .vga640x480
        if session.canAddInput(input) { session.addInput(input) }
        if session.canAddOutput(output) { session.addOutput(output) }
        session.commitConfiguration()
        session.startRunning()
    }

    /// On the capture queue: classify this frame if none is running, else drop it. Portrait
    /// with the back camera: the sensor's frames need a quarter turn clockwise (EXIF 6).
    func captureOutput(_ output: AVCaptureOutput, didOutput sampleBuffer: CMSampleBuffer, from connection: AVCaptureConnection) {
        guard let classifier, gate.tryEnter() else { return }
        classifyingQueue.async { [self] in
            defer { gate.exit() }
            let start = DispatchTime.now()
            do {
                let result = try classifier.classify(sampleBuffer: sampleBuffer, orientation: 6)
                let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
                publish(frameText(result, milliseconds: milliseconds, droppedFrames: gate.droppedFrames, untrained: classifier.info.untrained))
            } catch {
                publish("Classification failed: \(error.localizedDescription)")
            }
        }
    }

    /// The paper's protocol (50 warm-up runs, the mean of 500; S0 to L; CPU and GPU), frames
    /// dropped meanwhile.
    func runProbe() {
        probeRunning = true
        gate.setPaused(true)
        Task { [self] in
            let table: String
            do {
                table = try await LatencyProbe.run().markdown
            } catch {
                table = "The probe failed: \(error.localizedDescription)"
            }
            await MainActor.run {
                probeTable = table
                probeRunning = false
                gate.setPaused(false)
            }
        }
    }

    private func publish(_ text: String) {
        DispatchQueue.main.async { self.overlay = text }
    }
}
