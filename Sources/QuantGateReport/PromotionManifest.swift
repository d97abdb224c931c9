import Foundation

/// What a passing gate promotes: every artefact file's SHA-256 with the evidence it passed on, so a
/// deploy step can check (`quantgate verify`) that it ships exactly what was measured.
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

    /// Reads a manifest.
    /// - Throws: ``ReportError`` for a missing file, bad JSON or another schema.
    public static func read(path: String) throws -> PromotionManifest {
        let manifest: PromotionManifest = try ReportJSON.decode(path: path, what: "promotion manifest")
        guard manifest.schema == currentSchema else { throw ReportError("\(path): schema \(manifest.schema) is not \(currentSchema)") }
        return manifest
    }
}

/// A difference between a manifest and the files on disk.
public struct VerifyProblem: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Re-hashes promoted files before deploy.
public enum ManifestVerifier {
    /// Every listed file of every artefact, looked up under `directory` by its relative path (for a
    /// single-file artefact, its file name). Empty when everything matches.
    /// - Throws: ``ReportError`` when the manifest cannot be read.
    public static func verify(manifestPath: String, directory: String) throws -> [VerifyProblem] {
        let manifest = try PromotionManifest.read(path: manifestPath)
        var problems: [VerifyProblem] = []
        var seen = Set<String>()
        for artefact in manifest.artefacts {
            for file in artefact.files where seen.insert(file.path).inserted {
                let path = URL(fileURLWithPath: directory).appendingPathComponent(file.path).path
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
                    problems.append(VerifyProblem(path: path, reason: "missing (listed for \(artefact.name))"))
                    continue
                }
                let bytes = (attributes[.size] as? NSNumber)?.int64Value ?? -1
                if bytes != file.bytes {
                    problems.append(VerifyProblem(path: path, reason: "\(bytes) bytes, the manifest records \(file.bytes)"))
                } else if let hash = try? FileDigest.sha256(path: path), hash != file.sha256 {
                    problems.append(VerifyProblem(path: path, reason: "SHA-256 \(hash) differs from the manifest's \(file.sha256)"))
                }
            }
        }
        return problems
    }
}
