import QuantGateTensors

/// The order in which ``LlamaModel/logits(windows:rows:order:hiddenBudgetBytes:progress:body:)`` runs windows through blocks.
public enum PassOrder: Sendable {
    /// Window-major when the blocks are resident, layer-major when they are streamed.
    case automatic
    /// Each window through every block before the next window: streamed weights are converted once per window.
    case windowMajor
    /// Every window of a group through block k before block k + 1: streamed weights are converted once per group.
    case layerMajor
}

extension LlamaModel {
    /// The hidden states a layer-major pass holds at once by default: 1 GiB.
    public static let layerMajorBudgetBytes = 1 << 30

    /// Output-head rows of several windows, each window starting at position 0: for window `i`, the logits
    /// at positions `rows[i]` (`[rows[i].count, vocab]`), handed to `body` in window order.
    ///
    /// Only the requested rows go through the final norm and the output head, and the last block computes
    /// queries, o_proj and the MLP only from the attention row block holding the first requested row (an
    /// evaluation protocol that scores half of each window skips half of that work), with the same bits. With streamed weights the windows run
    /// layer-major, in groups whose hidden states fit `hiddenBudgetBytes`, so each block is converted once
    /// per group instead of once per window. Every window sees the same operations in either order, so the
    /// logits are bit-identical. `progress(done, total)` counts a window through one block or through the head
    /// as one step (`total` = windows × (blocks + 1)), called after each block of a group and each head, so a
    /// layer-major pass over a large model shows it moving long before its first window is done.
    /// - Throws: ``ModelError`` for a token outside the vocabulary or a window longer than a sliding window;
    ///   the weight source's errors.
    public func logits(windows: [[Int]], rows: [Range<Int>], order: PassOrder = .automatic, hiddenBudgetBytes: Int = LlamaModel.layerMajorBudgetBytes,
                       progress: ((Int, Int) -> Void)? = nil, body: (Int, Matrix) throws -> Void) throws {
        precondition(windows.count == rows.count, "one row range per window")
        for (tokens, range) in zip(windows, rows) {
            try checkWindowLength(tokens.count)
            precondition(range.lowerBound >= 0 && range.upperBound <= tokens.count, "rows outside the window")
        }
        let layerMajor: Bool
        switch order {
        case .automatic: layerMajor = !keepsBlocksResident
        case .windowMajor: layerMajor = false
        case .layerMajor: layerMajor = true
        }
        // Window-major is layer-major over groups of one window.
        let budget = layerMajor ? hiddenBudgetBytes : 0
        let bytesPerToken = configuration.hiddenSize * MemoryLayout<Float>.stride
        let total = windows.count * (configuration.layerCount + 1)
        var done = 0
        var start = 0
        while start < windows.count {
            var end = start + 1, bytes = windows[start].count * bytesPerToken
            while end < windows.count && bytes + windows[end].count * bytesPerToken <= budget {
                bytes += windows[end].count * bytesPerToken
                end += 1
            }
            var hidden = try windows[start..<end].map { try embed($0) }
            // The last block computes only the rows the head reads (from an attention row block on).
            var first = [Int](repeating: 0, count: hidden.count)
            for layer in 0..<configuration.layerCount {
                let weights = try blockWeights(layer)
                for i in hidden.indices {
                    if layer == configuration.layerCount - 1 {
                        (hidden[i], first[i]) = runBlockTail(weights: weights, hidden: hidden[i], from: rows[start + i].lowerBound)
                    } else {
                        runBlock(weights: weights, hidden: &hidden[i])
                    }
                }
                done += hidden.count
                progress?(done, total)
            }
            for (offset, states) in hidden.enumerated() {
                let range = rows[start + offset]
                try body(start + offset, try logits(hidden: states, rows: (range.lowerBound - first[offset])..<(range.upperBound - first[offset])))
                done += 1
                progress?(done, total)
            }
            start = end
        }
    }

    /// Final RMSNorm and output head for rows `rows` of `hidden` only: `[rows.count, vocab]`.
    /// - Throws: the weight source's errors when the head is read from it (a streamed model).
    public func logits(hidden: Matrix, rows: Range<Int>) throws -> Matrix {
        guard rows != 0..<hidden.rows else { return try logits(hidden: hidden) }
        return try logits(hidden: hidden.rows(rows))
    }
}
