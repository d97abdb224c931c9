import QuantGateTensors

/// Rotated keys and values of every position a model has seen, per layer, so that generation and
/// shared-prefix scoring run each new token once instead of re-running the whole prefix.
///
/// A value type: copying a cache (to score several continuations of one context) shares storage
/// until one copy is extended.
public struct KVCache: Sendable {
    /// One layer's keys and values: `[positions, kvHeads · headDim]` each, keys after RoPE.
    struct Layer: Sendable {
        var keys: Matrix
        var values: Matrix

        mutating func append(keys newKeys: Matrix, values newValues: Matrix) {
            keys.values.append(contentsOf: newKeys.values)
            keys.rows += newKeys.rows
            values.values.append(contentsOf: newValues.values)
            values.rows += newValues.rows
        }
    }

    var layers: [Layer]

    /// An empty cache shaped for `configuration`.
    public init(configuration c: LlamaConfiguration) {
        let width = c.kvHeadCount * c.headDim
        layers = Array(repeating: Layer(keys: Matrix(rows: 0, columns: width), values: Matrix(rows: 0, columns: width)),
                       count: c.layerCount)
    }

    /// Positions already in the cache (the position of the next token).
    public var length: Int { layers.first?.keys.rows ?? 0 }
}

extension LlamaModel {
    /// Runs `tokens` at positions `cache.length…`, attending to everything cached, appends their keys
    /// and values, and returns their logits `[tokens.count, vocab]`.
    /// - Throws: ``ModelError`` for a token outside the vocabulary, or a total length beyond the
    ///   model's sliding attention window (full attention would compute something else).
    public func extend(_ cache: inout KVCache, with tokens: [Int]) throws -> Matrix {
        precondition(!tokens.isEmpty, "extend needs at least one token")
        let total = cache.length + tokens.count
        if let window = configuration.slidingWindow, total > window {
            throw ModelError.unsupportedSetting(
                file: "config.json", field: "sliding_window", value: "\(window) (sequence of \(total) tokens)",
                supported: ["sequences of at most sliding_window tokens"])
        }
        let start = cache.length
        var hidden = try embed(tokens)
        for layer in 0..<configuration.layerCount {
            // Move the layer out (no second reference, so appending does not copy), run, move it back.
            var slot: KVCache.Layer? = cache.layers[layer]
            cache.layers[layer] = KVCache.Layer(keys: Matrix(rows: 0, columns: 0), values: Matrix(rows: 0, columns: 0))
            runBlock(weights: try blockWeights(layer), hidden: &hidden, start: start, observe: nil, cache: &slot)
            cache.layers[layer] = slot!
        }
        return try logits(hidden: hidden)
    }
}
