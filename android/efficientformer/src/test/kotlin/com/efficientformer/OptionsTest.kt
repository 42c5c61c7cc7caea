package com.efficientformer

import com.efficientformer.Fixtures.assertClose
import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** Labels, the score threshold, the embedding (against timm) and cancellation. */
class OptionsTest {
    private val photo = Fixtures.bytes("classify/chelsea_235.png")

    @Test
    fun `the embedding is timm's pooled features`() {
        Classifier.embeddedDefault(cpu.copy(embedding = true)).use {
            val result = it.classifyBlocking(photo)
            assertClose("S0 embedding", result.embedding!!, Fixtures.tensor("classify/logits.safetensors", "s0_embedding"), 1e-4f)
            assertClose("S0 logits", result.logits, Fixtures.chelseaS0Logits, 1e-4f)
        }
        Classifier.embeddedDefault(cpu).use { assertNull(it.classifyBlocking(photo).embedding) }
    }

    @Test
    fun `f16 reports the precision that ran`() {
        Classifier.embeddedDefault(cpu.copy(precision = Precision.F16)).use { half ->
            val result = half.classifyBlocking(photo)
            assertEquals(half.info.precision, result.precision)
            assertClose("S0 logits in ${result.precision}", result.logits, Fixtures.chelseaS0Logits, if (result.precision == Precision.F16) 1e-2f else 1e-4f)
        }
        Classifier.embeddedDefault(cpu).use { assertEquals(Precision.F32, it.classifyBlocking(photo).precision) }
    }

    @Test
    fun `labels name the classes and the threshold drops unlikely ones`() {
        val names = List(1000) { "thing $it" }
        Classifier.embeddedDefault(cpu.copy(labels = names, topK = 1000)).use {
            val result = it.classifyBlocking(photo)
            assertEquals(1000, result.top.size)
            assertTrue(result.top.all { p -> p.label == "thing ${p.classIndex}" })
            val threshold = result.top[2].score
            Classifier.embeddedDefault(cpu.copy(topK = 1000, scoreThreshold = threshold)).use { strict ->
                val kept = strict.classifyBlocking(photo).top
                assertEquals(result.top.count { p -> p.score >= threshold }, kept.size)
                assertTrue(kept.all { p -> p.score >= threshold })
            }
        }
        val wrongCount = assertThrows<EfficientFormerException> { Classifier.embeddedDefault(cpu.copy(labels = names.take(3))) }
        assertEquals(EfficientFormerException.INVALID_INPUT, wrongCount.code)
        val badThreshold = assertThrows<EfficientFormerException> { Classifier.embeddedDefault(cpu.copy(scoreThreshold = 2f)) }
        assertEquals(EfficientFormerException.INVALID_INPUT, badThreshold.code)
    }

    @Test
    fun `a cancelled token stops the native call with CANCELLED`() {
        val handle = NativeHandle(NativeBridge.loadEmbeddedDefault(NativeOptions(cpu)))
        CancelSignal().use { signal ->
            signal.cancel()
            val error = assertThrows<EfficientFormerException> { handle.use { NativeBridge.classifyEncoded(it, photo, signal.token) } }
            assertEquals(EfficientFormerException.CANCELLED, error.code)
        }
        assertEquals(1000, handle.use { NativeBridge.classifyEncoded(it, photo, 0L) }.logits.size, "uncancelled calls still run")
        handle.release()
    }

    @Test
    fun `cancelling the coroutine throws CancellationException and the classifier stays usable`() = runBlocking {
        Classifier.embeddedDefault(cpu).use { classifier ->
            val started = AtomicBoolean(false)
            val call = async(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                started.set(true)
                classifier.classify(photo)
            }
            assertTrue(started.get())
            call.cancel()
            assertThrows<CancellationException> { runBlocking { call.await() } }
            assertEquals(1000, classifier.classify(photo).logits.size)
        }
    }
}
