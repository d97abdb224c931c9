import QuantGateModel

/// Statistics of one activation point (the input of one or more Linears, or a block's output) over
/// every calibration token: per channel, the mean |x|, the max |x| and the mean x², and optionally
/// the second-moment matrix XᵀX / tokens.
public struct ChannelStatistics: Sendable, Equatable {
    /// Tokens (rows) accumulated.
    public var tokens: Int
    /// Per channel: mean |x| (AWQ's activation scale).
    public var meanAbs: [Float]
    /// Per channel: max |x| (FP8 static input scales).
    public var maxAbs: [Float]
    /// Per channel: mean x² (llama.cpp's importance matrix).
    public var meanSquare: [Float]
    /// `XᵀX / tokens`, `[width, width]` row-major and symmetric, or nil when not collected.
    /// GPTQ's Hessian is twice this.
    public var hessian: [Float]?

    public init(tokens: Int, meanAbs: [Float], maxAbs: [Float], meanSquare: [Float], hessian: [Float]? = nil) {
        self.tokens = tokens
        self.meanAbs = meanAbs
        self.maxAbs = maxAbs
        self.meanSquare = meanSquare
        self.hessian = hessian
    }

    /// Channels.
    public var width: Int { meanAbs.count }
}

/// The statistics one decoder block yields: the input of each of its Linears (shared inputs once)
/// and its output hidden state.
public struct BlockStatistics: Sendable, Equatable {
    /// The block index.
    public var layer: Int
    /// Input statistics per Linear input point.
    public var inputs: [LinearInputStatistics]
    /// The hidden state leaving the block (no Hessian).
    public var output: ChannelStatistics

    public init(layer: Int, inputs: [LinearInputStatistics], output: ChannelStatistics) {
        self.layer = layer
        self.inputs = inputs
        self.output = output
    }

    /// The statistics of the input of Linear `stem` (e.g. `mlp.down_proj`), or nil for an unknown name.
    public func input(of stem: String) -> ChannelStatistics? {
        inputs.first { $0.point.linears.contains(stem) }?.statistics
    }
}

/// The statistics of one ``LinearInput`` point of a block.
public struct LinearInputStatistics: Sendable, Equatable {
    public var point: LinearInput
    public var statistics: ChannelStatistics

    public init(point: LinearInput, statistics: ChannelStatistics) {
        self.point = point
        self.statistics = statistics
    }
}
