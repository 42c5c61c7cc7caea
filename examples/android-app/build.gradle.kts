// The camera app as Android Studio builds it: a module of the Gradle build in ../../android
// (its settings.gradle.kts includes this directory as :camera-app), depending on the library
// module, which builds the native library with cargo-ndk. Not built in this repository's CI
// (no Android SDK or Google Maven there): pom.xml compiles the same Kotlin against the Android
// framework's classes and runs the tests.
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "com.efficientformer.camera"
    compileSdk = 35
    defaultConfig {
        applicationId = "com.efficientformer.camera"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }
    sourceSets["main"].java.srcDirs("src/main/kotlin")
    sourceSets["test"].java.srcDirs("src/test/kotlin")
    // A model in src/main/assets is mapped in place (openClassifier), so it must stay uncompressed.
    androidResources { noCompress += "safetensors" }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    testOptions { unitTests.all { it.useJUnitPlatform() } }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    implementation(project(":efficientformer"))
    testImplementation("org.junit.jupiter:junit-jupiter:5.14.4")
}
