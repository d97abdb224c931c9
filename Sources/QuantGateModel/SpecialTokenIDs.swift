import Foundation
import QuantGateTensors

extension ConfigReader {
    /// Checks the special token ids of `config.json` or `generation_config.json`: `bos_token_id` and
    /// `eos_token_id` each absent, null, one id or a list of ids (transformers allows both), every id inside
    /// the vocabulary. A runtime that looks such an id up in the embeddings reads past them.
    /// - Throws: ``ModelError/invalidField(file:field:reason:)`` naming the file and field.
    func checkSpecialTokenIDs(vocabularySize: Int) throws(ModelError) {
        for field in ["bos_token_id", "eos_token_id"] {
            guard let value = value(field) else { continue }
            let ids: [JSONValue]
            if case .array(let list) = value { ids = list } else { ids = [value] }
            for id in ids {
                guard case .number(let number) = id, number == number.rounded(), number >= 0 else {
                    throw .invalidField(file: file, field: field,
                                        reason: "must be a token id (a non-negative integer) or a list of them, got \(describe(id))")
                }
                guard number < Double(vocabularySize) else {
                    throw .invalidField(file: file, field: field,
                                        reason: "holds \(String(format: "%.0f", number)), outside the vocabulary (vocab_size \(vocabularySize): ids 0…\(vocabularySize - 1))")
                }
            }
        }
    }
}
