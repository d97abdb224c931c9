import Foundation

/// Writes a Hugging Face model directory (weights, `config.json`, tokenizer and other files copied
/// from the source) into `OUT.partial`, and renames it to `OUT` only once complete, so a failure never
/// leaves a half-written model under the final name.
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

    /// Throws unless `output` may be written: absent, or `replace` given.
    public func checkWritable() throws {
        if FileManager.default.fileExists(atPath: output) && !replace {
            throw SafetensorsError.invalidWrite(file: output, reason: "already exists (pass --force to replace it)")
        }
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
    /// - Throws: ``SafetensorsError/invalidWrite(file:reason:)`` naming what failed; nothing is left behind.
    public func write(tensors: [PendingTensor], maxShardBytes: Int, metadata: [String: String], config: String,
                      companions: [String], extraFiles: [String: String] = [:]) throws {
        let manager = FileManager.default
        try checkWritable()
        let partial = output + ".partial"
        try? manager.removeItem(atPath: partial)
        do {
            try manager.createDirectory(atPath: partial, withIntermediateDirectories: true)
            let root = URL(fileURLWithPath: partial)
            try ShardedSafetensorsWriter.write(tensors, maxShardBytes: maxShardBytes, metadata: metadata, to: partial)
            try Data(config.utf8).write(to: root.appendingPathComponent("config.json"))
            for (name, text) in extraFiles.sorted(by: { $0.key < $1.key }) {
                try Data(text.utf8).write(to: root.appendingPathComponent(name))
            }
            for file in companions {
                try manager.copyItem(atPath: file, toPath: root.appendingPathComponent(URL(fileURLWithPath: file).lastPathComponent).path)
            }
            try checkWritable()  // an output that appeared meanwhile is not replaced without --force
        } catch {
            try? manager.removeItem(atPath: partial)
            if let error = error as? SafetensorsError { throw error }
            throw SafetensorsError.invalidWrite(file: output, reason: "\(error)")
        }
        // The old output is moved aside, the new one moved in, and the old one deleted last; if the second
        // rename fails the old one is put back, so a model is always under the final name.
        var aside: String?
        if manager.fileExists(atPath: output) {
            let old = output + ".replaced-\(getpid())"
            guard rename(output, old) == 0 else {
                let reason = String(cString: strerror(errno))
                try? manager.removeItem(atPath: partial)
                throw SafetensorsError.invalidWrite(file: output, reason: "cannot move the existing output aside: \(reason)")
            }
            aside = old
        }
        guard rename(partial, output) == 0 else {
            let reason = String(cString: strerror(errno))
            if let aside { _ = rename(aside, output) }
            try? manager.removeItem(atPath: partial)
            throw SafetensorsError.invalidWrite(file: output, reason: "cannot rename \(partial): \(reason)")
        }
        if let aside { try? manager.removeItem(atPath: aside) }
    }

    /// The written directory's file names (sorted) and their total size.
    public func writtenFiles() -> (files: [String], bytes: Int) {
        let root = URL(fileURLWithPath: output)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).sorted()
        let bytes = files.reduce(0) { sum, file in
            sum + ((try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(file).path)[.size] as? Int) ?? 0)
        }
        return (files, bytes)
    }
}
