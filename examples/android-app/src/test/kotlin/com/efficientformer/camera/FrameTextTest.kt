package com.efficientformer.camera

import com.efficientformer.Classification
import com.efficientformer.Prediction
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class FrameTextTest {
    private val result = Classification(
        top = listOf(Prediction(281, "tabby, tabby cat", 0.6123f), Prediction(285, "Egyptian cat", 0.2f), Prediction(282, "tiger cat", 0.05f), Prediction(1, "goldfish", 0.01f)),
        probabilities = FloatArray(1000),
        logits = FloatArray(1000),
    )

    @Test
    fun `top-3, milliseconds and drops`() {
        assertEquals(
            " 61.2%  tabby, tabby cat\n 20.0%  Egyptian cat\n  5.0%  tiger cat\n12.3 ms per frame, 7 dropped",
            frameText(result, 12.345, 7, untrained = false),
        )
    }

    @Test
    fun `the untrained warning comes first`() {
        assertEquals(UNTRAINED_WARNING, frameText(result, 1.0, 0, untrained = true).lines().first())
    }

    @Test
    fun `rotation follows camera2's SENSOR_ORIENTATION formula`() {
        assertEquals(90, frameRotation(90, 0, frontFacing = false))
        assertEquals(0, frameRotation(90, 90, frontFacing = false))
        assertEquals(180, frameRotation(90, 270, frontFacing = false))
        assertEquals(0, frameRotation(270, 90, frontFacing = true))
        assertEquals(270, frameRotation(270, 0, frontFacing = true))
    }
}
