package com.efficientformer

import androidx.camera.core.ImageProxy

// CameraX's ImageProxy is AndroidX (Google's Maven), so this file is compiled by Gradle only
// (efficientformer/build.gradle.kts). It only reads the proxy's fields into a CameraFrame;
// what it calls, CameraFrame classification and cameraFrame() of the camera2 Image path beside
// it (src/android), is tested on the JVM and under Robolectric.

/** The frame as the SDK reads it: planes in place, `cropRect`, rotation. Does not close it. */
fun ImageProxy.toCameraFrame(): CameraFrame =
    cameraFrame(format, width, height, cropRect, imageInfo.rotationDegrees, planes.map { YuvPlane(it.buffer, it.rowStride, it.pixelStride) })

/**
 * Classifies a CameraX frame in place: `YUV_420_888` (`ImageAnalysis`' default) or
 * `RGBA_8888`, honouring its `cropRect` and rotation. Closing [image] after it returns (also
 * after a cancellation) is safe; it does not close it.
 */
suspend fun Classifier.classify(image: ImageProxy): Classification = classify(image.toCameraFrame())

/** [classify] of a CameraX frame on the calling thread (an `ImageAnalysis.Analyzer`'s). */
fun Classifier.classifyBlocking(image: ImageProxy): Classification = classifyBlocking(image.toCameraFrame())
