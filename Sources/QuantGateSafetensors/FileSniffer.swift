/// Recognises files that stand where weights should but are something else: a Git LFS pointer
/// (a clone without `git lfs pull`) or an HTML page (a login wall or error page saved by a download).
enum FileSniffer {
    /// The first line of every Git LFS pointer file.
    static let lfsSignature = Array("version https://git-lfs.github.com/spec/".utf8)

    /// The matching error when `bytes` (the start of a file) is an impostor, else nil.
    static func impostor(_ bytes: UnsafeRawBufferPointer, file: String) -> SafetensorsError? {
        if bytes.starts(with: lfsSignature) { return .gitLFSPointer(file: file) }
        let start = bytes.prefix(512).drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }
        let lowered = start.prefix(14).map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        if lowered.starts(with: Array("<!doctype html".utf8)) || lowered.starts(with: Array("<html".utf8)) {
            return .htmlPage(file: file)
        }
        return nil
    }
}
