package com.efficientformer

/**
 * A camera frame as CameraX's `ImageProxy` describes it, without CameraX's types (so it is
 * testable on the JVM; `AndroidImages.kt` builds one from an `ImageProxy`): [format] is the
 * `ImageFormat`/`PixelFormat` constant, [planes] its planes, [cropRect] the part that holds
 * the picture (`ImageProxy.cropRect`), [rotationDegrees] the clockwise rotation that makes it
 * upright (`ImageInfo.rotationDegrees`).
 */
class CameraFrame(
    val format: Int,
    val planes: List<YuvPlane>,
    val width: Int,
    val height: Int,
    val cropRect: Crop = Crop(0, 0, width, height),
    val rotationDegrees: Int = 0,
) {
    /** `null` when [cropRect] is the whole frame. */
    internal val crop: Crop? get() = cropRect.takeUnless { it == Crop(0, 0, width, height) }

    /** [rotationDegrees] as the EXIF orientation the core applies. */
    internal val orientation: Int
        get() = when (rotationDegrees) {
            0 -> 1
            90 -> 6
            180 -> 3
            270 -> 8
            else -> throw IllegalArgumentException("rotationDegrees must be 0, 90, 180 or 270, got $rotationDegrees")
        }

    internal fun yuv(): YuvFrame {
        require(planes.size == 3) { "a YUV_420_888 frame has three planes, this one ${planes.size}" }
        return YuvFrame(planes[0], planes[1], planes[2], width, height)
    }

    internal fun rgba(): YuvPlane {
        require(planes.size == 1 && planes[0].pixelStride == 4) { "an RGBA_8888 frame has one plane of 4-byte pixels" }
        return planes[0]
    }

    companion object {
        /** `android.graphics.ImageFormat.YUV_420_888`: CameraX `ImageAnalysis`' default output. */
        const val YUV_420_888 = 0x23

        /** `android.graphics.PixelFormat.RGBA_8888`: `ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888`. */
        const val RGBA_8888 = 1
    }
}

/**
 * Classifies a camera frame in place (no copy): `YUV_420_888` (chroma `pixelStride` 1 or 2,
 * BT.601 full range as CameraX delivers it) or `RGBA_8888`, cropped to [CameraFrame.cropRect]
 * and turned upright. Suspends until the native call has let go of the planes, so closing
 * the frame afterwards (also after a cancellation) is safe.
 */
suspend fun Classifier.classify(frame: CameraFrame): Classification = when (frame.format) {
    CameraFrame.YUV_420_888 -> classify(frame.yuv(), frame.crop, frame.orientation)
    CameraFrame.RGBA_8888 -> frame.rgba().let { classify(it.buffer, frame.width, frame.height, it.rowStride, PixelFormat.RGBA8, frame.crop, frame.orientation) }
    else -> throw IllegalArgumentException(unsupported(frame))
}

/** [classify] of a camera frame on the calling thread (an `ImageAnalysis.Analyzer`'s). */
fun Classifier.classifyBlocking(frame: CameraFrame): Classification = when (frame.format) {
    CameraFrame.YUV_420_888 -> classifyBlocking(frame.yuv(), frame.crop, frame.orientation)
    CameraFrame.RGBA_8888 -> frame.rgba().let { classifyBlocking(it.buffer, frame.width, frame.height, it.rowStride, PixelFormat.RGBA8, frame.crop, frame.orientation) }
    else -> throw IllegalArgumentException(unsupported(frame))
}

private fun unsupported(frame: CameraFrame) =
    "camera frame format ${frame.format} is not supported: use ImageAnalysis' YUV_420_888 (default) or RGBA_8888 output"
