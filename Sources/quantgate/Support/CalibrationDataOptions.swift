import ArgumentParser
import Foundation
import QuantGateCalibration
import QuantGateModel
import QuantGateTokenizer

/// The calibration-data flags `calibrate` and `quantize` share, and the set they describe.
struct CalibrationDataOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "Calibration data: prose, code, mixed, or a path (repeatable).")
    var data: [String] = ["prose"]

    @Option(help: "The JSONL field holding each record's text.")
    var field = "text"

    @Option(help: "Calibration sequences (windows).")
    var samples = 128

    @Option(name: .customLong("seq-len"), help: "Tokens per calibration sequence (at most the model's max_position_embeddings).")
    var seqLen = 512

    @Option(help: "Calibration sampling seed.")
    var seed: UInt64 = 0

    func validate() throws {
        guard samples >= 1 && samples <= 1 << 20 else { throw ValidationError("--samples must be in 1...1048576") }
        guard seqLen >= 2 && seqLen <= 1 << 20 else { throw ValidationError("--seq-len must be in 2...1048576") }
    }

    /// Reads, tokenizes and samples the data (named in reports as typed) for the model `configuration`
    /// describes: token ids inside its vocabulary, windows within its `max_position_embeddings`.
    /// - Throws: ``CalibrationDataError`` naming the data or `--seq-len` and the field at fault.
    func load(tokenizer: Tokenizer, configuration: LlamaConfiguration) throws -> CalibrationSet {
        let sources = try data.flatMap { try CalibrationDataSource.parse($0, field: field) }
        return try CalibrationSet.load(sources: sources, names: data, tokenizer: tokenizer, vocabularySize: configuration.vocabSize,
                                       maxPositions: configuration.maxPositionEmbeddings, sequences: samples, length: seqLen, seed: seed)
    }

    /// The `--data` values as recorded in shipped artefacts: built-in set names, and file names without
    /// their directories (a local path never goes into a file that is shipped).
    var recordedNames: [String] {
        data.map { BuiltinDataset(rawValue: $0) != nil ? $0 : URL(fileURLWithPath: $0).lastPathComponent }
    }
}
