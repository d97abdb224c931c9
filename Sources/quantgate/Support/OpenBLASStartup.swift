import Foundation
import QuantGateTensors

/// Runs before any command: when OpenBLAS chose kernels older than the CPU supports, re-executes this
/// process once with `OPENBLAS_CORETYPE` set (the family is fixed when the library loads), then checks the
/// new kernels on a small product against a scalar reference, going back to OpenBLAS's own choice if they fail.
/// `OPENBLAS_CORETYPE` set by the user, or `QUANTGATE_NO_OPENBLAS_FIX=1`, leaves OpenBLAS's choice alone.
enum OpenBLASStartup {
    static func run() {
        _ = RunFacts.processStart
        let environment = ProcessInfo.processInfo.environment
        if let corrected = OpenBLASKernels.correctedEnvironment(environment: environment) {
            reexecute(with: corrected)   // returns only when exec fails: run on with OpenBLAS's choice
            return
        }
        if let detected = environment[OpenBLASKernels.detectedVariable], !OpenBLASKernels.verify() {
            ErrorReporter.warn("OpenBLAS's \(OpenBLASKernels.coreName) kernels computed a wrong product on this CPU; "
                               + "running with the \(detected) kernels OpenBLAS chose itself")
            var restored = environment
            restored[OpenBLASKernels.coreTypeVariable] = nil
            restored[OpenBLASKernels.detectedVariable] = nil
            restored[OpenBLASKernels.optOutVariable] = "1"
            reexecute(with: restored)
        }
    }

    /// `execve` of this executable with the same arguments and `environment`.
    private static func reexecute(with environment: [String: String]) {
        let entries = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        entries.withUnsafeBufferPointer { envp in
            _ = execve("/proc/self/exe", CommandLine.unsafeArgv, envp.baseAddress!)
        }
        for entry in entries { free(entry) }
    }
}
