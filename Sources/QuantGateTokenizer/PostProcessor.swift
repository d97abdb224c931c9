/// A tokenizer.json `post_processor`, reduced to what it does to the ids of a single sequence.
enum PostProcessor: Equatable, Sendable {
    enum Piece: Equatable, Sendable {
        /// The encoded sequence (`$A`).
        case sequence
        /// The ids of a special token of the template.
        case special([Int])
    }

    /// `TemplateProcessing`'s `single` template.
    case template([Piece])
    /// `ByteLevel` (offsets only), or no post-processor: ids unchanged.
    case identity
    /// `RobertaProcessing` / `BertProcessing`: `cls` + ids + `sep`.
    case wrap(first: Int, last: Int)
    case sequence([PostProcessor])

    /// The final ids. Without special tokens, every processor leaves the ids as they are.
    func apply(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        guard addSpecialTokens else { return ids }
        switch self {
        case .identity:
            return ids
        case .wrap(let first, let last):
            return [first] + ids + [last]
        case .template(let pieces):
            var result: [Int] = []
            result.reserveCapacity(ids.count + 4)
            for piece in pieces {
                switch piece {
                case .sequence: result.append(contentsOf: ids)
                case .special(let special): result.append(contentsOf: special)
                }
            }
            return result
        case .sequence(let processors):
            return processors.reduce(ids) { $1.apply($0, addSpecialTokens: true) }
        }
    }
}
