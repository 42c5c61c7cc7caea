package com.efficientformer.example

import com.efficientformer.Backend
import com.efficientformer.Classifier
import com.efficientformer.ClassifierOptions
import com.efficientformer.EfficientFormerException
import com.efficientformer.LatencyProbe
import com.efficientformer.ProbeOptions
import java.io.File
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking

private const val USAGE = """usage: efficientformer-kotlin [--model FILE] [--backend auto|cpu|gpu] [--top K] IMAGE...
       efficientformer-kotlin --probe [--runs N] [--warmup N] [--variants s0,s1,s2,l] [--backend cpu|gpu]"""

/** Classifies image files and prints the top-k, as `efficientformer classify` does; `--probe` runs the latency probe. */
fun main(args: Array<String>) {
    val options = mutableMapOf<String, String>()
    val images = mutableListOf<String>()
    var probe = false
    var i = 0
    while (i < args.size) {
        when (val arg = args[i]) {
            "--probe" -> probe = true
            "--model", "--backend", "--top", "--runs", "--warmup", "--variants" ->
                options[arg] = args.getOrNull(++i) ?: fail("$arg needs a value")
            "-h", "--help" -> { println(USAGE); return }
            else -> if (arg.startsWith("--")) fail("unknown option $arg") else images += arg
        }
        i++
    }
    try {
        if (probe) probe(options) else classify(options, images)
    } catch (e: EfficientFormerException) {
        System.err.println("error: ${e.message} (code ${e.code})")
        exitProcess(1)
    }
}

private fun fail(message: String): Nothing {
    System.err.println("error: $message\n$USAGE")
    exitProcess(2)
}

private fun classify(options: Map<String, String>, images: List<String>) {
    if (images.isEmpty()) fail("no images given")
    val backend = options["--backend"]?.let { name -> Backend.entries.find { it.name.equals(name, ignoreCase = true) } ?: fail("unknown backend $name") }
    val classifierOptions = ClassifierOptions(backend = backend ?: Backend.AUTO, topK = options["--top"]?.toIntOrNull() ?: 5)
    val model = options["--model"]
    val classifier = if (model != null) Classifier.fromFile(model, classifierOptions) else Classifier.embeddedDefault(classifierOptions)
    classifier.use {
        val info = it.info
        println("EfficientFormerV2-${info.variant} on ${info.backend} (${info.adapter})")
        info.backendNote?.let { note -> println("  $note") }
        if (info.untrained) println("  UNTRAINED seeded weights: these predictions are meaningless (pass --model FILE)")
        for (image in images) {
            val result = it.classifyBlocking(File(image).readBytes())
            println(image)
            result.top.forEachIndexed { rank, p -> println("  %d. %6.2f%%  [%3d] %s".format(rank + 1, p.score * 100, p.classIndex, p.label)) }
        }
    }
}

private fun probe(options: Map<String, String>) = runBlocking {
    val defaults = ProbeOptions()
    val report = LatencyProbe.run(
        defaults.copy(
            variants = options["--variants"]?.split(',') ?: defaults.variants,
            backends = options["--backend"]?.split(',') ?: defaults.backends,
            runs = options["--runs"]?.toIntOrNull() ?: defaults.runs,
            warmup = options["--warmup"]?.toIntOrNull() ?: defaults.warmup,
        ),
    )
    println(report.markdown)
    report.skipped.forEach { println("skipped $it") }
}
