package com.efficientformer

/**
 * A native cancellation flag for one call (`CancelToken` in the Rust core): [cancel] makes the
 * running call stop at its next stage boundary with [EfficientFormerException.CANCELLED].
 * [close] frees it once the call has returned; [cancel] after [close] does nothing.
 */
internal class CancelSignal : AutoCloseable {
    private var pointer = NativeBridge.newCancelToken()

    /** The token to pass to a native call; valid until [close]. */
    val token: Long
        @Synchronized get() = pointer

    @Synchronized
    fun cancel() {
        if (pointer != 0L) NativeBridge.cancel(pointer)
    }

    @Synchronized
    override fun close() {
        if (pointer != 0L) {
            NativeBridge.freeCancelToken(pointer)
            pointer = 0L
        }
    }
}
