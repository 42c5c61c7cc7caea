import Dispatch
import EfficientFormerBindings
import Foundation

/// Every failure the SDK reports. Each case carries the Rust core's stable `code`
/// (`efficientformer::Error::code`, equal in Rust, Swift and Kotlin) and a message, which is
/// also the error's `localizedDescription`. A cancelled `Task` gets `CancellationError`.
public enum EfficientFormerError: Error, Equatable, Sendable, LocalizedError, CustomStringConvertible {
    /// A file could not be read.
    case io(code: UInt32, message: String)
    /// Not a readable safetensors or PyTorch file.
    case invalidModelFile(code: UInt32, message: String)
    /// A readable file that is not an EfficientFormerV2 network.
    case unrecognizedModel(code: UInt32, message: String)
    /// The file holds another variant than the one asked for.
    case wrongVariant(code: UInt32, message: String)
    /// An argument or input tensor is malformed.
    case invalidInput(code: UInt32, message: String)
    /// The requested compute backend cannot run on this device.
    case backendUnavailable(code: UInt32, message: String)
    /// Encoded image bytes could not be decoded.
    case invalidImage(code: UInt32, message: String)
    /// A pixel buffer or YUV plane is too small, or its geometry, format, crop or orientation
    /// is impossible.
    case invalidPixelBuffer(code: UInt32, message: String)
    /// A file could not be written.
    case write(code: UInt32, message: String)
    /// The network computed a NaN or an infinity; no scores are returned.
    case nonFiniteOutput(code: UInt32, message: String)
    /// A failure inside the SDK itself (a panic, code 0): a bug, please report it.
    case internalError(code: UInt32, message: String)

    /// The stable numeric code of this error.
    public var code: UInt32 { parts.code }

    /// What went wrong, for people.
    public var message: String { parts.message }

    public var errorDescription: String? { message }

    public var description: String { "EfficientFormerError \(code): \(message)" }

    private var parts: (code: UInt32, message: String) {
        switch self {
        case .io(let code, let message), .invalidModelFile(let code, let message), .unrecognizedModel(let code, let message),
             .wrongVariant(let code, let message), .invalidInput(let code, let message), .backendUnavailable(let code, let message),
             .invalidImage(let code, let message), .invalidPixelBuffer(let code, let message), .write(let code, let message),
             .nonFiniteOutput(let code, let message), .internalError(let code, let message):
            return (code, message)
        }
    }

    /// The generated bindings' error, renamed to Swift's conventions.
    init(_ native: NativeError) {
        switch native {
        case .Io(let code, let message): self = .io(code: code, message: message)
        case .InvalidModelFile(let code, let message): self = .invalidModelFile(code: code, message: message)
        case .UnrecognizedModel(let code, let message): self = .unrecognizedModel(code: code, message: message)
        case .WrongVariant(let code, let message): self = .wrongVariant(code: code, message: message)
        case .InvalidInput(let code, let message): self = .invalidInput(code: code, message: message)
        case .BackendUnavailable(let code, let message): self = .backendUnavailable(code: code, message: message)
        case .InvalidImage(let code, let message): self = .invalidImage(code: code, message: message)
        case .InvalidPixelBuffer(let code, let message): self = .invalidPixelBuffer(code: code, message: message)
        case .Write(let code, let message): self = .write(code: code, message: message)
        case .NonFiniteOutput(let code, let message): self = .nonFiniteOutput(code: code, message: message)
        // Only calls given a token are cancelled, and those map it to CancellationError first.
        case .Cancelled(let code, let message), .Internal(let code, let message): self = .internalError(code: code, message: message)
        }
    }
}

/// Runs a generated binding call, narrowing its untyped `throws` to ``EfficientFormerError``;
/// anything else UniFFI raises (a Rust panic) becomes `.internalError` with code 0.
func ffiCall<T>(_ body: () throws -> T) throws(EfficientFormerError) -> T {
    do {
        return try body()
    } catch let error as NativeError {
        throw EfficientFormerError(error)
    } catch {
        throw .internalError(code: 0, message: "internal error in the native library: \(error)")
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

/// ``offload(_:)`` for a call that takes a cancellation token: cancelling the awaiting `Task`
/// cancels the token, the core stops at its next stage boundary, and this throws
/// `CancellationError` (also when the task was cancelled before the call began).
func cancellable<T>(_ work: @escaping @Sendable (CancellationToken) throws -> T) async throws -> T {
    try Task.checkCancellation()
    let token = CancellationToken()
    let result: Result<T, Error> = await withTaskCancellationHandler {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: Result { try work(token) })
            }
        }
    } onCancel: {
        token.cancel()
    }
    switch result {
    case .success(let value):
        return value
    case .failure(let error as NativeError):
        if case .Cancelled = error { throw CancellationError() }
        throw EfficientFormerError(error)
    case .failure(let error as EfficientFormerError):
        throw error
    case .failure(let error):
        throw EfficientFormerError.internalError(code: 0, message: "internal error in the native library: \(error)")
    }
}
