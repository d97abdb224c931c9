import Foundation
import QuantGateOutput

/// Writes a Hugging Face model directory (weights, `config.json`, tokenizer and other files copied
/// from the source) through ``OutputDestination``: an existing output is refused unless `replace`, and
/// then replaced only if QuantGate wrote it; the directory appears under its final name only once complete.
public struct CheckpointDirectoryWriter {
    /// The directory to create.
    public var output: String
    /// Replace an existing `output` (otherwise an existing one is an error).
    public var replace: Bool

    /// - Parameter output: the directory to create (a trailing `/` is ignored).
    public init(output: String, replace: Bool) {
        self.output = URL(fileURLWithPath: output).standardizedFileURL.path
        self.replace = replace
    }

    private var destination: OutputDestination {
        get throws { try OutputDestination(output, kind: .directory, replace: replace) }
    }

    /// Throws unless `output` may be written (``OutputDestination/checkWritable()``).
    public func checkWritable() throws {
        try destination.checkWritable()
    }

    /// The files beside the weights worth carrying over from a source model directory: tokenizer,
    /// generation config, chat template and the like (never weights, config.json or indexes), as paths.
    public static func companionFiles(of directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let wanted: Set<String> = [
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "tokenizer.model",
            "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja", "chat_template.json", "preprocessor_config.json",
        ]
        return names.filter { wanted.contains($0) }.sorted().map { URL(fileURLWithPath: directory).appendingPathComponent($0).path }
    }

    /// Writes the directory.
    /// - Parameters:
    ///   - tensors: the weights, in the order shards are filled.
    ///   - config: the `config.json` text.
    ///   - companions: files copied verbatim into the directory (paths).
    ///   - extraFiles: further files to create, file name → text (a format's own config, a report).
    /// - Throws: ``SafetensorsError`` or ``OutputError`` naming what failed; nothing is left behind.
    public func write(tensors: [PendingTensor], maxShardBytes: Int, metadata: [String: String], config: String,
                      companions: [String], extraFiles: [String: String] = [:]) throws {
        try destination.write { directory in
            let root = URL(fileURLWithPath: directory)
            try ShardedSafetensorsWriter.write(tensors, maxShardBytes: maxShardBytes, metadata: metadata, to: directory)
            try Data(config.utf8).write(to: root.appendingPathComponent("config.json"))
            for (name, text) in extraFiles.sorted(by: { $0.key < $1.key }) {
                try Data(text.utf8).write(to: root.appendingPathComponent(name))
            }
            for file in companions {
                try FileManager.default.copyItem(atPath: file, toPath: root.appendingPathComponent(URL(fileURLWithPath: file).lastPathComponent).path)
            }
        }
    }

    /// The written directory's file names (sorted, QuantGate's output marker left out) and their total size.
    public func writtenFiles() -> (files: [String], bytes: Int) {
        let root = URL(fileURLWithPath: output)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).filter { $0 != OutputDestination.marker }.sorted()
        let bytes = files.reduce(0) { sum, file in
            sum + ((try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(file).path)[.size] as? Int) ?? 0)
        }
        return (files, bytes)
    }
}
