package com.efficientformer

import com.efficientformer.Fixtures.direct
import com.efficientformer.Fixtures.YuvPhoto.chromaHeight
import com.efficientformer.Fixtures.YuvPhoto.chromaWidth
import com.efficientformer.Fixtures.YuvPhoto.height
import com.efficientformer.Fixtures.YuvPhoto.rgb
import com.efficientformer.Fixtures.YuvPhoto.u
import com.efficientformer.Fixtures.YuvPhoto.v
import com.efficientformer.Fixtures.YuvPhoto.width
import com.efficientformer.Fixtures.YuvPhoto.y
import com.efficientformer.Fixtures.padded
import java.nio.ByteBuffer
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/**
 * Camera frames laid out as CameraX lays them out classify as the RGB image the published
 * BT.601 conversion makes of them (`core/reference/yuv_fixtures.py`): the YUV planes of the
 * test photo and numpy's RGB of those planes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FramesTest {
    private val classifier = Classifier.embeddedDefault(cpu)

    @AfterAll
    fun close() = classifier.close()

    /** CameraX `YUV_420_888` on most phones: odd padding after the Y and the V,U rows. */
    private fun cameraXPlanes(): List<YuvPlane> = Fixtures.YuvPhoto.semiPlanar(width + 61, 2 * chromaWidth + 18)

    private fun rgbLogits(crop: Crop? = null, orientation: Int = 1): FloatArray =
        classifier.classifyBlocking(rgb, width, height, width * 3, PixelFormat.RGB8, crop, orientation).logits

    @Test
    fun `CameraX three-plane frames with interleaved chroma classify as their RGB conversion`() {
        val frame = CameraFrame(CameraFrame.YUV_420_888, cameraXPlanes(), width, height)
        assertArrayEquals(rgbLogits(), classifier.classifyBlocking(frame).logits)
    }

    @Test
    fun `cropRect and rotation are honoured`() {
        val cropRect = Crop(37, 11, 301, 257)
        val frame = CameraFrame(CameraFrame.YUV_420_888, cameraXPlanes(), width, height, cropRect, rotationDegrees = 90)
        assertArrayEquals(rgbLogits(cropRect, orientation = 6), runBlocking { classifier.classify(frame) }.logits)
        val rgba = ByteArray(width * height * 4) { i -> if (i % 4 == 3) -1 else rgb[i / 4 * 3 + i % 4] }
        val rgbaFrame = CameraFrame(CameraFrame.RGBA_8888, listOf(YuvPlane(direct(rgba), width * 4, 4)), width, height, cropRect, 270)
        assertArrayEquals(rgbLogits(cropRect, orientation = 8), classifier.classifyBlocking(rgbaFrame).logits)
        assertThrows<IllegalArgumentException> { classifier.classifyBlocking(CameraFrame(CameraFrame.YUV_420_888, cameraXPlanes(), width, height, rotationDegrees = 45)) }
        assertThrows<IllegalArgumentException> { classifier.classifyBlocking(CameraFrame(0x11, cameraXPlanes(), width, height)) }
    }

    @Test
    fun `planar chroma and the one-buffer layouts classify alike`() {
        val expected = rgbLogits()
        val planar = YuvFrame(YuvPlane(direct(y), width), YuvPlane(direct(u), chromaWidth), YuvPlane(direct(v), chromaWidth), width, height)
        assertArrayEquals(expected, classifier.classifyBlocking(planar).logits, "planar")
        val stride = width + 1
        val nv21 = padded(y, width, height, stride) + ByteArray(stride * chromaHeight).also { out ->
            for (row in 0 until chromaHeight) for (column in 0 until chromaWidth) {
                out[row * stride + 2 * column] = v[row * chromaWidth + column]
                out[row * stride + 2 * column + 1] = u[row * chromaWidth + column]
            }
        }
        assertArrayEquals(expected, classifier.classifyBlocking(YuvFrame.nv21(direct(nv21), width, height, stride)).logits, "NV21")
        val i420 = y + u + v
        assertArrayEquals(expected, runBlocking { classifier.classify(YuvFrame.i420(direct(i420), width, height)) }.logits, "I420")
    }

    @Test
    fun `short planes and bad strides carry the core's codes`() {
        val planes = cameraXPlanes()
        val short = YuvPlane(planes[1].buffer.duplicate().limit(100) as ByteBuffer, planes[1].rowStride, 2)
        val error = assertThrows<EfficientFormerException> { classifier.classifyBlocking(YuvFrame(planes[0], short, planes[2], width, height)) }
        assertEquals(EfficientFormerException.PLANE_TOO_SMALL, error.code)
        val zero = YuvPlane(planes[2].buffer, planes[2].rowStride, 0)
        val geometry = assertThrows<EfficientFormerException> { classifier.classifyBlocking(YuvFrame(planes[0], planes[1], zero, width, height)) }
        assertEquals(EfficientFormerException.INVALID_GEOMETRY, geometry.code)
        val outside = assertThrows<EfficientFormerException> { classifier.classifyBlocking(YuvFrame(planes[0], planes[1], planes[2], width, height), Crop(400, 0, 100, 10)) }
        assertEquals(EfficientFormerException.INVALID_GEOMETRY, outside.code)
        assertThrows<IllegalArgumentException> { YuvPlane(ByteBuffer.allocate(10), 10) }
    }
}
