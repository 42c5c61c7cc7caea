package com.efficientformer

import java.lang.ref.PhantomReference
import java.lang.ref.ReferenceQueue
import java.util.concurrent.ConcurrentHashMap
import kotlin.concurrent.thread

/**
 * The native classifier pointer and the count of calls using it. [release] never waits: it
 * marks the handle closed, and the native classifier is freed by whichever comes last, the
 * release or the end of the last running call. So `close()` on the main thread cannot stall
 * it behind an inference (an ANR), and a call never sees its classifier freed under it.
 */
internal class NativeHandle(private var pointer: Long) {
    private var calls = 0
    private var closed = false

    /** Runs [block] with the live pointer; throws [IllegalStateException] once released. */
    fun <T> use(block: (Long) -> T): T {
        val live = synchronized(this) {
            check(!closed) { "Classifier is closed" }
            calls++
            pointer
        }
        try {
            return block(live)
        } finally {
            val last = synchronized(this) {
                calls--
                closed && calls == 0
            }
            if (last) free()
        }
    }

    /** Closes the handle; frees the native classifier now, or when the last running call ends. */
    fun release() {
        val idle = synchronized(this) {
            if (closed) return
            closed = true
            calls == 0
        }
        if (idle) free()
    }

    private fun free() {
        val dead = synchronized(this) { pointer.also { pointer = 0L } }
        if (dead != 0L) NativeBridge.free(dead)
    }
}

/**
 * Frees the handles of classifiers that became unreachable without `close()`: the job
 * `java.lang.ref.Cleaner` does on the JVM, written with a phantom reference queue because
 * `Cleaner` needs Android API 33.
 */
internal object HandleReaper {
    private val queue = ReferenceQueue<Any>()
    private val pending: MutableSet<Registration> = ConcurrentHashMap.newKeySet()

    /** Ties [handle] to [owner]'s reachability until [Registration.clear]. */
    class Registration internal constructor(owner: Any, val handle: NativeHandle) : PhantomReference<Any>(owner, queue)

    init {
        thread(isDaemon = true, name = "efficientformer-reaper") {
            while (true) {
                // Like Cleaner's thread, outlive interrupts (hosts such as exec:java interrupt
                // every thread when their main method returns).
                val registration = try {
                    queue.remove() as Registration
                } catch (_: InterruptedException) {
                    continue
                }
                pending.remove(registration)
                registration.handle.release()
            }
        }
    }

    fun register(owner: Any, handle: NativeHandle): Registration = Registration(owner, handle).also { pending.add(it) }

    fun unregister(registration: Registration) {
        pending.remove(registration)
        registration.clear()
    }
}
