import Foundation
import QuantGateEval
import QuantGateModel
import QuantGateTokenizer

/// How well the model predicts the calibration data compared with held-out reference text: data far
/// from what the model knows calibrate its activations badly (AWQ and GPTQ then tune the wrong channels).
public struct FitCheck: Codable, Sendable, Equatable {
    /// Perplexity on the first few calibration windows.
    public var calibrationPerplexity: Double
    /// Perplexity on windows of the same length from the reference text.
    public var referencePerplexity: Double
    /// The reference text.
    public var reference: String
    /// Windows scored on each side.
    public var windows: Int
    /// Forward speed seen while scoring, in tokens per second (the preflight's time basis).
    public var tokensPerSecond: Double

    /// Calibration over reference perplexity.
    public var ratio: Double { calibrationPerplexity / referencePerplexity }
    /// The ratio above which the data are called far from the model's own text.
    public static let warningRatio = 3.0
    /// Whether to warn.
    public var isFar: Bool { !(ratio <= Self.warningRatio) }

    /// Scores up to `windows` calibration windows and as many reference windows of the same length.
    /// - Throws: ``CalibrationDataError`` for an unreadable reference text; the model's errors.
    public static func run(model: LlamaModel, set: CalibrationSet, tokenizer: Tokenizer, referencePath: String,
                           windows: Int = 4) throws -> FitCheck {
        let length = set.windows[0].count
        let calibration = set.windows.prefix(windows).map { ScoringWindow(tokens: $0, firstScored: 0) }
        let referenceTokens = tokenizer.encode(try DocumentReader.readText(referencePath), addSpecialTokens: true)
        let usable = min(calibration.count, referenceTokens.count / length)
        guard usable > 0 else {
            throw CalibrationDataError.unreadable(
                path: referencePath, reason: "holds \(referenceTokens.count) tokens, fewer than one window of \(length)")
        }
        let reference = (0..<usable).map {
            ScoringWindow(tokens: Array(referenceTokens[($0 * length)..<(($0 + 1) * length)]), firstScored: 0)
        }
        let calibrationResult = try PerplexityEvaluator.run(
            model: model, windows: calibration, protocolName: "calibration", context: length, stride: nil)
        let referenceResult = try PerplexityEvaluator.run(
            model: model, windows: reference, protocolName: "reference", context: length, stride: nil)
        let seconds = calibrationResult.seconds + referenceResult.seconds
        let tokens = Double((calibration.count + reference.count) * length)
        return FitCheck(
            calibrationPerplexity: calibrationResult.perplexity, referencePerplexity: referenceResult.perplexity,
            reference: referencePath, windows: usable, tokensPerSecond: tokens / max(seconds, 1e-9))
    }

    /// The bundled held-out evaluation text (`Calibration/eval/`), when it can be found.
    public static func defaultReference() -> String? {
        guard let root = CalibrationDirectory.locate() else { return nil }
        let folder = URL(fileURLWithPath: root).appendingPathComponent("eval").path
        return (try? CalibrationDataSource.regularFiles(under: folder))?.first { $0.hasSuffix(".txt") }
    }
}
