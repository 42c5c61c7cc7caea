package com.efficientformer

import android.graphics.Bitmap
import androidx.camera.core.ImageProxy
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * Classifies a bitmap (`ARGB_8888`; other configs are converted first). Its pixels are copied
 * once into a direct buffer, whose memory order is RGBA. [crop] is in the bitmap's pixels.
 */
suspend fun Classifier.classify(bitmap: Bitmap, crop: Crop? = null, orientation: Int = 1): Classification {
    val (pixels, source) = bitmapPixels(bitmap)
    return classify(pixels, source.width, source.height, source.rowBytes, PixelFormat.RGBA8, crop, orientation)
}

/** [classify] of a bitmap on the calling thread. */
@JvmOverloads
fun Classifier.classifyBlocking(bitmap: Bitmap, crop: Crop? = null, orientation: Int = 1): Classification {
    val (pixels, source) = bitmapPixels(bitmap)
    return classifyBlocking(pixels, source.width, source.height, source.rowBytes, PixelFormat.RGBA8, crop, orientation)
}

private fun bitmapPixels(bitmap: Bitmap): Pair<ByteBuffer, Bitmap> {
    val source = if (bitmap.config == Bitmap.Config.ARGB_8888) bitmap else bitmap.copy(Bitmap.Config.ARGB_8888, false)
    val pixels = ByteBuffer.allocateDirect(source.rowBytes * source.height).order(ByteOrder.nativeOrder())
    source.copyPixelsToBuffer(pixels)
    pixels.rewind()
    return pixels to source
}

/** The frame as the SDK reads it: planes in place, `cropRect`, rotation. Does not close it. */
fun ImageProxy.toCameraFrame(): CameraFrame {
    val rect = cropRect
    return CameraFrame(
        format = format,
        planes = planes.map { YuvPlane(it.buffer, it.rowStride, it.pixelStride) },
        width = width,
        height = height,
        cropRect = Crop(rect.left, rect.top, rect.width(), rect.height()),
        rotationDegrees = imageInfo.rotationDegrees,
    )
}

/**
 * Classifies a CameraX frame in place: `YUV_420_888` (`ImageAnalysis`' default) or
 * `RGBA_8888`, honouring its `cropRect` and rotation. Closing [image] after it returns (also
 * after a cancellation) is safe; it does not close it.
 */
suspend fun Classifier.classify(image: ImageProxy): Classification = classify(image.toCameraFrame())

/** [classify] of a CameraX frame on the calling thread (an `ImageAnalysis.Analyzer`'s). */
fun Classifier.classifyBlocking(image: ImageProxy): Classification = classifyBlocking(image.toCameraFrame())
