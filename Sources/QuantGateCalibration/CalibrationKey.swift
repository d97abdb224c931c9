import QuantGateTensors

/// What a statistics file was computed from. A cached file is reused only when every field matches
/// the request (a file with Hessians also serves a request without).
public struct CalibrationKey: Equatable, Sendable {
    /// ``ModelFingerprint`` of the model.
    public var modelHash: String
    /// ``CalibrationSet/dataHash`` of the windows.
    public var dataHash: String
    /// Requested sequences, tokens per sequence and seed.
    public var sequences: Int, sequenceLength: Int, seed: UInt64
    /// Whether Hessians are (to be) collected.
    public var hessian: Bool
    /// `plain`, or the quantizer that replaced blocks in sequential mode.
    public var mode: String
    /// The QuantGate version that computed it.
    public var toolVersion: String

    public init(modelHash: String, dataHash: String, sequences: Int, sequenceLength: Int, seed: UInt64, hessian: Bool,
                mode: String = "plain", toolVersion: String = QuantGateVersion.string) {
        self.modelHash = modelHash
        self.dataHash = dataHash
        self.sequences = sequences
        self.sequenceLength = sequenceLength
        self.seed = seed
        self.hessian = hessian
        self.mode = mode
        self.toolVersion = toolVersion
    }

    /// The key of a run on `set`.
    public init(modelHash: String, set: CalibrationSet, hessian: Bool, mode: String = "plain") {
        self.init(modelHash: modelHash, dataHash: set.dataHash, sequences: set.requestedSequences,
                  sequenceLength: set.requestedLength, seed: set.seed, hessian: hessian, mode: mode)
    }

    /// Why a file computed under `self` cannot answer `request`, or nil when it can.
    public func mismatch(serving request: CalibrationKey) -> String? {
        func differs(_ field: String, _ cached: String, _ asked: String) -> String {
            "\(field) differs (cache \(cached), asked \(asked))"
        }
        if modelHash != request.modelHash { return differs("model hash", String(modelHash.prefix(12)), String(request.modelHash.prefix(12))) }
        if sequences != request.sequences { return differs("sequences", "\(sequences)", "\(request.sequences)") }
        if sequenceLength != request.sequenceLength { return differs("sequence length", "\(sequenceLength)", "\(request.sequenceLength)") }
        if seed != request.seed { return differs("seed", "\(seed)", "\(request.seed)") }
        if dataHash != request.dataHash { return differs("data hash", String(dataHash.prefix(12)), String(request.dataHash.prefix(12))) }
        if request.hessian && !hessian { return "the cache has no Hessians, and they are asked for" }
        if mode != request.mode { return differs("mode", mode, request.mode) }
        if toolVersion != request.toolVersion { return differs("tool version", toolVersion, request.toolVersion) }
        return nil
    }
}
