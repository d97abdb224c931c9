import QuantGateTensors

/// One of the model's `[vocab, hidden]` ends (the token embeddings, the output head): converted once and
/// held, or read from the weight source as needed, so that a streamed model holds neither (Llama-3.1-8B's
/// embeddings and head are 4.2 GB in f32; streamed, a forward pass holds one chunk of the head at a time).
struct VocabularyMatrix: Sendable {
    /// The checkpoint tensor.
    let name: String
    let rows: Int, columns: Int
    private let source: any WeightSource
    private let resident: [Float]?

    /// Rows of the head converted at once when streamed (16384 × 4096 f32 is 256 MiB).
    static let chunkRows = 16384

    /// Checks the tensor's shape against `[rows, columns]` and, with `keep` or a source that cannot read rows
    /// alone (a dequantizing one), converts and holds it.
    /// - Throws: ``ModelError/invalidField(file:field:reason:)`` for another shape; the source's errors.
    init(_ name: String, rows: Int, columns: Int, source: any WeightSource, keep: Bool) throws {
        (self.name, self.rows, self.columns, self.source) = (name, rows, columns, source)
        let values = keep || !source.readsRowsCheaply ? try source.weight(name) : nil
        let shape = try values?.shape ?? source.shape(of: name)
        guard shape == [rows, columns] else {
            throw ModelError.invalidField(file: "weights", field: name, reason: "has shape \(shape), config.json implies \([rows, columns])")
        }
        resident = values?.values
    }

    /// Rows `indices` (each inside the matrix): `[indices.count, columns]`.
    func rows(_ indices: [Int]) throws -> [Float] {
        guard let resident else { return try source.weightRows(name, indices) }
        return gatherRows(indices, of: resident, width: columns)
    }

    /// `x · Mᵀ`: `[x.rows, rows]`. Streamed, about ``chunkRows`` rows are converted at a time
    /// (``BLAS/gemmTransposedBands(m:n:k:a:lda:bandRows:rowsOfB:c:ldc:)``): the same bits as held.
    func product(_ x: Matrix) throws -> Matrix {
        if let resident { return Kernels.linear(x, weight: resident, outputs: rows) }
        var y = Matrix(rows: x.rows, columns: rows)
        try x.values.withUnsafeBufferPointer { a in
            try y.values.withUnsafeMutableBufferPointer { c in
                try BLAS.gemmTransposedBands(m: x.rows, n: rows, k: columns, a: a.baseAddress!, lda: columns, bandRows: Self.chunkRows,
                                             rowsOfB: { try source.weightRows(name, Array($0)) }, c: c.baseAddress!, ldc: rows)
            }
        }
        return y
    }
}
