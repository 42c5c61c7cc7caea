package com.efficientformer

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * What the probe measures; the defaults are the paper's protocol (50 warm-up runs, then the
 * mean of 500, batch 1) over S0, S1, S2 and L on the CPU and the GPU.
 *
 * @property variants `s0`, `s1`, `s2`, `l`, run on seeded weights (latency does not depend on
 *   weight values).
 * @property modelPath a model file to measure instead of [variants].
 * @property backends `cpu`, `gpu`, `auto`, or a backend name such as `flex`.
 * @property threads CPU threads; `null` uses one per core.
 * @property precisions the precisions to measure each variant and backend in (a row's
 *   [ProbeRow.precision] says which ran).
 */
data class ProbeOptions(
    val variants: List<String> = listOf("s0", "s1", "s2", "l"),
    val modelPath: String? = null,
    val backends: List<String> = listOf("cpu", "gpu"),
    val warmup: Int = 50,
    val runs: Int = 500,
    val threads: Int? = null,
    val batch: Int = 1,
    val precisions: List<Precision> = listOf(Precision.F32),
)

/**
 * One variant on one backend in one precision. Times in milliseconds; [paperMs] is the paper's
 * iPhone 12 figure (Core ML on the Neural Engine), `null` for a custom model.
 */
class ProbeRow internal constructor(
    val variant: String,
    val backend: String,
    precision: String,
    requestedPrecision: String,
    val adapter: String,
    threads: Int,
    val parameters: Long,
    val gmacs: Double,
    paperMs: Double,
    val loadMs: Double,
    val coldMs: Double,
    val meanMs: Double,
    val medianMs: Double,
    val p90Ms: Double,
    val p99Ms: Double,
    val minMs: Double,
    val stdMs: Double,
    val runsPerSecond: Double,
    peakRssBytes: Long,
) {
    /** The precision that ran ([Precision.F32] where [Precision.F16] was asked for without it). */
    val precision: Precision = Precision.of(precision)
    val requestedPrecision: Precision = Precision.of(requestedPrecision)

    /** CPU threads; `null` for one per core or a GPU backend. */
    val threads: Int? = threads.takeIf { it >= 0 }
    val paperMs: Double? = paperMs.takeUnless { it.isNaN() }
    val peakRssBytes: Long? = peakRssBytes.takeIf { it >= 0 }

    override fun toString(): String = "ProbeRow($variant/$backend/${precision.id}: mean $meanMs ms)"
}

/**
 * The probe's result: [rows], the combinations that could not run ([skipped], with reasons),
 * and the core's renderings: [json] (schema `core/src/probe/schema.json`), [markdown] (the
 * table beside the paper's) and [tfliteSummary] (`benchmark_model`-style lines).
 */
class ProbeReport internal constructor(
    rows: Array<ProbeRow>,
    skipped: Array<String>,
    val json: String,
    val markdown: String,
    val tfliteSummary: String,
) {
    val rows: List<ProbeRow> = rows.asList()
    val skipped: List<String> = skipped.asList()
}

/** The latency probe: the paper's iPhone 12 table (Table 1) measured on this device. */
object LatencyProbe {
    /** Runs the probe on the calling thread; takes as long as the protocol does. */
    @JvmStatic
    fun runBlocking(options: ProbeOptions = ProbeOptions()): ProbeReport {
        require(options.threads == null || options.threads >= 0) { "threads must not be negative" }
        return NativeBridge.runProbe(
            options.variants.joinToString(","),
            options.modelPath,
            options.backends.joinToString(","),
            options.warmup,
            options.runs,
            options.threads ?: -1,
            options.batch,
            options.precisions.joinToString(",") { it.id },
        )
    }

    /** [runBlocking] on [Dispatchers.Default]. */
    suspend fun run(options: ProbeOptions = ProbeOptions()): ProbeReport =
        withContext(Dispatchers.Default) { runBlocking(options) }
}
