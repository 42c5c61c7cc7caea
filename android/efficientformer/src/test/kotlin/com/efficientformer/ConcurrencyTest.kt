package com.efficientformer

import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Test

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
    fun `close waits for a running call`() {
        val classifier = Classifier.embeddedDefault(cpu)
        val pool = Executors.newSingleThreadExecutor()
        val running = pool.submit<FloatArray> { classifier.classifyTensor(FloatArray(3 * 224 * 224)).single().logits }
        Thread.sleep(5)
        classifier.close()
        running.get()
        pool.shutdown()
    }
}
