// swift-tools-version:6.0
// The camera app for iOS, as a Swift package Xcode opens and runs as an app (an App
// Playground: the `.iOSApplication` product, declared only where Apple's AppleProductTypes
// exists). CameraAppModel holds the app's logic (frame dropping, the model file, the overlay's
// text) and builds everywhere: CI builds and tests it on Linux. CameraApp (SwiftUI,
// AVFoundation) is a thin layer over it and is built by Xcode only.
import PackageDescription
#if canImport(AppleProductTypes)
import AppleProductTypes
#endif

var products: [Product] = []
var targets: [Target] = [
    .target(name: "CameraAppModel", dependencies: [.product(name: "EfficientFormer", package: "EfficientFormer")]),
    .testTarget(name: "CameraAppModelTests", dependencies: ["CameraAppModel"]),
]

#if canImport(AppleProductTypes)
products.append(.iOSApplication(
    name: "EfficientFormer Camera",
    targets: ["CameraApp"],
    bundleIdentifier: "com.efficientformer.camera",
    teamIdentifier: "",
    displayVersion: "0.1.0",
    bundleVersion: "1",
    appIcon: .placeholder(icon: .camera),
    accentColor: .presetColor(.blue),
    supportedDeviceFamilies: [.phone, .pad],
    supportedInterfaceOrientations: [.portrait],
    capabilities: [.camera(purposeString: "Classifies what the camera sees.")]
))
targets.append(.executableTarget(name: "CameraApp", dependencies: ["CameraAppModel"], resources: [.process("Resources")]))
#endif

let package = Package(
    name: "EfficientFormerCamera",
    platforms: [.iOS(.v16), .macOS(.v12)],
    products: products,
    dependencies: [.package(name: "EfficientFormer", path: "../..")],
    targets: targets,
    swiftLanguageModes: [.v5]
)
