#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only, private memory mapping of a whole file. Pages are read lazily by the kernel, so
/// opening a multi-gigabyte checkpoint costs nothing until a tensor's bytes are touched.
final class MappedFile: @unchecked Sendable {
    /// The mapped bytes; valid for the lifetime of this object.
    let bytes: UnsafeRawBufferPointer
    let path: String

    /// Maps `path`, throwing ``SafetensorsError/unreadable(file:reason:)`` on failure.
    /// An empty file maps to an empty buffer.
    init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SafetensorsError.unreadable(file: path, reason: Self.errorText()) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw SafetensorsError.unreadable(file: path, reason: Self.errorText())
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw SafetensorsError.unreadable(file: path, reason: "not a regular file")
        }
        let size = Int(status.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw SafetensorsError.unreadable(file: path, reason: "mmap failed: \(Self.errorText())")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Drops the pages wholly inside `range` from this process's resident set (`MADV_DONTNEED`). The file's
    /// pages stay in the page cache, and a later read faults them back in unchanged: the mapping is private
    /// and never written. Without this, every page read once counts in the resident set until the file is
    /// closed, so reading a checkpoint tensor by tensor would peak at the checkpoint's size.
    func releasePages(_ range: Range<Int>) {
        guard let base = bytes.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        guard end > first else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + first), end - first, Int32(MADV_DONTNEED))
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
