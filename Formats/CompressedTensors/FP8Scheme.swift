/// An FP8 E4M3 W8A8 scheme as compressed-tensors describes it: symmetric float 8-bit weights with a
/// scale per output channel or per tensor, and 8-bit float activations with one static scale per
/// tensor (from calibration) or a scale per token computed at run time.
public struct FP8Scheme: Sendable, Equatable, CustomStringConvertible {
    /// How weights are scaled.
    public enum WeightScales: String, Sendable, CaseIterable {
        /// One scale per output row (`strategy: channel`, `weight_scale` of shape `[out, 1]`).
        case channel
        /// One scale for the whole matrix (`strategy: tensor`, `weight_scale` of shape `[1]`).
        case tensor
    }

    /// How a Linear's input is scaled.
    public enum Activations: String, Sendable, CaseIterable {
        /// One scale per tensor, fixed at quantization time from calibration (`input_scale`).
        case `static`
        /// One scale per token, computed by the runtime (`strategy: token`, `dynamic: true`).
        case dynamic
    }

    public var weights: WeightScales
    public var activations: Activations

    public init(weights: WeightScales = .channel, activations: Activations = .static) {
        self.weights = weights
        self.activations = activations
    }

    /// The largest finite E4M3FN value.
    public static let maximum: Float = 448

    /// `w<channel|tensor>-a<static|dynamic>`, as reports name the scheme.
    public var description: String { "FP8 W8A8 (\(weights.rawValue) weight scales, \(activations.rawValue) activations)" }

    /// A short tag for file names and reports.
    public var tag: String { "FP8-\(weights == .channel ? "CH" : "T")-\(activations == .static ? "STATIC" : "DYN")" }
}
