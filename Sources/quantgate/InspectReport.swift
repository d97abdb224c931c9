import Foundation
import QuantGateModel
import QuantGateReport
import QuantGateSafetensors

/// What `quantgate inspect` reports, as a table for people or JSON for machines.
struct InspectReport: Encodable {
    struct Architecture: Encodable {
        var modelType: String
        var hiddenSize, layers, heads, kvHeads, headDim, intermediateSize, vocabSize, maxPositionEmbeddings: Int
        var rmsNormEps, ropeTheta: Double
        var ropeScaling: String
        var tieWordEmbeddings, attentionBias: Bool
    }

    struct Tensor: Encodable {
        var name: String
        var dtype: String
        var shape: [Int]
        var file: String
    }

    struct Check: Encodable {
        var passed: Bool
        var missing: [String]
        var unexpected: [String]
        var wrongShape: [String]
        var wrongDType: [String]
        var ignored: [String]
    }

    var path: String
    var architecture: Architecture?
    var files: [String]
    var parameters: Int
    var bytesByDType: [String: Int]
    var tensorsByDType: [String: Int]
    var tensors: [Tensor]
    var check: Check?
    /// The check itself, to turn a failure into the command's error.
    var checkResult: TensorCheck?
    /// An artefact's structural checks (nil for a source checkpoint or a lone file).
    var structuralChecks: [StructuralCheck]?

    enum CodingKeys: String, CodingKey {
        case path, architecture, files, parameters, bytesByDType, tensorsByDType, tensors, check, structuralChecks
    }

    init(path: String, checkpoint: SafetensorsCheckpoint, configuration: LlamaConfiguration?, check: TensorCheck?) {
        self.path = path
        files = checkpoint.files.map { URL(fileURLWithPath: $0.path).lastPathComponent }
        let counted = checkpoint.tensors.filter { !LlamaConfiguration.isIgnoredBuffer($0.name) }
        parameters = counted.reduce(0) { $0 + $1.elementCount }
        bytesByDType = Dictionary(counted.map { ($0.dtype.rawValue, $0.byteCount) }, uniquingKeysWith: +)
        tensorsByDType = Dictionary(counted.map { ($0.dtype.rawValue, 1) }, uniquingKeysWith: +)
        tensors = checkpoint.files.flatMap { file in
            let name = URL(fileURLWithPath: file.path).lastPathComponent
            return file.tensors.map { Tensor(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape, file: name) }
        }.sorted { Self.naturalOrder($0.name, $1.name) }
        architecture = configuration.map(Self.architecture)
        checkResult = check
        self.check = check.map {
            Check(passed: $0.passed, missing: $0.missing.map(\.name), unexpected: $0.unexpected.map(\.name),
                  wrongShape: $0.wrongShape.map { "\($0.name): expected \($0.expected), found \($0.actual)" },
                  wrongDType: $0.wrongDType.map { "\($0.name) is \($0.dtype.rawValue); weights must be a float dtype" },
                  ignored: $0.ignored)
        }
    }

    func text() -> String {
        var lines = ["Model:        \(path)"]
        if let a = architecture {
            lines.append("Architecture: \(a.modelType) · hidden \(a.hiddenSize) · layers \(a.layers) · heads \(a.heads) "
                + "(kv \(a.kvHeads), head_dim \(a.headDim)) · intermediate \(a.intermediateSize) · vocab \(a.vocabSize)")
            lines.append("              rope θ \(a.ropeTheta) (scaling: \(a.ropeScaling)) · rms eps \(a.rmsNormEps) · "
                + "context \(a.maxPositionEmbeddings) · tied embeddings: \(a.tieWordEmbeddings ? "yes" : "no")"
                + (a.attentionBias ? " · attention bias" : ""))
        }
        lines.append("Files:        \(files.joined(separator: ", "))")
        lines.append("Parameters:   \(Self.grouped(parameters)) (\(Self.humanCount(parameters)))")
        lines.append("Bytes by dtype:")
        for (dtype, bytes) in bytesByDType.sorted(by: { $0.value > $1.value }) {
            let count = tensorsByDType[dtype] ?? 0
            lines.append("  \(dtype.padded(to: 8))\(Self.grouped(bytes)) bytes in \(count) tensors")
        }
        let nameWidth = max(tensors.map(\.name.count).max() ?? 4, 4)
        lines.append("")
        lines.append("  " + "name".padded(to: nameWidth) + "  dtype    shape")
        for tensor in tensors {
            let shape = "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]"
            lines.append("  " + tensor.name.padded(to: nameWidth) + "  "
                + tensor.dtype.padded(to: 8) + " " + shape)
        }
        if let check {
            lines.append("")
            if check.passed {
                lines.append("Check against config.json: OK, every tensor present with the expected shape and a float dtype"
                    + (check.ignored.isEmpty ? "" : " (\(check.ignored.count) weightless buffers ignored)"))
            } else {
                lines.append("Check against config.json: FAILED")
                lines += check.missing.map { "  missing:     \($0)" }
                lines += check.unexpected.map { "  unexpected:  \($0)" }
                lines += check.wrongShape.map { "  wrong shape: \($0)" }
                lines += check.wrongDType.map { "  wrong dtype: \($0)" }
            }
        }
        if let structuralChecks { lines += InspectChecks.lines(structuralChecks) }
        return lines.joined(separator: "\n")
    }

    private static func architecture(_ c: LlamaConfiguration) -> Architecture {
        let scaling: String
        switch c.ropeScaling {
        case .none: scaling = "none"
        case .linear(let factor): scaling = "linear ×\(factor)"
        case .llama3(let factor, let low, let high, let original):
            scaling = "llama3 ×\(factor) (low \(low), high \(high), original context \(original))"
        }
        return Architecture(
            modelType: c.family.rawValue, hiddenSize: c.hiddenSize, layers: c.layerCount, heads: c.headCount,
            kvHeads: c.kvHeadCount, headDim: c.headDim, intermediateSize: c.intermediateSize, vocabSize: c.vocabSize,
            maxPositionEmbeddings: c.maxPositionEmbeddings, rmsNormEps: c.rmsNormEps, ropeTheta: c.ropeTheta,
            ropeScaling: scaling, tieWordEmbeddings: c.tieWordEmbeddings, attentionBias: c.attentionBias)
    }

    /// Orders `layers.10` after `layers.9` by comparing digit runs as numbers.
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: [.numeric]) == .orderedAscending
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    static func humanCount(_ value: Int) -> String {
        switch value {
        case 1_000_000_000...: String(format: "%.2fB", Double(value) / 1e9)
        case 1_000_000...: String(format: "%.2fM", Double(value) / 1e6)
        case 1_000...: String(format: "%.1fK", Double(value) / 1e3)
        default: "\(value)"
        }
    }
}

extension String {
    /// Right-padded with spaces to `width` characters; never truncated.
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
