import QuantGateModel

/// The HDF5 layout of a statistics file (documented in `Calibration/README.md`): names shared by
/// the writer and the reader so that neither can drift from the other.
enum StatisticsLayout {
    static let format = "quantgate-calibration"
    static let formatVersion: Int64 = 1
    /// The windows, `[windows, length]` int32.
    static let tokens = "/tokens"
    /// Per-channel datasets of every statistics group, in checksum order.
    static let channelDatasets = ["mean_abs", "max_abs", "mean_sq"]
    static let hessian = "hessian"

    /// The group holding an input point's statistics: named after its first Linear. The others
    /// reading the same input are hard links to it.
    static func group(layer: Int, _ point: LinearInput) -> String { linearGroup(layer: layer, point.linears[0]) }

    /// The group name of Linear `stem` of block `layer`, e.g. `/model.layers.3.mlp.down_proj`.
    static func linearGroup(layer: Int, _ stem: String) -> String { "/model.layers.\(layer).\(stem)" }

    /// The group holding block `layer`'s output statistics.
    static func output(layer: Int) -> String { "/model.layers.\(layer).output" }

    /// The name `input` attribute records for each point.
    static func inputName(_ point: LinearInput) -> String {
        switch point {
        case .attention: "attention"
        case .attentionOutput: "attention_output"
        case .mlp: "mlp"
        case .mlpHidden: "mlp_hidden"
        }
    }
}
