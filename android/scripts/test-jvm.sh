#!/usr/bin/env bash
# Tests the Kotlin library on the JVM: builds libefficientformer_jni on the host, runs the JUnit 5
# tests (Maven, kotlin-maven-plugin) against it, installs the library into the local Maven
# repository, compiles the Android framework code and the camera app against android-all and
# runs their Robolectric and JUnit tests, and runs the Kotlin example, whose top-5 must equal
# the Rust tool's.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}

# Same package selection as the test command, so the library shares its build.
cargo build --release

mvn=(mvn -B -q "-Dmaven.repo.local=${MAVEN_REPO:-$HOME/.cache/efficientformer/m2}"
     "-Defficientformer.library.path=$target/release/libefficientformer_jni.so")
"${mvn[@]}" -f android/pom.xml install
# The framework glue (Bitmap, camera2 Image) against android-all, under Robolectric; then the
# camera app's Kotlin against the same classes, and its tests.
"${mvn[@]}" -f android/framework/pom.xml install
"${mvn[@]}" -f examples/android-app/pom.xml test

image=$root/examples/images/chelsea.png
"${mvn[@]}" -f examples/kotlin-cli/pom.xml compile exec:java -Dexec.args="--backend cpu $image" > "$target/kotlin-example.txt"
cat "$target/kotlin-example.txt"
examples/same-top5.sh Kotlin "$target/kotlin-example.txt" "$image"
