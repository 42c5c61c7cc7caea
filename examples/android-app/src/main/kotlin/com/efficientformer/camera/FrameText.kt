package com.efficientformer.camera

import com.efficientformer.Classification
import java.util.Locale

/** Shown above the results while the embedded default model runs (the CLI's warning). */
const val UNTRAINED_WARNING =
    "UNTRAINED seeded weights: these predictions are meaningless (convert a checkpoint, see the README)"

/**
 * The overlay's text for one classified frame: the top-3 classes with their probabilities,
 * then the milliseconds the classification took and the frames dropped so far.
 */
fun frameText(result: Classification, millis: Double, droppedFrames: Long, untrained: Boolean): String = buildString {
    if (untrained) appendLine(UNTRAINED_WARNING)
    for (prediction in result.top.take(3)) {
        appendLine(String.format(Locale.ROOT, "%5.1f%%  %s", prediction.score * 100, prediction.label))
    }
    append(String.format(Locale.ROOT, "%.1f ms per frame, %d dropped", millis, droppedFrames))
}

/**
 * The clockwise rotation that turns a camera2 frame upright on a display turned
 * [displayDegrees] from its natural orientation (camera2 frames carry no rotation: Android's
 * `CameraCharacteristics.SENSOR_ORIENTATION` documentation gives this formula).
 */
fun frameRotation(sensorDegrees: Int, displayDegrees: Int, frontFacing: Boolean): Int =
    if (frontFacing) (sensorDegrees + displayDegrees) % 360 else (sensorDegrees - displayDegrees + 360) % 360
