pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "efficientformer-android"
include(":efficientformer")
// The sample camera app (examples/android-app).
include(":camera-app")
project(":camera-app").projectDir = file("../examples/android-app")
