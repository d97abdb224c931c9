import Foundation

/// What a passing gate promotes: every artefact file's size and SHA-256 with the evidence it passed on, so
/// a deploy step can check (`quantgate verify`, ``ManifestVerifier``) that it ships exactly what was measured.
/// File paths are relative to the folder that holds the artefacts (see ``ArtefactFiles/list(path:)``).
public struct PromotionManifest: Codable, Sendable, Equatable {
    public static let currentSchema = "quantgate.promotion-manifest/1"

    public var schema: String
    public var toolVersion: String
    public var baseline: ModelSummary
    public var evalTextName: String
    public var evalTokensHash: String
    public var taskSuites: [SuiteSummary]
    public var artefacts: [PromotedArtefact]

    /// One promoted artefact for one target.
    public struct PromotedArtefact: Codable, Sendable, Equatable {
        public var name: String
        public var target: String
        public var format: String
        public var quantization: String?
        public var calibrationDataHash: String?
        /// Paths relative to the folder holding the artefact: its file name, or `NAME/FILE` for a directory.
        public var files: [ArtefactFile]
        /// The gated metrics with their thresholds and verdicts.
        public var verdicts: [MetricVerdict]
    }

    /// The manifest of the candidates that passed, or nil when none did.
    public static func make(report: EvalReport, gate: GateResult) -> PromotionManifest? {
        let promoted = gate.candidates.filter(\.passed).compactMap { verdict -> PromotedArtefact? in
            guard let candidate = report.candidates.first(where: { $0.name == verdict.candidate && ($0.target == nil || $0.target == verdict.target) })
                ?? report.candidates.first(where: { $0.name == verdict.candidate }), !candidate.files.isEmpty else { return nil }
            return PromotedArtefact(name: candidate.name, target: verdict.target, format: candidate.format,
                                    quantization: candidate.quantization, calibrationDataHash: candidate.calibrationDataHash,
                                    files: candidate.files, verdicts: verdict.verdicts)
        }
        guard !promoted.isEmpty else { return nil }
        return PromotionManifest(schema: currentSchema, toolVersion: report.toolVersion, baseline: report.baseline,
                                 evalTextName: report.settings.textName, evalTokensHash: report.settings.tokensHash,
                                 taskSuites: report.settings.taskSuites, artefacts: promoted)
    }

    /// The manifest file's text.
    public func json() throws -> String { try ReportJSON.string(self) }

    /// Reads a manifest and checks it is safe to verify against a directory (``validate(source:)``).
    /// - Throws: ``ReportError`` for a missing file, bad JSON, another schema or an invalid entry.
    public static func read(path: String) throws -> PromotionManifest {
        let manifest: PromotionManifest = try ReportJSON.decode(path: path, what: "promotion manifest")
        guard manifest.schema == currentSchema else { throw ReportError("\(path): schema \(manifest.schema) is not \(currentSchema)") }
        try manifest.validate(source: path)
        return manifest
    }

    /// Checks, without touching the disk, that the manifest promotes something and that every file path
    /// stays inside the directory it is verified against: at least one artefact, each with at least one
    /// file; every path relative and normalised (no leading `/`, no empty, `.` or `..` component, no
    /// backslash or control character); a 64-digit lowercase hex SHA-256 and a size ≥ 0; a path listed
    /// twice (an artefact promoted for two targets) with the same size and hash; no path that is both a
    /// file and the folder of another.
    /// - Throws: ``ReportError`` naming `source` and each entry at fault, one per line.
    public func validate(source: String) throws {
        var problems: [String] = artefacts.isEmpty ? ["lists no artefact"] : []
        var recorded: [String: ArtefactFile] = [:]
        for (index, artefact) in artefacts.enumerated() {
            let entry = "artefacts[\(index)] (\(artefact.name))"
            if artefact.files.isEmpty { problems.append("\(entry): lists no file") }
            for (fileIndex, file) in artefact.files.enumerated() {
                let field = "\(entry).files[\(fileIndex)]"
                if let reason = Self.pathProblem(file.path) {
                    problems.append("\(field).path \"\(file.path)\": \(reason)")
                    continue
                }
                if file.bytes < 0 { problems.append("\(field).bytes: \(file.bytes) is negative") }
                if !Self.isSHA256(file.sha256) { problems.append("\(field).sha256: \"\(file.sha256)\" is not 64 lowercase hex digits") }
                if let earlier = recorded[file.path], earlier != file {
                    problems.append("\(field): \"\(file.path)\" is listed earlier with another size or SHA-256")
                }
                recorded[file.path] = recorded[file.path] ?? file
            }
        }
        for path in recorded.keys.sorted() {
            let components = path.split(separator: "/")
            for count in components.indices.dropFirst() where recorded[components[..<count].joined(separator: "/")] != nil {
                problems.append("\"\(components[..<count].joined(separator: "/"))\" is listed as a file and as the folder of \"\(path)\"")
            }
        }
        guard problems.isEmpty else { throw ReportError(problems.map { "\(source): \($0)" }.joined(separator: "\n")) }
    }

    /// Why `path` is not a normalised relative path, or nil when it is one.
    private static func pathProblem(_ path: String) -> String? {
        if path.isEmpty { return "is empty" }
        if path.hasPrefix("/") { return "is absolute (paths are relative to the artefacts' folder)" }
        if path.contains("\\") { return "contains a backslash" }
        if path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "contains a control character" }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "has an empty component (a doubled or trailing /)" }
            if component == "." || component == ".." { return "has a \"\(component)\" component" }
        }
        return nil
    }

    private static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }
}
