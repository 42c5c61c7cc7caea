package com.efficientformer

import android.graphics.Bitmap
import android.graphics.Rect
import android.media.Image
import android.os.Build
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * Classifies a bitmap of any config (`HARDWARE` ones are copied to `ARGB_8888` first). Its
 * colors are read with [Bitmap.getPixels], unpremultiplied sRGB whatever the bitmap's memory
 * layout, into one direct buffer (an `ARGB` color int stored little-endian is BGRA in memory).
 * [crop] is in the bitmap's pixels; [orientation] is EXIF's, applied after the crop.
 */
suspend fun Classifier.classify(bitmap: Bitmap, crop: Crop? = null, orientation: Int = 1): Classification =
    classify(bitmapPixels(bitmap), bitmap.width, bitmap.height, bitmap.width * 4, PixelFormat.BGRA8, crop, orientation)

/** [classify] of a bitmap on the calling thread. */
@JvmOverloads
fun Classifier.classifyBlocking(bitmap: Bitmap, crop: Crop? = null, orientation: Int = 1): Classification =
    classifyBlocking(bitmapPixels(bitmap), bitmap.width, bitmap.height, bitmap.width * 4, PixelFormat.BGRA8, crop, orientation)

/** Rows of color ints read per [Bitmap.getPixels] call: bounds the heap the copy borrows. */
private const val BAND_PIXELS = 1 shl 16

private fun bitmapPixels(bitmap: Bitmap): ByteBuffer {
    val readable = if (Build.VERSION.SDK_INT >= 26 && bitmap.config == Bitmap.Config.HARDWARE) bitmap.copy(Bitmap.Config.ARGB_8888, false) else bitmap
    val width = readable.width
    val height = readable.height
    val pixels = ByteBuffer.allocateDirect(width * height * 4).order(ByteOrder.LITTLE_ENDIAN)
    val colors = pixels.asIntBuffer()
    val rows = maxOf(1, BAND_PIXELS / maxOf(1, width))
    val band = IntArray(minOf(rows, height) * width)
    for (top in 0 until height step rows) {
        val count = minOf(rows, height - top)
        readable.getPixels(band, 0, width, 0, top, width, count)
        colors.put(band, 0, count * width)
    }
    return pixels
}

/**
 * A camera2 [Image] (`ImageReader` in `YUV_420_888` or `RGBA_8888`) as the SDK reads it: planes
 * in place, its `cropRect`, and [rotationDegrees], the clockwise rotation that makes it
 * upright (camera2 images do not carry it: the sensor orientation net of the device's, see
 * `CameraCharacteristics.SENSOR_ORIENTATION`). Does not close it.
 */
fun Image.toCameraFrame(rotationDegrees: Int = 0): CameraFrame =
    cameraFrame(format, width, height, cropRect, rotationDegrees, planes.map { YuvPlane(it.buffer, it.rowStride, it.pixelStride) })

/** What camera2's `Image` and CameraX's `ImageProxy` both describe, as a [CameraFrame]. */
internal fun cameraFrame(format: Int, width: Int, height: Int, cropRect: Rect, rotationDegrees: Int, planes: List<YuvPlane>) =
    CameraFrame(format, planes, width, height, Crop(cropRect.left, cropRect.top, cropRect.width(), cropRect.height()), rotationDegrees)

/**
 * Classifies a camera2 frame in place (no copy), honouring its `cropRect` and
 * [rotationDegrees]. Closing [image] after it returns (also after a cancellation) is safe; it
 * does not close it.
 */
suspend fun Classifier.classify(image: Image, rotationDegrees: Int = 0): Classification =
    classify(image.toCameraFrame(rotationDegrees))

/** [classify] of a camera2 frame on the calling thread (an `ImageReader` listener's). */
@JvmOverloads
fun Classifier.classifyBlocking(image: Image, rotationDegrees: Int = 0): Classification =
    classifyBlocking(image.toCameraFrame(rotationDegrees))
