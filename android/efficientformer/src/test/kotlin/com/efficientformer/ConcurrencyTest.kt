package com.efficientformer

import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** One classifier shared by eight threads gives the sequential results bit for bit; closing never blocks. */
class ConcurrencyTest {
    @Test
    fun `eight threads agree with sequential calls`() {
        Classifier.embeddedDefault(cpu.copy(cpuThreads = 2)).use { classifier ->
            val inputs = List(8) { seed -> FloatArray(3 * 224 * 224) { ((it * (seed + 3)) % 29) / 29f - 0.5f } }
            val sequential = inputs.map { classifier.classifyTensorBlocking(it).single().logits }
            val pool = Executors.newFixedThreadPool(8)
            val futures = inputs.map { input -> pool.submit<FloatArray> { classifier.classifyTensorBlocking(input).single().logits } }
            futures.forEachIndexed { i, future -> assertArrayEquals(sequential[i], future.get(), "thread $i") }
            pool.shutdown()
            pool.awaitTermination(1, TimeUnit.MINUTES)
        }
    }

    @Test
    fun `release never waits for a running call, which keeps its classifier until it ends`() {
        val handle = NativeHandle(NativeBridge.loadEmbeddedDefault(NativeOptions(cpu)))
        val entered = CountDownLatch(1)
        val released = CountDownLatch(1)
        val pool = Executors.newSingleThreadExecutor()
        val running = pool.submit<FloatArray> {
            handle.use { pointer ->
                entered.countDown()
                // The release below returns while this call holds the handle: it cannot have
                // waited for us. The classifier must still be alive for the inference.
                assertTrue(released.await(1, TimeUnit.MINUTES), "release blocked behind a running call")
                NativeBridge.classifyTensor(pointer, FloatArray(3 * 224 * 224), 1).single().logits
            }
        }
        entered.await()
        handle.release()
        released.countDown()
        assertThrows<IllegalStateException> { handle.use { } }
        assertEquals(1000, running.get().size)
        handle.release()
        pool.shutdown()
    }
}
