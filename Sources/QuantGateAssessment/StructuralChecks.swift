import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateOutput
import QuantGateQuantize
import QuantGateReport
import QuantGateSafetensors
import QuantGateTokenizer

/// Checks on a candidate's files, made before any forward pass: a candidate that fails one is not
/// the model the format promises, whatever its perplexity says.
///
/// - `shape`: the candidate's architecture equals the baseline's.
/// - `tokenizer`: same vocabulary (every token string), same BOS/EOS/unknown ids, and the same ids
///   for a probe of the evaluation text.
/// - `quantized-tensors` (GGUF): every tensor the declared file type quantizes is quantized, and every
///   tensor llama.cpp keeps in float (norms, 1-D tensors) is not.
/// - `finite-values`: every weight (after dequantization, so every block scale) is finite.
/// - `non-constant`: no weight tensor is all zeros or one repeated value.
/// - `quantized-tensors` (FP8): every Linear outside `ignore` is stored as E4M3, and the ignored
///   ones, embeddings and norms are not.
/// - `scales` (FP8): every `weight_scale` and `input_scale` is finite and positive.
/// - `quantized-tensors`, `scales` and `group-index` (GPTQ, AWQ): see `StructuralChecks+Packed.swift`.
/// - `loads-in-vllm` (FP8, GPTQ, AWQ): vLLM's acceptance rules, see `StructuralChecks+Loader.swift`.
/// - `size-band` (GGUF): tensor bytes within ±10 % of what the declared file type implies for these
///   shapes (a mislabelled or truncated-then-padded file shows up here).
/// - `tensors` (an unquantized directory): every tensor config.json describes, with its shape, in a float dtype.
/// - `shard-index` (directories): several weights files come with the `model.safetensors.index.json`
///   that loaders read them through.
public enum StructuralChecks {
    /// Runs every check that applies to `candidate`'s format: the comparisons with `baseline`, then ``artefact(_:)``.
    public static func run(candidate: ModelArtefact, baseline: ModelArtefact, probeText: String) -> [StructuralCheck] {
        [shape(candidate, baseline), tokenizer(candidate.tokenizer, baseline.tokenizer, probe: probeText)] + artefact(candidate)
    }

    /// The checks of an artefact on its own, without a baseline: what `inspect` runs, and the gate after comparing.
    public static func artefact(_ candidate: ModelArtefact) -> [StructuralCheck] {
        var checks: [StructuralCheck] = []
        if let source = candidate.source {
            checks.append(tensors(source.check()))
        }
        if let gguf = candidate.gguf {
            checks.append(quantizedTensors(gguf))
            checks.append(sizeBand(gguf, configuration: candidate.configuration))
        }
        if let fp8 = candidate.fp8 {
            checks += [fp8QuantizedTensors(fp8), fp8Scales(fp8)]
        }
        if let gptq = candidate.gptq {
            checks += [packedQuantizedTensors(gptq, scheme: "\(gptq.config.bits)-bit GPTQ", configuration: candidate.configuration),
                       gptqScales(gptq), gptqGroupIndex(gptq)]
        }
        if let awq = candidate.awq {
            checks += [packedQuantizedTensors(awq, scheme: "4-bit AWQ (group \(awq.config.groupSize))", configuration: candidate.configuration),
                       awqScales(awq, configuration: candidate.configuration)]
        }
        if let loader = loadsInVLLM(candidate) {
            checks.append(loader)
        }
        if let weights = candidate.safetensors {
            checks.append(shardIndex(weights))
        }
        checks += values(candidate)
        return checks
    }

    static func tensors(_ check: TensorCheck) -> StructuralCheck {
        let problems = check.missing.map { "\($0.name) is missing" } + check.unexpected.map { "\($0.name) is unexpected" }
            + check.wrongShape.map { "\($0.name) has shape \($0.actual), config.json implies \($0.expected)" }
            + check.wrongDType.map { "\($0.name) is \($0.dtype.rawValue), not a float dtype" }
        return summarised("tensors", problems: problems, passing: "every tensor config.json describes, with its shape, in a float dtype")
    }

    static func shardIndex(_ checkpoint: SafetensorsCheckpoint) -> StructuralCheck {
        let names = checkpoint.files.map { URL(fileURLWithPath: $0.path).lastPathComponent }
        let passed = names.count == 1 || checkpoint.indexPath != nil
        return StructuralCheck(
            name: "shard-index", passed: passed,
            detail: names.count == 1 ? "one weights file, \(names[0])"
                : passed ? "\(names.count) shards listed in \(SafetensorsCheckpoint.indexFileName)"
                : "\(names.count) weights files (\(names.prefix(3).joined(separator: ", "))\(names.count > 3 ? ", …" : "")) "
                    + "but no \(SafetensorsCheckpoint.indexFileName): loaders read shards through it")
    }

