import CBLAS
import CKernels
import Foundation

/// Which OpenBLAS kernel family runs QuantGate's products, and the correction when OpenBLAS picks one
/// older than the CPU supports.
///
/// A `DYNAMIC_ARCH` OpenBLAS chooses its kernels from CPUID at load time. A release that does not know
/// a newer CPU (Debian 12's 0.3.21 on Sapphire Rapids), or a VM that masks CPUID, falls back to
/// `Prescott` (SSE3), and every product runs 4–5× slower. The kernel family can only be chosen before
/// the library loads (`OPENBLAS_CORETYPE`), so the command-line tool re-executes itself once with it set
/// (``correctedEnvironment(environment:)``), verifies the new kernels on a small product against a scalar
/// reference (``verify()``), and names the family in use in its reports (``Selection``).
public enum OpenBLASKernels {
    /// Set by QuantGate in the re-executed process: the family OpenBLAS had detected on its own.
    public static let detectedVariable = "QUANTGATE_OPENBLAS_DETECTED"
    /// Set to 1 by the user to keep OpenBLAS's own choice.
    public static let optOutVariable = "QUANTGATE_NO_OPENBLAS_FIX"
    /// OpenBLAS's own override.
    public static let coreTypeVariable = "OPENBLAS_CORETYPE"

    /// The kernel family in use and how it was chosen, as reports print it.
    public struct Selection: Sendable, Codable, Equatable {
        /// OpenBLAS's name for the family in use (`openblas_get_corename()`), e.g. `SkylakeX`.
        public var core: String
        /// `detected` (OpenBLAS's own choice), `corrected` (QuantGate set OPENBLAS_CORETYPE) or `user`.
        public var chosenBy: String
        /// What OpenBLAS detected on its own, when QuantGate corrected it.
        public var detected: String?
        /// The CPU's widest vector ISA as OpenBLAS's families need it: `avx512`, `avx2`, `avx` or `sse`.
        public var cpu: String

        /// One line: `SkylakeX (set by QuantGate: OpenBLAS detected Prescott on an avx512 CPU)`.
        public var summary: String {
            switch chosenBy {
            case "corrected": return "\(core) (set by QuantGate: OpenBLAS detected \(detected ?? "?") on an \(cpu) CPU)"
            case "user": return "\(core) (\(coreTypeVariable) set by the user)"
            default: return "\(core) (detected by OpenBLAS on an \(cpu) CPU)"
            }
        }
    }

    /// The family in use in this process.
    public static var current: Selection {
        let environment = ProcessInfo.processInfo.environment
        let detected = environment[detectedVariable]
        let chosenBy = detected != nil ? "corrected" : environment[coreTypeVariable] != nil ? "user" : "detected"
        return Selection(core: coreName, chosenBy: chosenBy, detected: detected, cpu: isaName(cpuLevel))
    }

    /// `openblas_get_corename()`.
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// The CPU's vector level (see `qg_cpu_vector_level`).
    public static var cpuLevel: Int { Int(qg_cpu_vector_level()) }

    /// The vector level an OpenBLAS family's kernels use; nil for a name this table does not know (left alone).
    public static func level(ofCore name: String) -> Int? {
        switch name.lowercased() {
        case "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "opteron", "opteron(sse3)", "barcelona",
             "nano", "bobcat":
            return 0
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator":
            return 1
        case "haswell", "zen":
            return 2
        case "skylakex", "cooperlake", "sapphirerapids":
            return 3
        default:
            return nil
        }
    }

    /// The family QuantGate asks for on a CPU of `level`: nil below AVX2 (nothing better to ask for).
    public static func preferredCore(forLevel level: Int) -> String? {
        level >= 3 ? "SkylakeX" : level == 2 ? "Haswell" : nil
    }

    /// The environment to re-execute with when OpenBLAS chose a family older than the CPU supports, or nil
    /// to run as is: when the user set `OPENBLAS_CORETYPE` or `QUANTGATE_NO_OPENBLAS_FIX=1`, when this
    /// process is already the re-executed one, or when the detected family is unknown or as new as the CPU.
    public static func correctedEnvironment(environment: [String: String], detectedCore: String = coreName,
                                            cpuLevel: Int = cpuLevel) -> [String: String]? {
        guard environment[coreTypeVariable] == nil, environment[optOutVariable] != "1", environment[detectedVariable] == nil,
              let detectedLevel = level(ofCore: detectedCore), detectedLevel < cpuLevel,
              let preferred = preferredCore(forLevel: cpuLevel)
        else { return nil }
        var corrected = environment
        corrected[coreTypeVariable] = preferred
        corrected[detectedVariable] = detectedCore
        return corrected
    }

    /// Whether the kernels in use compute a small single-precision product (odd shapes, both transposes the
    /// forward pass uses) within f32 rounding of a scalar double reference.
    public static func verify() -> Bool {
        let (m, n, k) = (37, 53, 301)
        var rng = SplitMix64(seed: 0x0B1A5)
        let a = (0..<(m * k)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 997 }
        let b = (0..<(n * k)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 991 }
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    BLAS.serialGEMM(transposeB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!,
                                    ldb: k, c: cp.baseAddress!, ldc: n)
                }
            }
        }
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let product = Double(a[i * k + p]) * Double(b[j * k + p])
                    exact += product
                    magnitude += abs(product)
                }
                // f32 accumulation over k terms: error below k · ε · Σ|products| (a loose, never-flaky bound).
                guard abs(Double(c[i * n + j]) - exact) <= Double(k) * 1.2e-7 * magnitude + 1e-30 else { return false }
            }
        }
        return true
    }

    private static func isaName(_ level: Int) -> String {
        ["sse", "avx", "avx2", "avx512"][max(0, min(3, level))]
    }
}
