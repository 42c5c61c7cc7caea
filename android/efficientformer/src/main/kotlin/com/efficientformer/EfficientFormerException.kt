package com.efficientformer

/**
 * A failure reported by the native SDK. [code] is the Rust core's stable error code
 * (`efficientformer::Error::code`), identical in Rust, Swift and Kotlin; the constants below
 * name them.
 */
class EfficientFormerException(val code: Int, message: String) : RuntimeException(message) {
    /** Stable error codes. */
    companion object {
        /** A panic inside the native library: a bug in the SDK, please report it. */
        const val INTERNAL = 0
        const val IO = 1
        const val INVALID_MODEL_FILE = 2
        const val UNRECOGNIZED_MODEL = 3
        const val MISSING_TENSOR = 4
        const val UNEXPECTED_TENSOR = 5
        const val SHAPE_MISMATCH = 6
        const val UNSUPPORTED_DTYPE = 7
        const val WRONG_VARIANT = 8
        const val INVALID_INPUT = 9
        const val BACKEND_UNAVAILABLE = 10
        const val INVALID_IMAGE = 11
        const val UNSUPPORTED_PIXEL_FORMAT = 12
        const val BUFFER_TOO_SMALL = 13
        const val INVALID_GEOMETRY = 14
        const val WRITE = 15
        /** The network computed a NaN or an infinity; no scores are returned. */
        const val NON_FINITE_OUTPUT = 16
        /** The call was cancelled (the suspend functions turn it into a `CancellationException`). */
        const val CANCELLED = 17
        /** A YUV plane holds fewer bytes than the frame's width, height and strides need. */
        const val PLANE_TOO_SMALL = 18
    }
}
