/// The tool's version, reported by `--version` and recorded in artefacts' and caches' provenance.
public enum QuantGateVersion {
    public static let string = "0.1.0"
}
