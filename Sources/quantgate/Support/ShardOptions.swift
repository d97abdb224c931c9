import ArgumentParser
import QuantGateSafetensors

/// How a model-directory artefact (FP8, GPTQ) splits its weights into files.
struct ShardOptions: ParsableArguments {
    @Option(name: .customLong("max-shard-size"),
            help: "Largest weights file of a model-directory artefact, e.g. 5GB (default) or 500MiB (Hugging Face's sharding and index).")
    var maxShardSizeFlag: String?

    var maxShardSize: String { maxShardSizeFlag ?? "5GB" }
    /// The flags given on the command line (refused for artefacts that do not read them).
    var given: [String] { maxShardSizeFlag == nil ? [] : ["--max-shard-size"] }

    func validate() throws {
        guard ShardedSafetensorsWriter.parseSize(maxShardSize) != nil else {
            throw ValidationError("--max-shard-size \(maxShardSize): expected a size such as 5GB, 500MB or 2GiB")
        }
    }

    var maxShardBytes: Int { ShardedSafetensorsWriter.parseSize(maxShardSize) ?? 5_000_000_000 }
}
