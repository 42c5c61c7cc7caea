// swift-tools-version:6.0
// EfficientFormerV2 for Swift: a hand-written layer (EfficientFormer) over the UniFFI-generated
// bindings (EfficientFormerBindings) of the Rust library.
//
// Apple platforms link EfficientFormerFFI.xcframework, built by scripts/build-xcframework.sh.
// Linux links the host library: scripts/test-linux.sh passes its directory with `-Xlinker -L`.
import PackageDescription

#if os(Linux)
let ffi: Target = .systemLibrary(name: "EfficientFormerFFI", path: "Sources/EfficientFormerFFI")
#else
let ffi: Target = .binaryTarget(name: "EfficientFormerFFI", path: "EfficientFormerFFI.xcframework")
#endif

let package = Package(
    name: "EfficientFormer",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "EfficientFormer", targets: ["EfficientFormer"]),
    ],
    targets: [
        ffi,
        .target(name: "EfficientFormerBindings", dependencies: ["EfficientFormerFFI"]),
        .target(name: "EfficientFormer", dependencies: ["EfficientFormerBindings"]),
        .testTarget(name: "EfficientFormerTests", dependencies: ["EfficientFormer"]),
    ],
    swiftLanguageModes: [.v5]
)
