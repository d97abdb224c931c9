/// The Linears vLLM merges into one GEMM (`QKVParallelLinear`, `MergedColumnParallelLinear`): they
/// must share one quantization scheme, and a fused GEMM uses one input scale (the members' largest)
/// and, with per-tensor weight scales, one weight scale.
public enum FusedLinears {
    /// Leaf names of the fused groups.
    public static let groups: [[String]] = [["q_proj", "k_proj", "v_proj"], ["gate_proj", "up_proj"]]

    /// The modules run as one GEMM with `module` (itself included; just itself when it fuses with nothing).
    public static func group(of module: String) -> [String] {
        guard let dot = module.lastIndex(of: ".") else { return [module] }
        let parent = module[..<dot], leaf = String(module[module.index(after: dot)...])
        guard let group = groups.first(where: { $0.contains(leaf) }) else { return [module] }
        return group.map { "\(parent).\($0)" }
    }
}
