import CHDF5
import Foundation
import QuantGateOutput

/// A failed HDF5 operation, naming the file and the object inside it.
public struct HDF5Error: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let object: String
    public let reason: String

    public init(path: String, object: String, reason: String) {
        self.path = path
        self.object = object
        self.reason = reason
    }

    public var description: String { object.isEmpty ? "\(path): \(reason)" : "\(path): \(object): \(reason)" }

    /// This failure, met while writing a temporary for the output `path`, told as a write of `path`.
    public func outputError(for path: String) -> OutputError {
        let what = object.isEmpty ? reason : "\(object): \(reason)"
        return OutputError(path: path, reason: what.hasPrefix("cannot be") ? what : "cannot be written: \(what)")
    }
}

/// An attribute value: what QuantGate's HDF5 files record about themselves.
public enum HDF5Attribute: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case double(Double)
}

/// A thin wrapper over the HDF5 C API for the files QuantGate writes and reads: groups, hard links,
/// little-endian f32 / i32 datasets and scalar attributes. Objects are addressed by absolute path.
///
/// Written files are deterministic: object modification times are not recorded, so the same
/// content gives the same bytes. HDF5's own error printing is switched off; failures throw
/// ``HDF5Error`` instead.
public final class HDF5File {
    public let path: String
    private let id: hid_t

    private init(path: String, id: hid_t) {
        self.path = path
        self.id = id
    }

    private var isOpen = true

    deinit { close() }

    /// Flushes and closes the file; later calls do nothing. Failures are ignored (see ``closeChecked()``).
    public func close() {
        guard isOpen else { return }
        H5Fclose(id)
        isOpen = false
    }

    /// Flushes and closes the file, throwing when the flush fails (a full disk, an I/O error).
    public func closeChecked() throws(HDF5Error) {
        guard isOpen else { return }
        errno = 0
        let status = H5Fclose(id)
        isOpen = false
        guard status >= 0 else { throw ioFailure("", "cannot be flushed and closed") }
    }

    /// A failed write, with the operating system's reason when it left one (no space left on device, …).
    private func ioFailure(_ object: String, _ what: String) -> HDF5Error {
        let code = errno
        let known: Set<Int32> = [ENOSPC, EDQUOT, EIO, EROFS, EFBIG, EACCES]
        guard known.contains(code) else { return fail(object, what) }
        return fail(object, "\(what): \(OutputError.describe(errno: code))")
    }

    /// Creates (or truncates) `path`.
    public static func create(_ path: String) throws(HDF5Error) -> HDF5File {
        _ = silenceLibrary
        let creation = H5Pcreate(qg_h5p_file_create_class())
        defer { H5Pclose(creation) }
        H5Pset_obj_track_times(creation, false)
        errno = 0
        let id = H5Fcreate(path, qg_h5f_acc_trunc(), creation, qg_h5p_default())
        guard id >= 0 else {
            let code = errno
            throw HDF5Error(path: path, object: "", reason: code == 0 ? "cannot be created" : "cannot be created: \(OutputError.describe(errno: code))")
        }
        return HDF5File(path: path, id: id)
    }

    /// Opens `path` read-only.
    public static func open(_ path: String) throws(HDF5Error) -> HDF5File {
        _ = silenceLibrary
        guard FileManager.default.fileExists(atPath: path) else {
            throw HDF5Error(path: path, object: "", reason: "no such file")
        }
        guard H5Fis_hdf5(path) > 0 else {
            throw HDF5Error(path: path, object: "", reason: "is not an HDF5 file")
        }
        let id = H5Fopen(path, qg_h5f_acc_rdonly(), qg_h5p_default())
        guard id >= 0 else { throw HDF5Error(path: path, object: "", reason: "cannot be opened (truncated or damaged)") }
        return HDF5File(path: path, id: id)
    }

    private func fail(_ object: String, _ reason: String) -> HDF5Error { HDF5Error(path: path, object: object, reason: reason) }

    // MARK: Groups and links

    /// Creates group `name` (its parent must exist).
    public func createGroup(_ name: String) throws(HDF5Error) {
        let creation = H5Pcreate(qg_h5p_group_create())
        defer { H5Pclose(creation) }
        H5Pset_obj_track_times(creation, false)
        let group = H5Gcreate2(id, name, qg_h5p_default(), creation, qg_h5p_default())
        guard group >= 0 else { throw fail(name, "cannot create group") }
        H5Gclose(group)
    }

    /// Makes `name` a second name (a hard link) for the existing object `target`.
    public func link(_ name: String, to target: String) throws(HDF5Error) {
        guard H5Lcreate_hard(id, target, id, name, qg_h5p_default(), qg_h5p_default()) >= 0 else {
            throw fail(name, "cannot link to \(target)")
        }
    }

