import Foundation
import QuantGateTensors
import QuantGateTestSupport
import QuantGateTokenizer

/// The golden files of `python3 Tools/make_golden_tokenizer.py` (tokenizers 0.23.3): the test
/// text, its segments, and per run (a fixture tokenizer, or a variant with one tokenizer.json
/// field patched) the id count and hash of every segment plus the full ids of every k-th one.
struct TokenizerGolden: Sendable {
    struct Run: Sendable {
        var name: String
        var fixture: String
        /// Dotted tokenizer.json paths → new values ("LEGACY" turns merges into "a b" strings).
        var patch: [String: JSONValue]
        /// Indices into ``TokenizerGolden/segments``.
        var segments: [Int]
        var counts: [Int]
        var hashes: [UInt64]
        var fullEvery: Int
        /// Position in `segments` → the ids `tokenizers` gave, for positions that are multiples of `fullEvery`.
        var storedIDs: [Int: [Int]]
    }

    struct Decode: Sendable {
        var run: String
        /// The ids: a handmade list, or a run's stored ids of one segment.
        var ids: [Int]
        var text: String
        var textSkippingSpecial: String
    }

    let text: [UInt8]
    let segments: [Range<Int>]
    let runs: [Run]
    let decodes: [Decode]
    let vocabulary: [String: JSONValue]

    /// The directory of each fixture tokenizer.
    static let fixtureDirectories: [String: URL] = [
        "bard-5m": Fixtures.exampleModel,
        "sp-bpe": Fixtures.root.appendingPathComponent("tokenizers/sp-bpe"),
        "llama3-bpe": Fixtures.root.appendingPathComponent("tokenizers/llama3-bpe"),
    ]

    /// Loaded once for all tests.
    static let shared: Result<TokenizerGolden, GoldenError> = {
        do throws(GoldenError) { return .success(try TokenizerGolden()) } catch { return .failure(error) }
    }()

    struct GoldenError: Error, CustomStringConvertible {
        var description: String
    }

    static func load() throws -> TokenizerGolden {
        try shared.get()
    }

