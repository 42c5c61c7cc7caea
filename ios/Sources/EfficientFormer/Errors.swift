import Dispatch
import EfficientFormerBindings

/// Every failure the SDK reports. Each case carries the Rust core's stable `code`
/// (`efficientformer::Error::code`, equal in Rust, Swift and Kotlin) and a message.
public typealias EfficientFormerError = EfficientFormerBindings.EfficientFormerError

extension EfficientFormerError {
    /// The stable numeric code of this error.
    public var code: UInt32 {
        switch self {
        case .Io(let code, _), .InvalidModelFile(let code, _), .UnrecognizedModel(let code, _),
             .WrongVariant(let code, _), .InvalidInput(let code, _), .BackendUnavailable(let code, _),
             .InvalidImage(let code, _), .InvalidPixelBuffer(let code, _), .Write(let code, _),
             .NonFiniteOutput(let code, _), .Internal(let code, _):
            return code
        }
    }
}

/// Runs a generated binding call, narrowing its untyped `throws` to ``EfficientFormerError``;
/// anything else UniFFI raises (a Rust panic) becomes `.Internal` with code 0.
func ffiCall<T>(_ body: () throws -> T) throws(EfficientFormerError) -> T {
    do {
        return try body()
    } catch let error as EfficientFormerError {
        throw error
    } catch {
        throw .Internal(code: 0, message: "internal error in the native library: \(error)")
    }
}

/// Runs blocking work on a global dispatch queue so `async` callers never block Swift's
/// cooperative thread pool with inference.
func offload<T>(_ work: @escaping @Sendable () throws(EfficientFormerError) -> T) async throws(EfficientFormerError) -> T {
    let result: Result<T, EfficientFormerError> = await withCheckedContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(returning: Result(catching: work))
        }
    }
    return try result.get()
}
