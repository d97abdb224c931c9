import Foundation
import QuantGateTensors

/// The sizes and work the estimates of every command are built from (`--dry-run`), as functions of the
/// model's configuration; the formulas are those of docs/performance.md.
extension LlamaConfiguration {
    /// One block's weights in f32, in bytes (`W`).
    public var blockWeightBytes: Int { LlamaModel.blockParameterCount(self) * 4 }

    /// One vocabulary matrix (the embeddings or the output head) in f32, in bytes.
    public var vocabularyMatrixBytes: Int { vocabSize * hiddenSize * 4 }

    /// Parameters of the whole model (blocks, embeddings and head; norms left out).
    public var parameterCount: Int {
        LlamaModel.blockParameterCount(self) * layerCount + vocabSize * hiddenSize * (tieWordEmbeddings ? 1 : 2)
    }

    /// One window's working activations inside a block (the residual, norms, q/k/v, attention scores of a row
    /// block per head, the MLP's two wide products), in bytes.
    public func windowActivationBytes(tokens t: Int) -> Int {
        let kv = kvHeadCount * headDim
        return t * (6 * hiddenSize + 2 * kv + 2 * intermediateSize + min(t, 128)) * 4
    }

    /// FLOPs of one window of `tokens` through every block, and of `scored` of its rows through the head.
    public func windowFLOPs(tokens t: Int, scored: Int) -> Double {
        let blocks = 2 * Double(LlamaModel.blockParameterCount(self) * layerCount) * Double(t)
        let attention = 2 * 2 * Double(layerCount * headCount * headDim) * Double(t) * Double(t + 1) / 2
        return blocks + attention + 2 * Double(vocabSize * hiddenSize) * Double(scored)
    }
}

/// What one pass of windows through the model (``LlamaModel/logits(windows:rows:order:hiddenBudgetBytes:progress:body:)``)
/// is expected to cost: seconds and the memory it holds above the process's base.
public struct PassEstimate: Sendable, Equatable {
    public var seconds: Double
    public var bytes: Int

    /// - Parameters:
    ///   - windows: each window's tokens and how many of its rows go through the head.
    ///   - resident: whether the model keeps its converted blocks (``LlamaModel/keepsBlocksResident``); a streamed
    ///     model runs layer-major in groups of 1 GiB of hidden states and reads the head for every window.
    public init(configuration c: LlamaConfiguration, windows: [(tokens: Int, scored: Int)], resident: Bool, rates: MachineRates) {
        let tokens = windows.reduce(0) { $0 + $1.tokens }
        let longest = windows.map(\.tokens).max() ?? 0
        let mostScored = windows.map(\.scored).max() ?? 0
        let flops = windows.reduce(0.0) { $0 + c.windowFLOPs(tokens: $1.tokens, scored: $1.scored) }
        let blockParameters = LlamaModel.blockParameterCount(c) * c.layerCount
        let logits = mostScored * c.vocabSize * 4  // the head's scored rows
        let hiddenBytes = tokens * c.hiddenSize * 4
        let conversion: Double
        if resident {
            conversion = rates.conversionSeconds(c.parameterCount)
            bytes = c.blockWeightBytes * c.layerCount + c.vocabularyMatrixBytes * (c.tieWordEmbeddings ? 1 : 2)
                + longest * c.hiddenSize * 4 + c.windowActivationBytes(tokens: longest) + logits
        } else {
            let groups = max(1, (hiddenBytes + LlamaModel.layerMajorBudgetBytes - 1) / LlamaModel.layerMajorBudgetBytes)
            conversion = rates.conversionSeconds(groups * blockParameters + windows.count * c.vocabSize * c.hiddenSize)
            bytes = c.blockWeightBytes + min(hiddenBytes, LlamaModel.layerMajorBudgetBytes) + VocabularyMatrix.chunkRows * c.hiddenSize * 4
                + c.windowActivationBytes(tokens: longest) + logits
        }
        seconds = rates.gemmSeconds(flops) + conversion
    }
}

extension StageEstimate {
    /// The `check` stage every command opens with: every tensor of the source read once and scanned for
    /// NaN/Inf, one tensor's pages mapped at a time.
    public static func sourceCheck(_ c: LlamaConfiguration, largestTensorBytes: Int, rates: MachineRates) -> StageEstimate {
        StageEstimate(name: "check", peakRSSBytes: rates.baseResidentBytes + largestTensorBytes,
                      seconds: rates.conversionSeconds(c.parameterCount),
                      basis: "every tensor read once and scanned for NaN/Inf")
    }

    /// A stage that runs `windows` (tokens, rows scored) through a model of configuration `c`, resident when it
    /// fits ``LlamaModel/defaultResidentBudgetBytes``, holding `extraBytes` besides.
    public static func modelPass(_ name: String, _ c: LlamaConfiguration, windows: [(tokens: Int, scored: Int)], rates: MachineRates,
                                 extraBytes: Int = 0, basis: String) -> StageEstimate {
        let resident = LlamaModel.keepsResident(c)
        let pass = PassEstimate(configuration: c, windows: windows, resident: resident, rates: rates)
        return StageEstimate(name: name, peakRSSBytes: rates.baseResidentBytes + pass.bytes + extraBytes, seconds: pass.seconds,
                             basis: "\(windows.count) windows, \(resident ? "blocks resident" : "streamed, layer-major"); " + basis)
    }
}