    static func shape(_ candidate: ModelArtefact, _ baseline: ModelArtefact) -> StructuralCheck {
        let a = candidate.configuration, b = baseline.configuration
        let fields: [(String, Int, Int)] = [
            ("vocab_size", a.vocabSize, b.vocabSize), ("hidden_size", a.hiddenSize, b.hiddenSize),
            ("num_hidden_layers", a.layerCount, b.layerCount), ("num_attention_heads", a.headCount, b.headCount),
            ("num_key_value_heads", a.kvHeadCount, b.kvHeadCount), ("intermediate_size", a.intermediateSize, b.intermediateSize),
        ]
        let differing = fields.filter { $0.1 != $0.2 }.map { "\($0.0) \($0.1) (baseline \($0.2))" }
        return StructuralCheck(name: "shape", passed: differing.isEmpty,
                               detail: differing.isEmpty ? "architecture equals the baseline's" : differing.joined(separator: ", "))
    }

    static func tokenizer(_ candidate: Tokenizer, _ baseline: Tokenizer, probe: String) -> StructuralCheck {
        func fail(_ detail: String) -> StructuralCheck { StructuralCheck(name: "tokenizer", passed: false, detail: detail) }
        guard candidate.vocabularySize == baseline.vocabularySize else {
            return fail("vocabulary of \(candidate.vocabularySize) tokens, the baseline's \(baseline.vocabularySize)")
        }
        let specials: [(String, Int?, Int?)] = [("BOS", candidate.bosTokenID, baseline.bosTokenID),
                                                ("EOS", candidate.eosTokenID, baseline.eosTokenID),
                                                ("unknown", candidate.unknownTokenID, baseline.unknownTokenID)]
        for (name, ours, theirs) in specials where ours != theirs {
            return fail("\(name) id \(ours.map(String.init) ?? "none"), the baseline's \(theirs.map(String.init) ?? "none")")
        }
        for id in 0..<baseline.vocabularySize where candidate.token(forID: id) != baseline.token(forID: id) {
            return fail("token \(id) is \(candidate.token(forID: id).debugDescription), the baseline's \(baseline.token(forID: id).debugDescription)")
        }
        let sample = String(probe.prefix(8192))
        let (ours, theirs) = (candidate.encode(sample, addSpecialTokens: true), baseline.encode(sample, addSpecialTokens: true))
        if ours != theirs {
            let at = zip(ours, theirs).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ours.count, theirs.count)
            return fail("encodes the evaluation text differently from token \(at) on (\(ours.count) vs \(theirs.count) tokens)")
        }
        return StructuralCheck(name: "tokenizer", passed: true,
                               detail: "\(baseline.vocabularySize) tokens, special ids and a \(ours.count)-token probe equal the baseline's")
    }

    static func quantizedTensors(_ file: GGUFFile) -> StructuralCheck {
        guard let type = declaredFileType(file) else {
            return StructuralCheck(name: "quantized-tensors", passed: false, detail: "general.file_type is missing or unknown")
        }
        var problems: [String] = []
        var quantized = 0
        for tensor in file.tensors {
            let should = type.isQuantized && QuantMixture.allowsQuantization(tensor: tensor.name, shape: tensor.shape)
            if should && !tensor.type.isQuantized {
                problems.append("\(tensor.name) is \(tensor.type.name), expected quantized")
            } else if !should && type.isQuantized && tensor.type.isQuantized {
                problems.append("\(tensor.name) is \(tensor.type.name), expected float")
            }
            if tensor.type.isQuantized { quantized += 1 }
        }
        return summarised("quantized-tensors", problems: problems, passing: "\(quantized) of \(file.tensors.count) tensors quantized as \(type.rawValue) prescribes")
    }

    static func sizeBand(_ file: GGUFFile, configuration c: LlamaConfiguration) -> StructuralCheck {
        guard let type = declaredFileType(file) else {
            return StructuralCheck(name: "size-band", passed: false, detail: "general.file_type is missing or unknown")
        }
        let mixture = QuantMixture(fileType: type, layerCount: c.layerCount, headCount: c.headCount, kvHeadCount: c.kvHeadCount,
                                   hasOutputTensor: file.tensor(named: "output.weight") != nil, hasImatrix: false,
                                   architecture: c.family == .qwen2 ? .qwen2 : .llama)
        var actual = 0, expected = 0, weights = 0
        for tensor in file.tensors {
            actual += tensor.byteCount
            let rows = tensor.elementCount / max(1, tensor.shape.first ?? 1)
            let expectedType = mixture.type(forTensor: tensor.name, shape: tensor.shape, sourceType: tensor.type.isQuantized ? .f32 : tensor.type)
            expected += expectedType.rowBytes(tensor.shape.first ?? 0) * rows
            weights += tensor.elementCount
        }
        let ratio = Double(actual) / Double(max(1, expected))
        let bpw = Double(actual * 8) / Double(max(1, weights))
        return StructuralCheck(name: "size-band", passed: abs(ratio - 1) <= 0.10,
                               detail: String(format: "%.3f bits per weight, %.1f %% of what %@ implies for these shapes (band ±10 %%)",
                                              bpw, 100 * ratio, type.rawValue))
    }

    static func fp8QuantizedTensors(_ checkpoint: FP8Checkpoint) -> StructuralCheck {
        var problems: [String] = []
        var quantized = 0
        for tensor in checkpoint.checkpoint.tensors {
            let linear = FP8Exporter.isLinearWeight(tensor)
            let ignored = checkpoint.config.ignores(module: String(tensor.name.dropLast(".weight".count)))
            if tensor.dtype == .float8E4M3 { quantized += 1 }
            if linear && !ignored && tensor.dtype != .float8E4M3 {
                problems.append("\(tensor.name) is \(tensor.dtype.rawValue), expected F8_E4M3")
            } else if (!linear || ignored) && tensor.dtype == .float8E4M3 {
                problems.append("\(tensor.name) is F8_E4M3, expected the source dtype (\(linear ? "ignored" : "not a Linear"))")
            }
        }
        return summarised("quantized-tensors", problems: problems + (quantized == 0 ? ["no FP8 tensor"] : []),
                          passing: "\(quantized) Linears in E4M3; ignored: \(checkpoint.config.ignore.joined(separator: ", "))")
    }

    static func fp8Scales(_ checkpoint: FP8Checkpoint) -> StructuralCheck {
        var bad: [String] = []
        for module in checkpoint.quantizedModules {
            let weightScales = (try? checkpoint.weightScales(module: module)) ?? [.nan]
            if !weightScales.allSatisfy({ $0.isFinite && $0 > 0 }) { bad.append(module + ".weight_scale") }
            switch Result(catching: { try checkpoint.inputScale(module: module) }) {
            case .success(let input?) where !(input.isFinite && input > 0): bad.append(module + ".input_scale")
            case .failure: bad.append(module + ".input_scale")
            default: break
            }
        }
        return StructuralCheck(name: "scales", passed: bad.isEmpty,
                               detail: bad.isEmpty ? "every scale of \(checkpoint.quantizedModules.count) modules finite and positive"
                                   : "zero, negative or non-finite scale in " + bad.prefix(3).joined(separator: ", ") + (bad.count > 3 ? " … (\(bad.count))" : ""))
    }

    /// A check named `name` that passes when `problems` is empty, with `passing` as its detail; else the
    /// first three problems (and how many there are).
    static func summarised(_ name: String, problems: [String], passing: @autoclosure () -> String) -> StructuralCheck {
        StructuralCheck(name: name, passed: problems.isEmpty,
                        detail: problems.isEmpty ? passing()
                            : problems.prefix(3).joined(separator: "; ") + (problems.count > 3 ? "; … \(problems.count) in all" : ""))
    }

    static func declaredFileType(_ file: GGUFFile) -> GGUFFileType? {
        guard case .uint32(let id)? = file["general.file_type"] else { return nil }
        return GGUFFileType(llamaFileTypeID: id)
    }

    /// `finite-values` and `non-constant`, over every weight tensor as the runtime will see it.
    static func values(_ candidate: ModelArtefact) -> [StructuralCheck] {
        var nonFinite: [String] = [], constant: [String] = []
        var checked = 0
        for name in candidate.configuration.expectedTensors.filter(\.required).map(\.name) {
            let values: [Float]
            do {
                values = try candidate.weights.weight(name).values
            } catch {
                return [StructuralCheck(name: "finite-values", passed: false, detail: "\(name) cannot be read: \(OutputError.plainReason(error))")]
            }
            checked += 1
            if values.withUnsafeBufferPointer(FiniteScan.firstNonFinite) != nil {
                nonFinite.append(name)
            } else if let first = values.first, values.allSatisfy({ $0 == first }), !name.hasSuffix("bias") {
                constant.append(name)
            }
        }
        func list(_ names: [String]) -> String { names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " … (\(names.count))" : "") }
        return [
            StructuralCheck(name: "finite-values", passed: nonFinite.isEmpty,
                            detail: nonFinite.isEmpty ? "all \(checked) tensors finite" : "non-finite values in \(list(nonFinite))"),
            StructuralCheck(name: "non-constant", passed: constant.isEmpty,
                            detail: constant.isEmpty ? "no all-zero or constant tensor" : "constant (or all-zero) \(list(constant))"),
        ]
    }
}
