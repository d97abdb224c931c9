import Foundation

/// The calibration sets bundled under `Calibration/` (provenance in `Calibration/DATASETS.md`).
/// None of them shares text with the evaluation corpora under `Calibration/eval/`.
public enum BuiltinDataset: String, CaseIterable, Sendable {
    /// Public-domain English prose and verse (`Calibration/prose/`).
    case prose
    /// The CPython standard library's own Python sources, PSF licence (`Calibration/code/`).
    case code
    /// Both of the above.
    case mixed

    /// The folders under `Calibration/` this set reads.
    var folders: [String] {
        switch self {
        case .prose: ["prose"]
        case .code: ["code"]
        case .mixed: ["prose", "code"]
        }
    }

    /// File extensions that are documents (licence and readme files are not).
    static let documentExtensions: Set<String> = ["txt", "py"]

    /// The set's document files, folder by folder, each folder's files sorted by path.
    /// - Throws: ``CalibrationDataError/builtinNotFound(set:searched:)`` when no `Calibration/`
    ///   directory holding the set can be found.
    public func files() throws -> [String] {
        let root = try CalibrationDirectory.locate(containing: folders, set: rawValue)
        return try folders.flatMap { folder in
            try CalibrationDataSource.regularFiles(under: URL(fileURLWithPath: root).appendingPathComponent(folder).path)
                .filter { Self.documentExtensions.contains(URL(fileURLWithPath: $0).pathExtension) }
        }
    }
}

/// Finds the `Calibration/` directory: `$QUANTGATE_DATA`, then beside the executable
/// (`../share/quantgate/Calibration`, or the package root above `.build/`), then the source
/// checkout this module was compiled from.
public enum CalibrationDirectory {
    /// The directory, or nil when none of the candidates exists.
    public static func locate() -> String? {
        candidates().first { FileManager.default.fileExists(atPath: $0) }
    }

    static func locate(containing folders: [String], set: String) throws -> String {
        let found = candidates().first { root in
            folders.allSatisfy { FileManager.default.fileExists(atPath: URL(fileURLWithPath: root).appendingPathComponent($0).path) }
        }
        guard let found else { throw CalibrationDataError.builtinNotFound(set: set, searched: candidates()) }
        return found
    }

    static func candidates() -> [String] {
        var result: [String] = []
        if let configured = ProcessInfo.processInfo.environment["QUANTGATE_DATA"], !configured.isEmpty {
            result.append(configured)
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
            .deletingLastPathComponent()
        result.append(executable.appendingPathComponent("../share/quantgate/Calibration").standardizedFileURL.path)
        // .build/<triple>/<configuration>/quantgate → the package root.
        var directory = executable
        for _ in 0..<4 {
            if directory.lastPathComponent == ".build" {
                result.append(directory.deletingLastPathComponent().appendingPathComponent("Calibration").path)
                break
            }
            directory = directory.deletingLastPathComponent()
        }
        // Sources/QuantGateCalibration/BuiltinDataset.swift → the package root.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        result.append(source.appendingPathComponent("Calibration").path)
        return result
    }
}
