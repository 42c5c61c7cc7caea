package com.efficientformer

import android.graphics.Bitmap
import android.graphics.ImageFormat
import android.graphics.Rect
import android.media.Image
import com.efficientformer.Fixtures.assertClose
import com.efficientformer.Fixtures.direct
import java.nio.ByteBuffer
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode

/**
 * The framework glue (`src/android`) on Android's own classes: real `Bitmap`s (Robolectric's
 * native graphics, Skia) and camera2 `Image`s laid out as `ImageReader` hands them over. They
 * classify as the core's frame tests expect: the test photo through a bitmap gives timm's
 * logits, and a `YUV_420_888` image gives the logits of its RGB conversion
 * (`core/reference/yuv_fixtures.py`), whose top-5 is the reference's.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34])
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class AndroidImagesTest {
    companion object {
        private val classifier = Classifier.embeddedDefault(cpu)

        @JvmStatic
        @AfterClass
        fun close() = classifier.close()
    }

    private fun chelseaBitmap(config: Bitmap.Config = Bitmap.Config.ARGB_8888): Bitmap {
        val pixels = Fixtures.chelseaRgba
        val colors = IntArray(pixels.width * pixels.height) { i ->
            val (r, g, b) = (0..2).map { pixels.rgba[i * 4 + it].toInt() and 0xff }
            (0xff shl 24) or (r shl 16) or (g shl 8) or b
        }
        return Bitmap.createBitmap(colors, pixels.width, pixels.height, Bitmap.Config.ARGB_8888).let {
            if (config == Bitmap.Config.ARGB_8888) it else it.copy(config, false)
        }
    }

    private fun rgbaLogits(crop: Crop? = null, orientation: Int = 1): FloatArray {
        val pixels = Fixtures.chelseaRgba
        return classifier.classifyBlocking(pixels.direct(), pixels.width, pixels.height, pixels.width * 4, PixelFormat.RGBA8, crop, orientation).logits
    }

    @Test
    fun `a bitmap of the test photo gives timm logits and top-5`() {
        val result = classifier.classifyBlocking(chelseaBitmap())
        assertArrayEquals(rgbaLogits(), result.logits, 0f)
        assertClose("bitmap of chelsea_235.png", result.logits, Fixtures.chelseaS0Logits, 1e-4f)
        assertEquals(Fixtures.topK(Fixtures.chelseaS0Logits, 5), result.top.map { it.classIndex })
    }

    @Test
    fun `a bitmap's crop and orientation are honoured, other configs are converted`() {
        val crop = Crop(17, 9, 150, 201)
        assertArrayEquals(rgbaLogits(crop, 6), runBlocking { classifier.classify(chelseaBitmap(), crop, 6) }.logits, 0f)
        val argb4444 = chelseaBitmap(Bitmap.Config.ARGB_4444)
        val result = classifier.classifyBlocking(argb4444)
        assertEquals(1000, result.logits.size)
        assertArrayEquals(classifier.classifyBlocking(argb4444.copy(Bitmap.Config.ARGB_8888, false)).logits, result.logits, 0f)
    }

    /** camera2's `Image`: the planes it was made with, and a crop rectangle. */
    private class CameraImage(
        private val format: Int,
        private val width: Int,
        private val height: Int,
        private val planes: Array<Plane>,
    ) : Image() {
        init {
            mIsImageValid = true // as ImageReader's images are until closed
        }

        override fun getFormat() = format
        override fun getWidth() = width
        override fun getHeight() = height
        override fun getTimestamp() = 0L
        override fun getPlanes() = planes
        override fun close() {}

        // Hidden (@hide) members of android.media.Image that android-all declares abstract.
        override fun getTransform() = 0
        override fun getScalingMode() = 0
    }

    private class CameraPlane(private val buffer: ByteBuffer, private val rowStride: Int, private val pixelStride: Int) : Image.Plane() {
        override fun getBuffer() = buffer
        override fun getRowStride() = rowStride
        override fun getPixelStride() = pixelStride
    }

    private val photo = Fixtures.YuvPhoto

    /** `ImageReader` in `YUV_420_888` as most phones fill it: 64-byte aligned rows. */
    private fun yuvImage(): Image {
        val stride = photo.width + 64 - photo.width % 64
        val planes = photo.semiPlanar(stride, stride).map { CameraPlane(it.buffer, it.rowStride, it.pixelStride) }
        return CameraImage(ImageFormat.YUV_420_888, photo.width, photo.height, planes.toTypedArray())
    }

    private fun rgbLogits(crop: Crop? = null, orientation: Int = 1): FloatArray =
        classifier.classifyBlocking(direct(photo.rgb), photo.width, photo.height, photo.width * 3, PixelFormat.RGB8, crop, orientation).logits

    @Test
    fun `a camera2 YUV_420_888 image classifies as its RGB conversion`() {
        val result = classifier.classifyBlocking(yuvImage())
        val expected = rgbLogits()
        assertArrayEquals(expected, result.logits, 0f)
        assertEquals(Fixtures.topK(expected, 5), result.top.map { it.classIndex })
    }

    @Test
    fun `an image's cropRect and the rotation passed are honoured`() {
        val image = yuvImage()
        image.cropRect = Rect(37, 11, 37 + 301, 11 + 257)
        assertArrayEquals(rgbLogits(Crop(37, 11, 301, 257), 6), runBlocking { classifier.classify(image, rotationDegrees = 90) }.logits, 0f)
    }
}
