package com.efficientformer.camera

import android.content.Context
import com.efficientformer.Classifier
import com.efficientformer.ClassifierOptions
import java.io.File
import java.io.FileInputStream
import java.io.FileNotFoundException
import java.nio.channels.FileChannel

/** The model file the app looks for, produced by `efficientformer convert` (see the README). */
const val MODEL_FILE = "model.safetensors"

/**
 * The user's converted model, from the first place that has one: the app's external files
 * directory (`adb push`, no rebuild), then the APK's assets (stored uncompressed and mapped,
 * not copied). Without either, the embedded default: seeded, untrained S0 (the caller shows
 * [UNTRAINED_WARNING] when `info.untrained`).
 */
fun openClassifier(context: Context, options: ClassifierOptions = ClassifierOptions(topK = 3)): Classifier {
    val pushed = context.getExternalFilesDir(null)?.let { File(it, MODEL_FILE) }
    if (pushed != null && pushed.isFile) return Classifier.fromFile(pushed.path, options)
    val asset = try {
        context.assets.openFd(MODEL_FILE)
    } catch (_: FileNotFoundException) {
        null
    }
    asset?.use { descriptor ->
        FileInputStream(descriptor.fileDescriptor).channel.use { channel ->
            val mapped = channel.map(FileChannel.MapMode.READ_ONLY, descriptor.startOffset, descriptor.length)
            return Classifier.fromBuffer(mapped, options)
        }
    }
    return Classifier.embeddedDefault(options)
}
