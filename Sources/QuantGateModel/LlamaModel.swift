import Dispatch
import QuantGateTensors

/// The Llama-family forward pass (llama, mistral, qwen2) in f32 on OpenBLAS.
///
/// Prefill runs over a whole window at once, every projection one GEMM. Weights come from a
/// ``WeightSource`` one tensor at a time: either all converted once and kept (``Residency/resident``),
/// or converted block by block on every pass (``Residency/streamed``) so peak memory follows the
/// largest block, not the model.
///
/// Calibration drives ``embed(_:)``, ``runBlock(_:hidden:start:)`` and ``logits(hidden:)`` itself to
/// see (and replace) each block's inputs; ``logits(tokens:)`` chains them.
public final class LlamaModel: Sendable {
    /// Whether converted weights stay in memory between passes.
    public enum Residency: Sendable {
        case resident
        case streamed
        /// Resident when the f32 weights fit in `bytes`, else streamed.
        case automatic(budgetBytes: Int)
    }

    public let configuration: LlamaConfiguration
    private let source: any WeightSource
    private let rotary: RotaryEmbedding
    private let embeddings: VocabularyMatrix
    private let finalNorm: [Float]         // [hidden]
    private let outputHead: VocabularyMatrix?  // nil when tied to the embeddings
    private let residentBlocks: [LlamaBlockWeights]?
    private let headRounding: InputQuantization?

    /// Prepares a model over `source`. The embeddings and output head are converted and held with resident
    /// blocks; a streamed model reads them as it needs them (rows of the embeddings, chunks of the head).
    /// - Throws: a ``ModelError`` or the source's error naming the tensor at fault.
    public init(configuration: LlamaConfiguration, source: any WeightSource,
                residency: Residency = .automatic(budgetBytes: defaultResidentBudgetBytes)) throws {
        self.configuration = configuration
        self.source = source
        rotary = RotaryEmbedding(configuration: configuration)
        let c = configuration
        func load(_ name: String, _ shape: [Int]) throws -> [Float] {
            let (actual, values) = try source.weight(name)
            guard actual == shape else {
                throw ModelError.invalidField(file: "weights", field: name, reason: "has shape \(actual), config.json implies \(shape)")
            }
            return values
        }
        let keep: Bool
        switch residency {
        case .resident: keep = true
        case .streamed: keep = false
        case .automatic(let budget): keep = Self.keepsResident(c, budgetBytes: budget)
        }
        embeddings = try VocabularyMatrix("model.embed_tokens.weight", rows: c.vocabSize, columns: c.hiddenSize, source: source, keep: keep)
        finalNorm = try load("model.norm.weight", [c.hiddenSize])
        outputHead = c.tieWordEmbeddings
            ? nil : try VocabularyMatrix("lm_head.weight", rows: c.vocabSize, columns: c.hiddenSize, source: source, keep: keep)
        headRounding = source.inputQuantization(forWeight: c.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight")
        residentBlocks = keep ? try Self.convertBlocks(c, source: source) : nil
    }

    /// Every block converted, blocks in parallel (the conversion is bound by fresh pages, one core each); the first
    /// failing block's error, in layer order.
    private static func convertBlocks(_ c: LlamaConfiguration, source: any WeightSource) throws -> [LlamaBlockWeights] {
        var results = [Result<LlamaBlockWeights, any Error>?](repeating: nil, count: c.layerCount)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = UnsafeSendable(buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: c.layerCount) { layer in
                out.pointer[layer] = Result { try LlamaBlockWeights(layer: layer, configuration: c, source: source) }
            }
        }
        return try results.map { try $0!.get() }
    }

    /// Opens the model in a Hugging Face model directory.
    public convenience init(directory: ModelDirectory, residency: Residency = .automatic(budgetBytes: defaultResidentBudgetBytes)) throws {
        try self.init(configuration: directory.configuration, source: directory.checkpoint, residency: residency)
    }

    /// Whether ``Residency/automatic(budgetBytes:)`` keeps the blocks of a model of configuration `c` resident.
    public static func keepsResident(_ c: LlamaConfiguration, budgetBytes: Int = defaultResidentBudgetBytes) -> Bool {
        c.blockWeightBytes * c.layerCount <= budgetBytes
    }

    /// The f32 block weights a model keeps resident by default: 8 GiB.
    public static let defaultResidentBudgetBytes = 8 << 30

    /// Whether every block's converted weights stay in memory (else each pass converts them again).
    public var keepsBlocksResident: Bool { residentBlocks != nil }

