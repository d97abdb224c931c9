import QuantGateTensors
import Testing

/// When QuantGate re-executes itself with OPENBLAS_CORETYPE, and the check it runs on the kernels it chose.
@Suite("OpenBLAS kernel family")
struct OpenBLASKernelsTests {
    @Test("a family older than the CPU is corrected to Haswell or SkylakeX, once, and never against the user's choice")
    func correction() throws {
        let corrected = try #require(OpenBLASKernels.correctedEnvironment(environment: ["PATH": "/bin"], detectedCore: "Prescott", cpuLevel: 3))
        #expect(corrected["OPENBLAS_CORETYPE"] == "SkylakeX" && corrected["QUANTGATE_OPENBLAS_DETECTED"] == "Prescott")
        #expect(corrected["PATH"] == "/bin")
        #expect(OpenBLASKernels.correctedEnvironment(environment: [:], detectedCore: "Sandybridge", cpuLevel: 2)?["OPENBLAS_CORETYPE"] == "Haswell")
        // Already right, or nothing better to ask for.
        #expect(OpenBLASKernels.correctedEnvironment(environment: [:], detectedCore: "Cooperlake", cpuLevel: 3) == nil)
        #expect(OpenBLASKernels.correctedEnvironment(environment: [:], detectedCore: "Haswell", cpuLevel: 2) == nil)
        #expect(OpenBLASKernels.correctedEnvironment(environment: [:], detectedCore: "Prescott", cpuLevel: 1) == nil)
        // A family this table does not know is left alone.
        #expect(OpenBLASKernels.correctedEnvironment(environment: [:], detectedCore: "Neoversen2", cpuLevel: 3) == nil)
        // The user's choice, the opt-out, and the re-executed process itself.
        #expect(OpenBLASKernels.correctedEnvironment(environment: ["OPENBLAS_CORETYPE": "Prescott"], detectedCore: "Prescott", cpuLevel: 3) == nil)
        #expect(OpenBLASKernels.correctedEnvironment(environment: ["QUANTGATE_NO_OPENBLAS_FIX": "1"], detectedCore: "Prescott", cpuLevel: 3) == nil)
        #expect(OpenBLASKernels.correctedEnvironment(environment: ["QUANTGATE_OPENBLAS_DETECTED": "Prescott"],
                                                     detectedCore: "Prescott", cpuLevel: 3) == nil)
    }

    @Test("the kernels in use pass the check against the scalar reference, and the selection names them")
    func verifyAndName() {
        #expect(OpenBLASKernels.verify())
        let selection = OpenBLASKernels.current
        #expect(selection.core == OpenBLASKernels.coreName && !selection.core.isEmpty)
        #expect(selection.summary.hasPrefix(selection.core))
    }
}
