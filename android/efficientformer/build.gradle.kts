// Android library module. Builds libefficientformer_jni.so per ABI with cargo-ndk
// (`cargo install cargo-ndk`, NDK r27+) and packages it with the Kotlin sources.
// Not built in this repository's CI (no Android SDK there): the same Kotlin sources, but for
// src/androidx, are compiled and tested on the JVM by ../pom.xml and ../framework/pom.xml.
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "com.efficientformer"
    compileSdk = 35
    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }
    // src/android: framework glue (Bitmap, camera2 Image), compiled and Robolectric-tested by
    // ../framework/pom.xml; src/androidx: CameraX's ImageProxy, compiled here only.
    sourceSets["main"].java.srcDirs("src/main/kotlin", "src/android/kotlin", "src/androidx/kotlin")
    sourceSets["main"].jniLibs.srcDir(layout.buildDirectory.dir("rustJniLibs"))
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // `api`: CoroutineDispatcher is in the public signatures (Classifier.fromFile & co).
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
    compileOnly("androidx.camera:camera-core:1.4.2")
}

val repositoryRoot = rootDir.parentFile

// What the library holds: "cpu,gpu,decoders,pth" (default); "cpu,decoders" for a CPU-only app
// that passes encoded images; "cpu" for the smallest (pass Bitmaps/camera frames, ship
// safetensors), e.g. `./gradlew assembleRelease -Pefficientformer.features=cpu`.
val rustFeatures = (findProperty("efficientformer.features") as String?) ?: "cpu,gpu,decoders,pth"

val cargoNdk by tasks.registering(Exec::class) {
    description = "Builds libefficientformer_jni.so for arm64-v8a and x86_64 (16 KB pages, app profile)."
    workingDir = repositoryRoot
    // Relative relocations packed (Android 6+, so every minSdk this library supports): 4.2 MB of
    // the 34 MB CPU+GPU library were 24-byte RELA entries, 0.6 MB packed. An app whose minSdk is
    // 30 or more can pass `relr` instead (35 KB).
    environment("RUSTFLAGS", "-C link-arg=-Wl,-z,max-page-size=16384 -C link-arg=-Wl,--pack-dyn-relocs=android")
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "x86_64",
        "--platform", "24",
        "-o", layout.buildDirectory.dir("rustJniLibs").get().asFile.path,
        "build", "--profile", "app", "--locked", "-p", "efficientformer-jni",
        "--no-default-features", "--features", rustFeatures,
    )
}

tasks.named("preBuild") { dependsOn(cargoNdk) }
