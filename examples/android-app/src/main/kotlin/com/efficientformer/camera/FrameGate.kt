package com.efficientformer.camera

import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicLong

/**
 * Lets one frame at a time through to the classifier and drops the others: the camera
 * delivers frames faster than a phone classifies them, and a queue would only add latency
 * (the answer would describe a scene that is gone). camera2's counterpart of CameraX's
 * `ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST`: `ImageReader.acquireLatestImage` already skips
 * frames nobody asked for; this drops those that arrive while a classification runs.
 *
 * Thread-safe: the camera thread calls [tryEnter], the classifying thread [exit].
 */
class FrameGate {
    private val busy = AtomicBoolean(false)
    private val paused = AtomicBoolean(false)
    private val classified = AtomicLong()
    private val dropped = AtomicLong()

    /** Frames let through. */
    val classifiedFrames: Long get() = classified.get()

    /** Frames dropped because a classification was running or the gate was paused. */
    val droppedFrames: Long get() = dropped.get()

    /**
     * True when the caller may classify this frame and must call [exit] when done; false when
     * it must close the frame at once.
     */
    fun tryEnter(): Boolean {
        val entered = !paused.get() && busy.compareAndSet(false, true)
        (if (entered) classified else dropped).incrementAndGet()
        return entered
    }

    /** Ends the classification [tryEnter] let through. */
    fun exit() {
        check(busy.getAndSet(false)) { "exit() without a successful tryEnter()" }
    }

    /** Drops every frame while [paused] (the latency probe needs the CPU to itself). */
    fun setPaused(paused: Boolean) = this.paused.set(paused)
}
