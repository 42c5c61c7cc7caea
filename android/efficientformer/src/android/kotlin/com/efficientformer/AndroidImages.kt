package com.efficientformer

import android.graphics.Bitmap
import androidx.camera.core.ImageProxy
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * Classifies an `ARGB_8888` bitmap (other configs are converted first). Its pixels are copied
 * once into a direct buffer, whose memory order is RGBA.
 */
fun Classifier.classify(bitmap: Bitmap): Classification {
    val source = if (bitmap.config == Bitmap.Config.ARGB_8888) bitmap else bitmap.copy(Bitmap.Config.ARGB_8888, false)
    val pixels = ByteBuffer.allocateDirect(source.rowBytes * source.height).order(ByteOrder.nativeOrder())
    source.copyPixelsToBuffer(pixels)
    pixels.rewind()
    return classifyPixels(pixels, source.width, source.height, source.rowBytes, PixelFormat.RGBA8)
}

/**
 * Classifies a CameraX frame in place (no copy) from an `ImageAnalysis` configured with
 * `OUTPUT_IMAGE_FORMAT_RGBA_8888`; the frame's rotation becomes the EXIF orientation, so the
 * network sees the image upright. Does not close [image].
 */
fun Classifier.classify(image: ImageProxy): Classification {
    val plane = image.planes.single()
    require(plane.pixelStride == 4) { "expected an RGBA_8888 frame (ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)" }
    val orientation = when (image.imageInfo.rotationDegrees) {
        90 -> 6
        180 -> 3
        270 -> 8
        else -> 1
    }
    return classifyPixels(plane.buffer, image.width, image.height, plane.rowStride, PixelFormat.RGBA8, orientation)
}
