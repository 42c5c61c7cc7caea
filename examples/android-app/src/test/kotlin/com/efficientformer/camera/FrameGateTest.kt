package com.efficientformer.camera

import java.util.concurrent.CountDownLatch
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.ThreadPoolExecutor
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class FrameGateTest {
    @Test
    fun `frames that arrive while one is classified are dropped, never queued`() {
        val gate = FrameGate()
        val classifying = ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, LinkedBlockingQueue())
        val classificationMayEnd = CountDownLatch(1)
        val classified = CountDownLatch(1)
        assertTrue(gate.tryEnter())
        classifying.execute {
            classificationMayEnd.await()
            gate.exit()
            classified.countDown()
        }
        repeat(30) { assertFalse(gate.tryEnter(), "frame $it arrived while one was classified") }
        assertEquals(0, classifying.queue.size, "nothing waits behind the running classification")
        classificationMayEnd.countDown()
        assertTrue(classified.await(10, TimeUnit.SECONDS))
        assertTrue(gate.tryEnter(), "the next frame after the classification ended goes through")
        gate.exit()
        classifying.shutdown()
        assertEquals(2, gate.classifiedFrames)
        assertEquals(30, gate.droppedFrames)
    }

    @Test
    fun `a paused gate drops every frame`() {
        val gate = FrameGate()
        gate.setPaused(true)
        assertFalse(gate.tryEnter())
        gate.setPaused(false)
        assertTrue(gate.tryEnter())
        gate.exit()
        assertEquals(1, gate.droppedFrames)
    }

    @Test
    fun `exit without a frame let through is a bug`() {
        assertThrows<IllegalStateException> { FrameGate().exit() }
    }

    @Test
    fun `one frame at a time under a camera faster than the classifier`() {
        val gate = FrameGate()
        val classifying = ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, LinkedBlockingQueue())
        val running = AtomicInteger()
        var mostRunning = 0
        var mostQueued = 0
        repeat(300) {
            if (gate.tryEnter()) {
                mostQueued = maxOf(mostQueued, classifying.queue.size)
                classifying.execute {
                    mostRunning = maxOf(mostRunning, running.incrementAndGet())
                    Thread.sleep(1)
                    running.decrementAndGet()
                    gate.exit()
                }
            }
            Thread.sleep(0, 100_000)
        }
        classifying.shutdown()
        assertTrue(classifying.awaitTermination(10, TimeUnit.SECONDS))
        assertEquals(1, mostRunning)
        assertEquals(0, mostQueued, "a frame let through never waits behind another")
        assertEquals(300, gate.classifiedFrames + gate.droppedFrames)
    }
}