    /// Token embeddings: `[T, hidden]`.
    /// - Throws: ``ModelError/tokenOutsideVocabulary(position:token:vocabularySize:)`` for an id outside the vocabulary.
    public func embed(_ tokens: [Int]) throws -> Matrix {
        let h = configuration.hiddenSize
        for (t, token) in tokens.enumerated() where token < 0 || token >= configuration.vocabSize {
            throw ModelError.tokenOutsideVocabulary(position: t, token: token, vocabularySize: configuration.vocabSize)
        }
        return Matrix(rows: tokens.count, columns: h, values: try embeddings.rows(tokens))
    }

    /// Block `layer`'s weights: the resident copy, or freshly converted from the source.
    public func blockWeights(_ layer: Int) throws -> LlamaBlockWeights {
        if let residentBlocks { return residentBlocks[layer] }
        return try LlamaBlockWeights(layer: layer, configuration: configuration, source: source)
    }

    /// Runs decoder block `layer` on `hidden` (`[T, hidden]`, row `t` at position `start + t`), in place.
    public func runBlock(_ layer: Int, hidden: inout Matrix, start: Int = 0,
                         observe: ((LinearInput, Matrix) -> Void)? = nil) throws {
        try runBlock(weights: blockWeights(layer), hidden: &hidden, start: start, observe: observe)
    }

    /// Runs one decoder block with the given weights (a quantizer may pass modified ones).
    /// `observe`, when given, sees the input of every Linear (``LinearInput``) as the block computes it.
    public func runBlock(weights w: LlamaBlockWeights, hidden: inout Matrix, start: Int = 0,
                         observe: ((LinearInput, Matrix) -> Void)? = nil) {
        var uncached: KVCache.Layer? = nil
        runBlock(weights: w, hidden: &hidden, start: start, observe: observe, cache: &uncached)
    }

    /// One decoder block; with a `cache`, the block's keys and values are appended to it and the
    /// queries attend to every cached position (`start` must then equal the cache's length).
    func runBlock(weights w: LlamaBlockWeights, hidden: inout Matrix, start: Int,
                  observe: ((LinearInput, Matrix) -> Void)?, cache: inout KVCache.Layer?) {
        let x = attentionInput(w, hidden: hidden)
        observe?(.attention, x)
        let attended = attention(w, input: x, start: start, cache: &cache)
        observe?(.attentionOutput, attended)
        let y = mlpInput(w, hidden: &hidden, attended: attended)
        observe?(.mlp, y)
        let activation = mlpActivation(w, input: y)
        observe?(.mlpHidden, activation)
        blockOutput(w, hidden: &hidden, activation: activation)
    }

    /// The last block of a pass whose head reads only rows from `row` on (positions from 0): keys and values of
    /// every row, queries and everything after attention only for the rows from `row` rounded down to an
    /// attention row block, so that each row computed has exactly the bits a full ``runBlock(weights:hidden:start:observe:)``
    /// gives it. Returns those rows (`[hidden.rows − first, hidden]`) and `first`.
    func runBlockTail(weights w: LlamaBlockWeights, hidden: Matrix, from row: Int) -> (tail: Matrix, first: Int) {
        let first = row / Attention.rowBlock * Attention.rowBlock
        var uncached: KVCache.Layer? = nil
        guard first > 0 else {
            var whole = hidden
            runBlock(weights: w, hidden: &whole, start: 0, observe: nil, cache: &uncached)
            return (whole, 0)
        }
        let attended = attention(w, input: attentionInput(w, hidden: hidden), start: 0, cache: &uncached, queriesFrom: first)
        var tail = hidden.rows(first..<hidden.rows)
        let y = mlpInput(w, hidden: &tail, attended: attended)
        blockOutput(w, hidden: &tail, activation: mlpActivation(w, input: y))
        return (tail, first)
    }

    // MARK: - The block's stages, each ending at a Linear input (BlockRun steps through them)

    /// Attention: x → RMSNorm, the input of q/k/v.
    func attentionInput(_ w: LlamaBlockWeights, hidden: Matrix) -> Matrix {
        Kernels.rmsNorm(hidden, weight: w.inputNorm, eps: Float(configuration.rmsNormEps))
    }

