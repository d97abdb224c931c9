import Foundation
import QuantGateSafetensors
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// Reader and writer against files written by the Python `safetensors` package
/// (`python3 Tools/make_golden_safetensors.py`; see Tests/Fixtures/PROVENANCE.md).
@Suite("Safetensors golden files")
struct SafetensorsGoldenTests {
    struct Expected: Decodable {
        struct Tensor: Decodable {
            var dtype: String
            var shape: [Int]
            var values: [Value]
        }
        /// A number, or "nan" / "inf" / "-inf" (JSON has no literal for them).
        struct Value: Decodable {
            var number: Double
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Double.self) {
                    self.number = number
                } else {
                    let text = try container.decode(String.self)
                    number = text == "nan" ? .nan : text == "inf" ? .infinity : -.infinity
                }
            }
        }
        var metadata: [String: String]
        var tensors: [String: Tensor]
    }

    static let goldenFiles = ["safetensors_all_dtypes.safetensors", "safetensors_no_metadata.safetensors"]

    @Test("reads every dtype with the values torch decoded")
    func readsGoldenValues() throws {
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: Fixtures.golden("safetensors_all_dtypes.json")))
        let file = try SafetensorsFile(path: Fixtures.golden("safetensors_all_dtypes.safetensors").path)
        #expect(file.metadata == expected.metadata)
        #expect(Set(file.tensors.map(\.name)) == Set(expected.tensors.keys))
        for (name, tensor) in expected.tensors {
            let info = try #require(file.tensor(named: name))
            #expect(info.dtype.rawValue == tensor.dtype, "\(name)")
            #expect(info.shape == tensor.shape, "\(name)")
            let values = try file.floats(named: name)
            #expect(values.count == tensor.values.count, "\(name)")
            for (index, (got, want)) in zip(values, tensor.values).enumerated() {
                if want.number.isNaN {
                    #expect(got.isNaN, "\(name)[\(index)] should be NaN")
                } else {
                    #expect(got == Float(want.number), "\(name)[\(index)]: \(got) != \(want.number)")
                }
            }
        }
    }

    @Test("re-writing the golden tensors gives the reference writer's exact bytes", arguments: goldenFiles)
    func writerIsByteIdentical(name: String) throws {
        let source = Fixtures.golden(name)
        let file = try SafetensorsFile(path: source.path)
        let pending = file.tensors.map { tensor in
            PendingTensor(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape,
                          data: file.withBytes(of: tensor) { Array($0) })
        }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("rewritten.safetensors").path
        // Hand the writer the tensors in reverse to show the layout is its own, not the input order.
        try SafetensorsWriter.write(pending.reversed(), metadata: file.metadata, to: output)
        let written = try Data(contentsOf: URL(fileURLWithPath: output))
        let reference = try Data(contentsOf: source)
        #expect(written == reference)
        #expect(!FileManager.default.fileExists(atPath: output + ".partial"))
    }
}