    /// Whether an object is reachable at `name`.
    public func exists(_ name: String) -> Bool {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += "/" + component
            guard H5Lexists(id, prefix, qg_h5p_default()) > 0 else { return false }
        }
        return H5Oexists_by_name(id, name, qg_h5p_default()) > 0
    }

    // MARK: Datasets

    /// Writes a little-endian f32 dataset of `shape`.
    public func write(_ name: String, floats values: [Float], shape: [Int]) throws(HDF5Error) {
        try write(name, shape: shape, count: values.count, fileType: qg_h5t_ieee_f32le(), memoryType: qg_h5t_native_float()) {
            values.withUnsafeBytes { $0.baseAddress! }
        }
    }

    /// Writes a little-endian i32 dataset of `shape`.
    public func write(_ name: String, int32s values: [Int32], shape: [Int]) throws(HDF5Error) {
        try write(name, shape: shape, count: values.count, fileType: qg_h5t_std_i32le(), memoryType: qg_h5t_native_int32()) {
            values.withUnsafeBytes { $0.baseAddress! }
        }
    }

    /// Writes a little-endian u16 dataset of `shape` (QuantGate stores IEEE half-precision bits this way).
    public func write(_ name: String, uint16s values: [UInt16], shape: [Int]) throws(HDF5Error) {
        try write(name, shape: shape, count: values.count, fileType: qg_h5t_std_u16le(), memoryType: qg_h5t_native_uint16()) {
            values.withUnsafeBytes { $0.baseAddress! }
        }
    }

    private func write(_ name: String, shape: [Int], count: Int, fileType: hid_t, memoryType: hid_t,
                       data: () -> UnsafeRawPointer) throws(HDF5Error) {
        precondition(shape.reduce(1, *) == count && count > 0, "dataset \(name): \(count) values for shape \(shape)")
        var dims = shape.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dims.count), &dims, nil)
        defer { H5Sclose(space) }
        let creation = H5Pcreate(qg_h5p_dataset_create())
        defer { H5Pclose(creation) }
        H5Pset_obj_track_times(creation, false)
        errno = 0
        let dataset = H5Dcreate2(id, name, fileType, space, qg_h5p_default(), creation, qg_h5p_default())
        guard dataset >= 0 else { throw ioFailure(name, "cannot create dataset") }
        defer { H5Dclose(dataset) }
        guard H5Dwrite(dataset, memoryType, qg_h5s_all(), qg_h5s_all(), qg_h5p_default(), data()) >= 0 else {
            throw ioFailure(name, "cannot write dataset")
        }
    }

    /// Reads a floating-point dataset as f32, with its shape.
    public func readFloats(_ name: String) throws(HDF5Error) -> (shape: [Int], values: [Float]) {
        try read(name, class: H5T_FLOAT, memoryType: qg_h5t_native_float(), zero: Float(0))
    }

    /// Reads an integer dataset as i64, with its shape.
    public func readIntegers(_ name: String) throws(HDF5Error) -> (shape: [Int], values: [Int64]) {
        try read(name, class: H5T_INTEGER, memoryType: qg_h5t_native_int64(), zero: Int64(0))
    }

    /// Reads an integer dataset as u16 (values outside 0...65535 are an error of HDF5's conversion), with its shape.
    public func readUInt16s(_ name: String) throws(HDF5Error) -> (shape: [Int], values: [UInt16]) {
        try read(name, class: H5T_INTEGER, memoryType: qg_h5t_native_uint16(), zero: UInt16(0))
    }

    /// Reads an integer dataset as i32, with its shape.
    public func readInt32s(_ name: String) throws(HDF5Error) -> (shape: [Int], values: [Int32]) {
        try read(name, class: H5T_INTEGER, memoryType: qg_h5t_native_int32(), zero: Int32(0))
    }

    private func read<T>(_ name: String, class expected: H5T_class_t, memoryType: hid_t, zero: T) throws(HDF5Error)
        -> (shape: [Int], values: [T])
    {
        guard exists(name) else { throw fail(name, "is missing") }
        let dataset = H5Dopen2(id, name, qg_h5p_default())
        guard dataset >= 0 else { throw fail(name, "is not a dataset") }
        defer { H5Dclose(dataset) }
        let type = H5Dget_type(dataset)
        let actual = H5Tget_class(type)
        H5Tclose(type)
        guard actual == expected else {
            throw fail(name, expected == H5T_FLOAT ? "is not a floating-point dataset" : "is not an integer dataset")
        }
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 && rank <= 8 else { throw fail(name, "has an unreadable shape") }
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        H5Sget_simple_extent_dims(space, &dims, nil)
        let shape = dims.prefix(rank).map { Int($0) }
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= 1 << 34 else { throw fail(name, "is implausibly large (shape \(shape))") }
            count = product
        }
        var values = [T](repeating: zero, count: count)
        guard count == 0 || values.withUnsafeMutableBytes({
            H5Dread(dataset, memoryType, qg_h5s_all(), qg_h5s_all(), qg_h5p_default(), $0.baseAddress!)
        }) >= 0 else {
            throw fail(name, "cannot be read (truncated or damaged file)")
        }
        return (shape, values)
    }

    // MARK: Attributes

    /// Sets a scalar attribute on the object at `object` (`/` for the file).
    public func setAttribute(_ name: String, _ value: HDF5Attribute, on object: String = "/") throws(HDF5Error) {
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let type: hid_t
        switch value {
        case .string:
            type = H5Tcopy(qg_h5t_c_s1())
            H5Tset_size(type, qg_h5t_variable())
            H5Tset_cset(type, H5T_CSET_UTF8)
        case .integer: type = H5Tcopy(qg_h5t_std_i64le())
        case .double: type = H5Tcopy(qg_h5t_ieee_f64le())
        }
        defer { H5Tclose(type) }
        let attribute = H5Acreate_by_name(id, object, name, type, space, qg_h5p_default(), qg_h5p_default(), qg_h5p_default())
        guard attribute >= 0 else { throw fail(object, "cannot create attribute \(name)") }
        defer { H5Aclose(attribute) }
        let status: herr_t
        switch value {
        case .string(let text):
            status = text.withCString { characters in
                var pointer: UnsafePointer<CChar>? = characters
                return H5Awrite(attribute, type, &pointer)
            }
        case .integer(var number): status = H5Awrite(attribute, qg_h5t_native_int64(), &number)
        case .double(var number): status = H5Awrite(attribute, qg_h5t_native_double(), &number)
        }
        guard status >= 0 else { throw fail(object, "cannot write attribute \(name)") }
    }

    /// Reads a scalar attribute, or nil when the object has none of that name.
    public func attribute(_ name: String, on object: String = "/") throws(HDF5Error) -> HDF5Attribute? {
        guard exists(object) || object == "/" else { throw fail(object, "is missing") }
        guard H5Aexists_by_name(id, object, name, qg_h5p_default()) > 0 else { return nil }
        let attribute = H5Aopen_by_name(id, object, name, qg_h5p_default(), qg_h5p_default())
        guard attribute >= 0 else { throw fail(object, "cannot open attribute \(name)") }
        defer { H5Aclose(attribute) }
        let type = H5Aget_type(attribute)
        defer { H5Tclose(type) }
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            var number: Int64 = 0
            guard H5Aread(attribute, qg_h5t_native_int64(), &number) >= 0 else { throw fail(object, "cannot read attribute \(name)") }
            return .integer(number)
        case H5T_FLOAT:
            var number = 0.0
            guard H5Aread(attribute, qg_h5t_native_double(), &number) >= 0 else { throw fail(object, "cannot read attribute \(name)") }
            return .double(number)
        case H5T_STRING:
            return .string(try readString(attribute, type: type, object: object, name: name))
        default:
            throw fail(object, "attribute \(name) has an unsupported type")
        }
    }

    private func readString(_ attribute: hid_t, type: hid_t, object: String, name: String) throws(HDF5Error) -> String {
        if H5Tis_variable_str(type) > 0 {
            let memory = H5Tcopy(qg_h5t_c_s1())
            defer { H5Tclose(memory) }
            H5Tset_size(memory, qg_h5t_variable())
            H5Tset_cset(memory, H5Tget_cset(type))
            var pointer: UnsafeMutablePointer<CChar>? = nil
            guard H5Aread(attribute, memory, &pointer) >= 0, let pointer else { throw fail(object, "cannot read attribute \(name)") }
            defer { H5free_memory(pointer) }
            return String(cString: pointer)
        }
        let size = H5Tget_size(type)
        guard size > 0 && size < 1 << 20 else { throw fail(object, "attribute \(name) has an unreadable size") }
        var buffer = [UInt8](repeating: 0, count: size + 1)
        guard H5Aread(attribute, type, &buffer) >= 0 else { throw fail(object, "cannot read attribute \(name)") }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Switches off HDF5's printing of error stacks on stderr, once per process.
    /// Before the library's first use: no error printing, and no clean-up at process exit. HDF5's exit
    /// handler closes what is still open and crashes on a file whose flush failed (a full disk); every file
    /// here is closed explicitly, so the handler has nothing to do.
    private static let silenceLibrary: Void = {
        H5dont_atexit()
        H5Eset_auto2(qg_h5e_default(), nil, nil)
    }()
}
