package com.efficientformer

import java.lang.ref.PhantomReference
import java.lang.ref.ReferenceQueue
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.locks.ReentrantReadWriteLock
import kotlin.concurrent.read
import kotlin.concurrent.thread
import kotlin.concurrent.write

/**
 * The native classifier pointer and the lock that guards it: calls hold the read lock (so
 * they run concurrently), [release] takes the write lock, so it waits for running calls and
 * frees the pointer exactly once.
 */
internal class NativeHandle(private var pointer: Long) {
    private val lock = ReentrantReadWriteLock()

    /** Runs [block] with the live pointer; throws [IllegalStateException] once released. */
    fun <T> use(block: (Long) -> T): T = lock.read {
        check(pointer != 0L) { "Classifier is closed" }
        block(pointer)
    }

    /** Frees the native classifier; later calls are no-ops. */
    fun release() = lock.write {
        if (pointer != 0L) {
            NativeBridge.free(pointer)
            pointer = 0L
        }
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
