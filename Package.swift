// swift-tools-version:6.0
// EfficientFormerV2 for Swift: a hand-written layer (EfficientFormer) over the UniFFI-generated
// bindings (EfficientFormerBindings) of the Rust library. At the repository root so that an
// app adds it by the repository's URL; the sources live in ios/.
//
// Apple platforms link the EfficientFormerFFI XCFramework: from ios/ in a checkout
// (ios/scripts/build-xcframework.sh builds it), or, once a release has been cut, the zip that
// `build-xcframework.sh --release URL` uploads, pinned by the URL and checksum it writes below
// (as stadiamaps/ferrostar does). Linux links the host library: ios/scripts/test-linux.sh
// passes its directory with `-Xlinker -L`.
import PackageDescription

let releaseURL = ""
let releaseChecksum = ""

#if os(Linux)
let ffi: Target = .systemLibrary(name: "EfficientFormerFFI", path: "ios/Sources/EfficientFormerFFI")
#else
let ffi: Target = releaseURL.isEmpty
    ? .binaryTarget(name: "EfficientFormerFFI", path: "ios/EfficientFormerFFI.xcframework")
    : .binaryTarget(name: "EfficientFormerFFI", url: releaseURL, checksum: releaseChecksum)
#endif

let package = Package(
    name: "EfficientFormer",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "EfficientFormer", targets: ["EfficientFormer"]),
    ],
    targets: [
        ffi,
        .target(name: "EfficientFormerBindings", dependencies: ["EfficientFormerFFI"], path: "ios/Sources/EfficientFormerBindings"),
        .target(name: "EfficientFormer", dependencies: ["EfficientFormerBindings"], path: "ios/Sources/EfficientFormer"),
        .testTarget(name: "EfficientFormerTests", dependencies: ["EfficientFormer"], path: "ios/Tests/EfficientFormerTests"),
    ],
    swiftLanguageModes: [.v5]
)