    /// q, k, v → RoPE → causal GQA: the input of o_proj. With `queriesFrom`, only rows from there on are
    /// queried (keys and values still cover every row): `[x.rows − queriesFrom, heads · d]`.
    func attention(_ w: LlamaBlockWeights, input x: Matrix, start: Int, cache: inout KVCache.Layer?, queriesFrom first: Int = 0) -> Matrix {
        let c = configuration
        var xRounded = RoundedInput(x)
        let queryInput = xRounded(w.inputQuantization.q)
        var q = Kernels.linear(first == 0 ? queryInput : queryInput.rows(first..<x.rows), weight: w.q, outputs: c.headCount * c.headDim,
                               bias: w.qBias)
        var k = Kernels.linear(xRounded(w.inputQuantization.k), weight: w.k, outputs: c.kvHeadCount * c.headDim, bias: w.kBias)
        let v = Kernels.linear(xRounded(w.inputQuantization.v), weight: w.v, outputs: c.kvHeadCount * c.headDim, bias: w.vBias)
        rotary.apply(&q, heads: c.headCount, headDim: c.headDim, start: start + first)
        rotary.apply(&k, heads: c.kvHeadCount, headDim: c.headDim, start: start)
        if first > 0 {
            precondition(cache == nil, "a partial query set runs without a cache")
            return Attention.causal(q: q, k: k, v: v, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, queryOffset: first)
        }
        if cache != nil {
            cache!.append(keys: k, values: v)
            return Attention.causal(q: q, k: cache!.keys, v: cache!.values, heads: c.headCount, kvHeads: c.kvHeadCount,
                                    headDim: c.headDim, queryOffset: start)
        }
        return Attention.causal(q: q, k: k, v: v, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim)
    }

    /// o_proj → residual into `hidden` → RMSNorm: the input of gate/up.
    func mlpInput(_ w: LlamaBlockWeights, hidden: inout Matrix, attended: Matrix) -> Matrix {
        Kernels.add(outputProjection(w, attended: attended), into: &hidden)
        return Kernels.rmsNorm(hidden, weight: w.postAttentionNorm, eps: Float(configuration.rmsNormEps))
    }

    /// silu(gate) · up: the input of down_proj.
    func mlpActivation(_ w: LlamaBlockWeights, input y: Matrix) -> Matrix {
        let c = configuration
        var yRounded = RoundedInput(y)
        var gate = Kernels.linear(yRounded(w.inputQuantization.gate), weight: w.gate, outputs: c.intermediateSize, bias: w.gateBias)
        let up = Kernels.linear(yRounded(w.inputQuantization.up), weight: w.up, outputs: c.intermediateSize, bias: w.upBias)
        Kernels.swiglu(&gate, up)
        return gate
    }

    /// down_proj → residual into `hidden`: the block's output.
    func blockOutput(_ w: LlamaBlockWeights, hidden: inout Matrix, activation: Matrix) {
        Kernels.add(downProjection(w, activation: activation), into: &hidden)
    }

    /// Final RMSNorm and output head: `[T, hidden]` → logits `[T, vocab]`.
    /// - Throws: the weight source's errors when the head is read from it (a streamed model).
    public func logits(hidden: Matrix) throws -> Matrix {
        let normed = Kernels.rmsNorm(hidden, weight: finalNorm, eps: Float(configuration.rmsNormEps))
        return try (outputHead ?? embeddings).product(headRounding?.apply(normed) ?? normed)
    }

    /// The whole forward pass over one window starting at position 0: logits `[T, vocab]`.
    /// - Throws: ``ModelError/unsupportedSetting(file:field:value:supported:)`` for a window longer
    ///   than the model's sliding attention window (full attention would compute something else).
    public func logits(tokens: [Int]) throws -> Matrix {
        try checkWindowLength(tokens.count)
        var hidden = try embed(tokens)
        for layer in 0..<configuration.layerCount { try runBlock(layer, hidden: &hidden) }
        return try logits(hidden: hidden)
    }

    /// Refuses a window longer than the model's sliding attention window (full attention would compute something else).
    func checkWindowLength(_ count: Int) throws {
        if let window = configuration.slidingWindow, count > window {
            throw ModelError.unsupportedSetting(
                file: "config.json", field: "sliding_window", value: "\(window) (window of \(count) tokens)",
                supported: ["windows of at most sliding_window tokens"])
        }
    }

    /// FLOPs of one prefill over `t` tokens: 2 per multiply-add of the projections and output head,
    /// and of the causal attention products counted over the lower triangle only (t(t+1)/2 query–key
    /// pairs, for QKᵀ and for P·V): the least work a prefill needs, so rates built on it are conservative.
    public func prefillFLOPs(tokens t: Int) -> Double {
        configuration.windowFLOPs(tokens: t, scored: t)
    }

    /// Weights per block (matrices only), for memory and FLOP estimates.
    public static func blockParameterCount(_ c: LlamaConfiguration) -> Int {
        let attention = c.hiddenSize * (c.headCount + 2 * c.kvHeadCount) * c.headDim + c.headCount * c.headDim * c.hiddenSize
        return attention + 3 * c.hiddenSize * c.intermediateSize
    }
}
