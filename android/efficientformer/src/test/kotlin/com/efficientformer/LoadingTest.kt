package com.efficientformer

import java.nio.ByteBuffer
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/** A torch-written timm file loads from a path, an array, and direct and heap buffers alike. */
class LoadingTest {
    private val input = FloatArray(3 * 224 * 224) { (it % 23) / 23f - 0.5f }

    private fun logits(classifier: Classifier): FloatArray = classifier.use { it.classifyTensorBlocking(input).single().logits }

    @Test
    fun `every source gives the same network`() {
        val name = "tiny/timm_f32.safetensors"
        val bytes = Fixtures.bytes(name)
        val fromFile = Classifier.fromFile(Fixtures.file(name).path, cpu)
        assertEquals("custom", fromFile.info.variant)
        assertEquals(10, fromFile.info.numClasses)
        assertEquals("f32", fromFile.info.weightDtype)
        val expected = logits(fromFile)
        assertArrayEquals(expected, logits(Classifier.fromBytes(bytes, cpu)))
        val direct = ByteBuffer.allocateDirect(bytes.size).put(bytes).flip() as ByteBuffer
        assertArrayEquals(expected, logits(Classifier.fromBuffer(direct, cpu)))
        assertArrayEquals(expected, logits(Classifier.fromBuffer(ByteBuffer.wrap(bytes), cpu)))
    }
}
