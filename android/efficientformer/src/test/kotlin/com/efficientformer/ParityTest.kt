package com.efficientformer

import com.efficientformer.Fixtures.assertClose
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/** The Kotlin API gives timm's logits, through every input path. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ParityTest {
    private val classifier = Classifier.embeddedDefault(cpu)

    @AfterAll
    fun close() = classifier.close()

    @Test
    fun `encoded image gives timm logits and top-5`() {
        val result = classifier.classifyBlocking(Fixtures.bytes("classify/chelsea_235.png"))
        assertClose("embedded default on chelsea_235.png", result.logits, Fixtures.chelseaS0Logits, 1e-4f)
        assertEquals(Fixtures.topK(Fixtures.chelseaS0Logits, 5), result.top.map { it.classIndex })
        assertEquals(1.0, result.probabilities.sum().toDouble(), 1e-4)
        assertTrue(result.top.all { it.label.isNotEmpty() })
    }

    @Test
    fun `zero-copy buffer, array, BGRA and RGB paths agree with the encoded path`() {
        val pixels = Fixtures.chelseaRgba
        val encoded = classifier.classifyBlocking(Fixtures.bytes("classify/chelsea_235.png")).logits
        val stride = pixels.width * 4
        val direct = classifier.classifyBlocking(pixels.direct(), pixels.width, pixels.height, stride, PixelFormat.RGBA8).logits
        val array = classifier.classifyBlocking(pixels.rgba, pixels.width, pixels.height, stride, PixelFormat.RGBA8).logits
        assertArrayEquals(direct, array, "direct buffer and array")
        assertClose("pixels against encoded", direct, encoded, 1e-5f)

        val bgra = pixels.rgba.copyOf().also { b -> for (i in b.indices step 4) { val r = b[i]; b[i] = b[i + 2]; b[i + 2] = r } }
        assertArrayEquals(direct, classifier.classifyBlocking(pixels.direct(bgra), pixels.width, pixels.height, stride, PixelFormat.BGRA8).logits)

        val rgb = ByteArray(pixels.width * pixels.height * 3) { pixels.rgba[it / 3 * 4 + it % 3] }
        assertArrayEquals(direct, classifier.classifyBlocking(pixels.direct(rgb), pixels.width, pixels.height, pixels.width * 3, PixelFormat.RGB8).logits)
    }

    @Test
    fun `padded rows and a buffer position are honoured`() {
        val pixels = Fixtures.chelseaRgba
        val stride = pixels.width * 4 + 64
        val padded = ByteArray(16 + stride * pixels.height)
        for (y in 0 until pixels.height) System.arraycopy(pixels.rgba, y * pixels.width * 4, padded, 16 + y * stride, pixels.width * 4)
        val buffer = pixels.direct(padded).position(16) as java.nio.ByteBuffer
        val result = classifier.classifyBlocking(buffer, pixels.width, pixels.height, stride, PixelFormat.RGBA8)
        val tight = classifier.classifyBlocking(pixels.direct(), pixels.width, pixels.height, pixels.width * 4, PixelFormat.RGBA8)
        assertArrayEquals(tight.logits, result.logits)
    }

    @Test
    fun `suspend variants give the blocking results`() = runBlocking {
        val bytes = Fixtures.bytes("classify/chelsea_235.png")
        assertArrayEquals(classifier.classifyBlocking(bytes).logits, classifier.classify(bytes).logits)
        val tensor = FloatArray(2 * 3 * 224 * 224) { (it % 17) / 17f - 0.5f }
        val results = classifier.classifyTensor(tensor, batch = 2)
        assertEquals(2, results.size)
        assertArrayEquals(results[0].logits, classifier.classifyTensorBlocking(tensor.copyOf(3 * 224 * 224)).single().logits)
    }

    @Test
    fun `info describes the embedded default`() {
        val info = classifier.info
        assertEquals("s0", info.variant)
        assertEquals(3_600_256L, info.parameters)
        assertEquals(1000, info.numClasses)
        assertTrue(info.untrained)
        assertEquals("cpu", info.adapter)
        assertTrue(classifier.prewarmBlocking() > 0.0)
    }
}