    private init() throws(GoldenError) {
        func fail(_ message: String) -> GoldenError { GoldenError(description: "tokenizer golden files: \(message)") }
        guard let jsonData = FileManager.default.contents(atPath: Fixtures.golden("tokenizer_golden.json").path),
              let json = try? JSONDecoder().decode(JSONValue.self, from: jsonData) else {
            throw fail("cannot read tokenizer_golden.json")
        }
        guard let textData = FileManager.default.contents(atPath: Fixtures.golden("tokenizer_text.txt").path) else {
            throw fail("cannot read tokenizer_text.txt")
        }
        text = [UInt8](textData)
        let hash = String(Self.fnv1a64(text), radix: 16)
        let expectedHash = json["text"]?["fnv1a64"]?.string ?? ""
        guard text.count == json["text"]?["bytes"]?.int, hash == expectedHash.drop(while: { $0 == "0" }) else {
            throw fail("tokenizer_text.txt is not the text the ids were made from (\(text.count) bytes, FNV-1a \(hash)); was it re-encoded or its line endings changed by git?")
        }
        segments = (json["segments"]?.array ?? []).compactMap { pair in
            guard let a = pair.array?.first?.int, let b = pair.array?.last?.int else { return nil }
            return a..<b
        }
        guard let binary = FileManager.default.contents(atPath: Fixtures.golden("tokenizer_ids.bin").path) else {
            throw fail("cannot read tokenizer_ids.bin")
        }
        let bytes = [UInt8](binary)
        func u32(_ at: Int) -> Int {
            Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
        }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("QGID".utf8), u32(4) == 2 else {
            throw fail("tokenizer_ids.bin: bad header")
        }
        var runs: [Run] = []
        for runJSON in json["runs"]?.array ?? [] {
            guard let name = runJSON["name"]?.string, let fixture = runJSON["fixture"]?.string,
                  var offset = runJSON["offset"]?.int else { throw fail("bad run entry") }
            let indices: [Int]
            if runJSON["segments"]?.string == "all" {
                indices = Array(segments.indices)
            } else {
                indices = runJSON["segments"]?.array?.compactMap(\.int) ?? []
            }
            let n = u32(offset)
            offset += 4
            guard n == indices.count else { throw fail("run \(name): \(n) segments in the .bin, \(indices.count) in the JSON") }
            let counts = (0..<n).map { u32(offset + 4 * $0) }
            offset += 4 * n
            let hashes = (0..<n).map { i in
                (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + 8 * i + $1]) << (8 * UInt64($1)) }
            }
            offset += 8 * n
            let every = u32(offset)
            offset += 4
            var stored: [Int: [Int]] = [:]
            for position in stride(from: 0, to: n, by: every) {
                stored[position] = (0..<counts[position]).map { k in Int(bytes[offset + 2 * k]) | Int(bytes[offset + 2 * k + 1]) << 8 }
                offset += 2 * counts[position]
            }
            runs.append(Run(name: name, fixture: fixture, patch: runJSON["patch"]?.object ?? [:], segments: indices,
                            counts: counts, hashes: hashes, fullEvery: every, storedIDs: stored))
        }
        self.runs = runs
        decodes = (json["decodes"]?.array ?? []).compactMap { entry in
            guard let run = entry["run"]?.string, let text = entry["text"]?.string,
                  let skipped = entry["text_skip_special"]?.string else { return nil }
            if let ids = entry["ids"]?.array {
                return Decode(run: run, ids: ids.compactMap(\.int), text: text, textSkippingSpecial: skipped)
            }
            guard let position = entry["position"]?.int,
                  let ids = runs.first(where: { $0.name == run })?.storedIDs[position] else { return nil }
            return Decode(run: run, ids: ids, text: text, textSkippingSpecial: skipped)
        }
        vocabulary = json["vocabulary"]?.object ?? [:]
    }

    func segmentText(_ index: Int) -> String {
        String(decoding: text[segments[index]], as: UTF8.self)
    }

    func run(named name: String) -> Run? {
        runs.first { $0.name == name }
    }

    /// FNV-1a 64 over bytes.
    static func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }

    /// FNV-1a 64 over ids, each as 4 little-endian bytes (as the Python script hashes them).
    static func hash(ids: [Int]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for id in ids {
            var value = UInt32(truncatingIfNeeded: id)
            for _ in 0..<4 {
                hash = (hash ^ UInt64(value & 0xFF)) &* 0x100_0000_01B3
                value >>= 8
            }
        }
        return hash
    }

    /// The tokenizer of a run: the fixture's tokenizer.json with the run's patch applied (and
    /// without tokenizer_config.json, as `Tokenizer.from_str` in Python). Built once per run.
    func tokenizer(for run: Run) throws -> Tokenizer {
        try Self.cache.tokenizer(for: run)
    }

    private static let cache = TokenizerCache()

    private final class TokenizerCache: @unchecked Sendable {
        private let lock = NSLock()
        private var tokenizers: [String: Tokenizer] = [:]
        private var baseJSON: [String: JSONValue] = [:]

        func tokenizer(for run: Run) throws -> Tokenizer {
            lock.lock()
            defer { lock.unlock() }
            if let cached = tokenizers[run.name] { return cached }
            guard let directory = TokenizerGolden.fixtureDirectories[run.fixture] else {
                throw GoldenError(description: "unknown fixture \(run.fixture)")
            }
            let path = directory.appendingPathComponent("tokenizer.json").path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw GoldenError(description: "cannot read \(path)")
            }
            let tokenizer: Tokenizer
            if run.patch.isEmpty {
                tokenizer = try Tokenizer(tokenizerJSON: [UInt8](data), file: path)
            } else {
                var json: JSONValue
                if let base = baseJSON[run.fixture] {
                    json = base
                } else {
                    json = try JSONDecoder().decode(JSONValue.self, from: data)
                    baseJSON[run.fixture] = json
                }
                for (dotted, value) in run.patch {
                    var replacement = value
                    if value == .string("LEGACY"), case .array(let merges)? = json["model"]?["merges"] {
                        replacement = .array(merges.map { pair in
                            .string((pair.array ?? []).compactMap(\.string).joined(separator: " "))
                        })
                    }
                    json.set(path: dotted.split(separator: ".").map(String.init), to: replacement)
                }
                tokenizer = try Tokenizer(tokenizerJSON: [UInt8](try JSONEncoder().encode(json)), file: "\(run.name)/tokenizer.json")
            }
            tokenizers[run.name] = tokenizer
            return tokenizer
        }
    }
}

/// Patching tokenizer.json for the variant runs.
extension JSONValue {
    /// Sets the value at a path of object keys and array indices.
    mutating func set(path: [String], to value: JSONValue) {
        guard let key = path.first else {
            self = value
            return
        }
        let rest = Array(path.dropFirst())
        switch self {
        case .object(var members):
            var child = members[key] ?? .null
            child.set(path: rest, to: value)
            members[key] = child
            self = .object(members)
        case .array(var elements):
            guard let index = Int(key), elements.indices.contains(index) else { return }
            elements[index].set(path: rest, to: value)
            self = .array(elements)
        default:
            var child = JSONValue.null
            child.set(path: rest, to: value)
            self = .object([key: child])
        }
    }
}
