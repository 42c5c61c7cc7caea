import SwiftUI

/// The camera preview with the top-3 classes of the latest classified frame over it, and a
/// button that runs the latency probe and shows its table. Built by Xcode only (SwiftUI,
/// AVFoundation); its logic is CameraAppModel's, tested on Linux.
@main
struct CameraApp: App {
    var body: some Scene {
        WindowGroup { ContentView() }
    }
}
