package com.efficientformer

import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** One classifier shared by eight threads gives the sequential results bit for bit. */
class ConcurrencyTest {
    @Test
    fun `eight threads agree with sequential calls`() {
        Classifier.embeddedDefault(cpu.copy(cpuThreads = 2)).use { classifier ->
            val inputs = List(8) { seed -> FloatArray(3 * 224 * 224) { ((it * (seed + 3)) % 29) / 29f - 0.5f } }
            val sequential = inputs.map { classifier.classifyTensor(it).single().logits }
            val pool = Executors.newFixedThreadPool(8)
            val futures = inputs.map { input -> pool.submit<FloatArray> { classifier.classifyTensor(input).single().logits } }
            futures.forEachIndexed { i, future -> assertArrayEquals(sequential[i], future.get(), "thread $i") }
            pool.shutdown()
            pool.awaitTermination(1, TimeUnit.MINUTES)
        }
    }

    @Test
    fun `release waits for a running call, then refuses new ones`() {
        val handle = NativeHandle(NativeBridge.loadEmbeddedDefault("cpu", -1, 5, null, null))
        val entered = CountDownLatch(1)
        val finished = AtomicBoolean(false)
        val pool = Executors.newSingleThreadExecutor()
        val running = pool.submit<FloatArray> {
            handle.use { pointer ->
                entered.countDown()
                NativeBridge.classifyTensor(pointer, FloatArray(3 * 224 * 224), 1).single().logits.also { finished.set(true) }
            }
        }
        entered.await()
        handle.release()
        assertTrue(finished.get(), "release returned before the running call finished")
        running.get()
        assertThrows<IllegalStateException> { handle.use { } }
        handle.release()
        pool.shutdown()
    }
}
