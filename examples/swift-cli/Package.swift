// swift-tools-version:6.0
// A Swift command-line app over the EfficientFormer package: classifies image files and
// prints the top-k as `efficientformer classify` does; `--probe` runs the latency probe.
import PackageDescription

let package = Package(
    name: "efficientformer-swift",
    platforms: [.macOS(.v12)],
    dependencies: [.package(name: "EfficientFormer", path: "../..")],
    targets: [
        .executableTarget(
            name: "efficientformer-swift",
            dependencies: [.product(name: "EfficientFormer", package: "EfficientFormer")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
