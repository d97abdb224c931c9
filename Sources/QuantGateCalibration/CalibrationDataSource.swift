import Foundation

/// Where calibration text or tokens come from, as named on the command line (`--data`).
public enum CalibrationDataSource: Equatable, Sendable, CustomStringConvertible {
    /// A bundled set under `Calibration/`.
    case builtin(BuiltinDataset)
    /// A UTF-8 text file: one document.
    case text(path: String)
    /// JSON Lines: one document per record, its text in `field` (or a `messages` list).
    case jsonl(path: String, field: String)
    /// An HDF5 file whose dataset `tokens` holds token ids: 1-D (a stream) or `N×L` (the windows).
    case tokens(path: String)

    /// Reads one `--data` value: a built-in set's name, or a path whose extension says its kind
    /// (`.jsonl`, `.h5`/`.hdf5`, anything else is text). A directory stands for its files.
    /// - Throws: ``CalibrationDataError/missingFile(path:)`` for a path that does not exist.
    public static func parse(_ argument: String, field: String = "text") throws -> [CalibrationDataSource] {
        if let set = BuiltinDataset(rawValue: argument), !FileManager.default.fileExists(atPath: argument) {
            return [.builtin(set)]
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
            throw CalibrationDataError.missingFile(path: argument)
        }
        let paths = isDirectory.boolValue ? try regularFiles(under: argument) : [argument]
        return paths.map { path in
            switch URL(fileURLWithPath: path).pathExtension.lowercased() {
            case "jsonl": .jsonl(path: path, field: field)
            case "h5", "hdf5": .tokens(path: path)
            default: .text(path: path)
            }
        }
    }

    /// Every regular, non-hidden file under `directory`, by relative path.
    static func regularFiles(under directory: String) throws -> [String] {
        let base = URL(fileURLWithPath: directory)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else {
            throw CalibrationDataError.unreadable(path: directory, reason: "cannot list the directory")
        }
        var files: [String] = []
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            files.append(url.path)
        }
        guard !files.isEmpty else { throw CalibrationDataError.unreadable(path: directory, reason: "holds no files") }
        return files.sorted()
    }

    public var description: String {
        switch self {
        case .builtin(let set): "built-in set '\(set.rawValue)'"
        case .text(let path): path
        case .jsonl(let path, let field): "\(path) (JSONL field '\(field)')"
        case .tokens(let path): "\(path) (HDF5 tokens)"
        }
    }
}

/// Bad calibration data, naming the file (and line or field) at fault.
public enum CalibrationDataError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingFile(path: String)
    case unreadable(path: String, reason: String)
    case invalidRecord(path: String, line: Int, reason: String)
    case invalidTokens(path: String, reason: String)
    case builtinNotFound(set: String, searched: [String])
    /// The data (`sources`, as named) tokenize to fewer tokens than one window of `length`.
    case tooFewTokens(sources: String, tokens: Int, length: Int)
    /// Windows of `length` tokens (`--seq-len`, or the width of an N×L token file) are longer than the
    /// model's `max_position_embeddings`.
    case windowsBeyondContext(length: Int, maxPositions: Int)

    public var description: String {
        switch self {
        case .missingFile(let path):
            "\(path): no such file or directory (and not a built-in set: \(BuiltinDataset.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .unreadable(let path, let reason): "\(path): \(reason)"
        case .invalidRecord(let path, let line, let reason): "\(path):\(line): \(reason)"
        case .invalidTokens(let path, let reason): "\(path): dataset 'tokens' \(reason)"
        case .builtinNotFound(let set, let searched):
            "the built-in calibration set '\(set)' was not found; looked in \(searched.joined(separator: ", ")) "
                + "(set QUANTGATE_DATA to the Calibration directory)"
        case .tooFewTokens(let sources, let tokens, let length):
            "\(sources): \(tokens) token\(tokens == 1 ? "" : "s") of calibration data, fewer than one window of --seq-len \(length); "
                + "give more data or a smaller --seq-len"
        case .windowsBeyondContext(let length, let maxPositions):
            "calibration windows of \(length) tokens (--seq-len) exceed the model's max_position_embeddings (\(maxPositions), config.json); "
                + "use --seq-len \(maxPositions) or less"
        }
    }
}
