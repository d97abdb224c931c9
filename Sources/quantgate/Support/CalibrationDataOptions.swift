import ArgumentParser
import Foundation
import QuantGateCalibration
import QuantGateModel
import QuantGateTokenizer

/// The calibration-data flags `calibrate` and `quantize` share, and the set they describe.
struct CalibrationDataOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "Calibration data: prose (default), code, mixed, or a path (repeatable).")
    var dataFlag: [String] = []

    @Option(name: .customLong("field"), help: "The JSONL field holding each record's text (default: text).")
    var fieldFlag: String?

    @Option(name: .customLong("samples"), help: "Calibration sequences (windows; default 128).")
    var samplesFlag: Int?

    @Option(name: .customLong("seq-len"), help: "Tokens per calibration sequence (default 512; at most the model's max_position_embeddings).")
    var seqLenFlag: Int?

    @Option(name: .customLong("seed"), help: "Calibration sampling seed (default 0).")
    var seedFlag: UInt64?

    var data: [String] { dataFlag.isEmpty ? ["prose"] : dataFlag }
    var field: String { fieldFlag ?? "text" }
    var samples: Int { samplesFlag ?? 128 }
    var seqLen: Int { seqLenFlag ?? 512 }
    var seed: UInt64 { seedFlag ?? 0 }
    /// The flags given on the command line (refused where no artefact calibrates).
    var given: [String] {
        [dataFlag.isEmpty ? nil : "--data", fieldFlag.map { _ in "--field" }, samplesFlag.map { _ in "--samples" },
         seqLenFlag.map { _ in "--seq-len" }, seedFlag.map { _ in "--seed" }].compactMap { $0 }
    }

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
