import AVFoundation
import SwiftUI

struct ContentView: View {
    @StateObject private var camera = CameraModel()

    var body: some View {
        ZStack(alignment: .top) {
            CameraPreview(session: camera.session).ignoresSafeArea()
            VStack(alignment: .leading, spacing: 12) {
                Text(camera.overlay).font(.system(.footnote, design: .monospaced))
                Button(camera.probeRunning ? "Running the latency probe…" : "Latency probe") { camera.runProbe() }
                    .disabled(camera.probeRunning)
                if let table = camera.probeTable {
                    ScrollView([.horizontal, .vertical]) {
                        Text(table).font(.system(size: 9, design: .monospaced))
                    }
                }
            }
            .padding()
            .foregroundColor(.white)
            .background(Color.black.opacity(0.6))
        }
        .onAppear { camera.start() }
    }
}

/// `AVCaptureVideoPreviewLayer` in SwiftUI.
struct CameraPreview: UIViewRepresentable {
    let session: AVCaptureSession

    final class PreviewView: UIView {
        override class var layerClass: AnyClass { AVCaptureVideoPreviewLayer.self }
        var previewLayer: AVCaptureVideoPreviewLayer { layer as! AVCaptureVideoPreviewLayer }
    }

    func makeUIView(context: Context) -> PreviewView {
        let view = PreviewView()
        view.previewLayer.session = session
        view.previewLayer.videoGravity = .resizeAspectFill
        return view
    }

    func updateUIView(_ uiView: PreviewView, context: Context) {}
}
