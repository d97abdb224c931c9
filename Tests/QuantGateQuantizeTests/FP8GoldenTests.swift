import Crypto
import Foundation
import QuantGateFormats
import QuantGateQuantize
import QuantGateTestSupport
import Testing

/// Our FP8 codes and weight scales for the example model equal llm-compressor's byte for byte.
///
/// Golden file: `python3 Tools/interop_fp8.py --golden Tests/Fixtures/golden/fp8_llmcompressor_bard-5m.json`
/// runs llm-compressor 0.14 (compressed-tensors 0.19) `oneshot` on bard-5m with channel weight scales
/// (config_groups) and with the `FP8` preset (tensor scales), and records the SHA-256 of every Linear's
/// F8_E4M3 bytes and of its bf16 `weight_scale` bytes. Weight quantization does not depend on the
/// calibration data, so any activation maxima serve here.
@Suite("FP8 golden (llm-compressor)")
struct FP8GoldenTests {
    struct Entry: Decodable { var codes: String, scales: String }
    struct Golden: Decodable { var channel: [String: Entry], tensor: [String: Entry] }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    @Test("channel and tensor schemes: codes and scales equal llm-compressor's", arguments: [FP8Scheme.WeightScales.channel, .tensor])
    func matchesLLMCompressor(strategy: FP8Scheme.WeightScales) throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Fixtures.golden("fp8_llmcompressor_bard-5m.json")))
        let expected = strategy == .channel ? golden.channel : golden.tensor
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("fp8").path
        try FP8ExportTests.export(FP8ExportTests.bard, to: out, scheme: FP8Scheme(weights: strategy, activations: .static))
        let fp8 = try FP8Checkpoint(directory: out)
        #expect(Set(fp8.quantizedModules) == Set(expected.keys))
        for module in fp8.quantizedModules {
            let codes = try fp8.codes(ofWeight: module + ".weight").codes
            let (scale, file) = try #require(fp8.checkpoint.locate(module + ".weight_scale"))
            #expect(Self.sha256(codes) == expected[module]?.codes, "\(module) codes")
            #expect(Self.sha256(file.withBytes(of: scale) { Array($0) }) == expected[module]?.scales, "\(module) scales")
        }
    }
}
