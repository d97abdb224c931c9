import ArgumentParser
import Foundation
import QuantGateAssessment
import QuantGateCalibration
import QuantGateFormats
import QuantGateHDF5
import QuantGateEval
import QuantGateModel
import QuantGateOutput
import QuantGateQuantize
import QuantGateReport
import QuantGateSafetensors
import QuantGateTokenizer

/// The process exit codes, decided in this one place.
enum ExitStatus: Int32 {
    case success = 0
    /// A gate evaluated and failed: a result, not an error.
    case gateFailed = 1
    /// Bad flags, or bad input files (anything a user can fix).
    case usageOrInputError = 2
    /// A bug (the message asks for a report); never a full disk or another input problem, which are 2.
    case internalError = 3

    /// True for the library's own input errors, whose description is the whole message.
    static func isQuantGateError(_ error: any Error) -> Bool {
        error is SafetensorsError || error is ModelError || error is TokenizerError || error is EvalError
            || error is InputError || error is CalibrationDataError || error is CalibrationError || error is HDF5Error || error is GGUFError
            || error is AssessmentError || error is ReportError || error is QuantizedCheckpointError || error is FP8QuantizationError
            || error is GPTQError || error is AWQError || error is OutputError
    }

    /// A Foundation file error that escaped the library (reading or writing a path the user gave): the path
    /// and the reason in plain words, an input error. Nil for any other error.
    static func fileError(_ error: any Error) -> String? {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain,
              let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path else { return nil }
        return "\(path): \(OutputError.plainReason(error))"
    }

    init(for error: any Error) {
        switch error {
        case _ where Self.isQuantGateError(error) || Self.fileError(error) != nil, is ValidationError:
            self = .usageOrInputError
        case let exit as ExitCode:
            self = exit == .success ? .success : exit.rawValue == ExitStatus.gateFailed.rawValue ? .gateFailed : .usageOrInputError
        default:
            switch QuantGateCommand.exitCode(for: error) {
            case .success: self = .success
            case .validationFailure: self = .usageOrInputError
            default: self = .internalError
            }
        }
    }
}

/// A bug found by the CLI itself (exit 3): the message says what is inconsistent.
struct InternalError: Error, CustomStringConvertible {
    let description: String
}

/// A user-facing input problem found by the CLI itself (a path that does not exist, …).
struct InputError: Error, CustomStringConvertible {
    let description: String
}
