package com.efficientformer

import java.nio.ByteBuffer
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/** Bad input throws the documented exception, never crashes the JVM. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ErrorsTest {
    private val classifier = Classifier.embeddedDefault(cpu)

    @AfterAll
    fun close() = classifier.close()

    private fun code(block: () -> Unit): Int = assertThrows<EfficientFormerException>(block).code

    @Test
    fun `a heap ByteBuffer is refused with a clear message`() {
        val error = assertThrows<IllegalArgumentException> {
            classifier.classifyBlocking(ByteBuffer.allocate(16 * 16 * 4), 16, 16, 64, PixelFormat.RGBA8)
        }
        assertTrue("direct" in error.message!!)
    }

    @Test
    fun `short buffers, bad strides and bad orientations carry the core's codes`() {
        val small = ByteBuffer.allocateDirect(100)
        assertEquals(EfficientFormerException.BUFFER_TOO_SMALL, code { classifier.classifyBlocking(small, 16, 16, 64, PixelFormat.RGBA8) })
        assertEquals(EfficientFormerException.BUFFER_TOO_SMALL, code { classifier.classifyBlocking(ByteArray(100), 16, 16, 64, PixelFormat.RGBA8) })
        val buffer = ByteBuffer.allocateDirect(16 * 16 * 4)
        assertEquals(EfficientFormerException.INVALID_GEOMETRY, code { classifier.classifyBlocking(buffer, 16, 16, 32, PixelFormat.RGBA8) })
        assertEquals(EfficientFormerException.INVALID_GEOMETRY, code { classifier.classifyBlocking(buffer, -1, 16, 64, PixelFormat.RGBA8) })
        assertEquals(EfficientFormerException.INVALID_GEOMETRY, code { classifier.classifyBlocking(buffer, 16, 16, 64, PixelFormat.RGBA8, orientation = 9) })
        assertEquals(EfficientFormerException.INVALID_GEOMETRY, code { classifier.classifyBlocking(buffer, 0, 16, 64, PixelFormat.RGBA8) })
    }

    @Test
    fun `bad images and tensors carry the core's codes`() {
        assertEquals(EfficientFormerException.INVALID_IMAGE, code { classifier.classifyBlocking(byteArrayOf(1, 2, 3)) })
        assertEquals(EfficientFormerException.INVALID_INPUT, code { classifier.classifyTensorBlocking(FloatArray(10)) })
        assertEquals(EfficientFormerException.INVALID_INPUT, code { classifier.classifyTensorBlocking(FloatArray(3 * 224 * 224), batch = -1) })
    }

    @Test
    fun `corrupt, missing and foreign models are refused`() {
        assertEquals(EfficientFormerException.INVALID_MODEL_FILE, code { Classifier.fromBytes(ByteArray(64) { 7 }, cpu) })
        assertEquals(EfficientFormerException.IO, code { Classifier.fromFile("/nonexistent/model.safetensors", cpu) })
        val tiny = Fixtures.bytes("tiny/timm_f32.safetensors")
        assertEquals(EfficientFormerException.WRONG_VARIANT, code { Classifier.fromBytes(tiny, cpu.copy(expectedVariant = "s0")) })
        assertEquals(EfficientFormerException.INVALID_INPUT, code { Classifier.fromBytes(tiny, cpu.copy(expectedVariant = "xl")) })
        assertEquals(EfficientFormerException.INVALID_INPUT, code { Classifier.embeddedDefault(cpu.copy(topK = 0)) })
        assertThrows<IllegalArgumentException> { Classifier.embeddedDefault(cpu.copy(cpuThreads = -2)) }
    }

    @Test
    fun `a model that overflows throws NON_FINITE_OUTPUT instead of ranking NaN scores`() {
        Classifier.fromBytes(Fixtures.bytes("tiny/overflow_f32.safetensors"), cpu).use { overflowing ->
            val photo = Fixtures.bytes("classify/chelsea_235.png")
            assertEquals(EfficientFormerException.NON_FINITE_OUTPUT, code { overflowing.classifyBlocking(photo) })
        }
    }

    @Test
    fun `use after close throws IllegalStateException and closing twice is fine`() {
        val closing = Classifier.embeddedDefault(cpu)
        closing.close()
        closing.close()
        assertThrows<IllegalStateException> { closing.classifyBlocking(Fixtures.bytes("classify/chelsea_235.png")) }
        assertThrows<IllegalStateException> { closing.prewarmBlocking() }
        assertThrows<IllegalStateException> { closing.info }
    }
}
