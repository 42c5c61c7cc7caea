package com.efficientformer

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
    private val photo = "yuv/photo.safetensors"
    private val y = Fixtures.bytesTensor(photo, "y")
    private val u = Fixtures.bytesTensor(photo, "u").first
    private val v = Fixtures.bytesTensor(photo, "v").first
    private val rgb = Fixtures.bytesTensor(photo, "rgb").first
    private val height = y.second[0]
    private val width = y.second[1]
    private val chromaWidth = (width + 1) / 2
    private val chromaHeight = (height + 1) / 2

    @AfterAll
    fun close() = classifier.close()

    private fun direct(bytes: ByteArray): ByteBuffer = ByteBuffer.allocateDirect(bytes.size).put(bytes).flip() as ByteBuffer

    /** [rows] rows of [rowBytes] from [source], each padded to [stride] bytes. */
    private fun padded(source: ByteArray, rowBytes: Int, rows: Int, stride: Int): ByteArray {
        val out = ByteArray(stride * rows) { 0x55 }
        for (row in 0 until rows) System.arraycopy(source, row * rowBytes, out, row * stride, rowBytes)
        return out
    }

    /**
     * CameraX `YUV_420_888` on most phones: Y with padded rows; U and V as two buffers over one
     * interleaved V,U plane (`pixelStride` 2), U starting one byte in, each ending at its last
     * sample.
     */
    private fun cameraXPlanes(): List<YuvPlane> {
        val yStride = width + 61
        val chromaStride = 2 * chromaWidth + 18
        val interleaved = ByteArray(chromaStride * chromaHeight)
        for (row in 0 until chromaHeight) for (column in 0 until chromaWidth) {
            interleaved[row * chromaStride + 2 * column] = v[row * chromaWidth + column]
            interleaved[row * chromaStride + 2 * column + 1] = u[row * chromaWidth + column]
        }
        val chroma = direct(interleaved)
        val end = (chromaHeight - 1) * chromaStride + 2 * (chromaWidth - 1) + 1
        val vBuffer = chroma.duplicate().limit(end) as ByteBuffer
        val uBuffer = chroma.duplicate().limit(end + 1).position(1) as ByteBuffer
        return listOf(
            YuvPlane(direct(padded(y.first, width, height, yStride)), yStride, 1),
            YuvPlane(uBuffer.slice(), chromaStride, 2),
            YuvPlane(vBuffer.slice(), chromaStride, 2),
        )
    }

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
        val planar = YuvFrame(YuvPlane(direct(y.first), width), YuvPlane(direct(u), chromaWidth), YuvPlane(direct(v), chromaWidth), width, height)
        assertArrayEquals(expected, classifier.classifyBlocking(planar).logits, "planar")
        val stride = width + 1
        val nv21 = padded(y.first, width, height, stride) + ByteArray(stride * chromaHeight).also { out ->
            for (row in 0 until chromaHeight) for (column in 0 until chromaWidth) {
                out[row * stride + 2 * column] = v[row * chromaWidth + column]
                out[row * stride + 2 * column + 1] = u[row * chromaWidth + column]
            }
        }
        assertArrayEquals(expected, classifier.classifyBlocking(YuvFrame.nv21(direct(nv21), width, height, stride)).logits, "NV21")
        val i420 = y.first + u + v
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
