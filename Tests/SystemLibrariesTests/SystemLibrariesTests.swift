import CBLAS
import CHDF5
import Foundation
import Testing

/// The system libraries QuantGate builds on are found, linked and give the right answers.
@Suite("System libraries")
struct SystemLibrariesTests {
    @Test("cblas_sgemm multiplies row-major matrices")
    func sgemm() {
        // A (2×3) · B (3×2) = C (2×2), worked by hand.
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let b: [Float] = [7, 8, 9, 10, 11, 12]
        var c = [Float](repeating: -1, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, &c, 2)
        #expect(c == [58, 64, 139, 154])
    }

    @Test("LAPACKE_spotrf factors a symmetric positive-definite matrix")
    func potrf() {
        // A = L·Lᵀ with L = [[2,0,0],[1,3,0],[-1,2,4]]: spotrf must return exactly that L.
        let lower: [Float] = [2, 0, 0, 1, 3, 0, -1, 2, 4]
        var a = [Float](repeating: 0, count: 9)
        for i in 0..<3 {
            for j in 0..<3 {
                a[i * 3 + j] = (0..<3).reduce(0) { $0 + lower[i * 3 + $1] * lower[j * 3 + $1] }
            }
        }
        let info = LAPACKE_spotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), 3, &a, 3)
        #expect(info == 0)
        for i in 0..<3 {
            for j in 0...i { #expect(abs(a[i * 3 + j] - lower[i * 3 + j]) < 1e-5, "L[\(i)][\(j)]") }
        }
        // A matrix that is not positive definite is reported, not silently factored.
        var indefinite: [Float] = [1, 2, 2, 1]
        #expect(LAPACKE_spotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), 2, &indefinite, 2) == 2)
    }

    @Test("HDF5 writes then reads a dataset with attributes")
    func hdf5RoundTrip() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qg-h5-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let values: [Float] = (0..<12).map { Float($0) * 0.5 - 2 }

        let file = H5Fcreate(path, qg_h5f_acc_trunc(), qg_h5p_default(), qg_h5p_default())
        try #require(file >= 0)
        var dims: [hsize_t] = [3, 4]
        let space = H5Screate_simple(2, &dims, nil)
        let linkCreation = H5Pcreate(qg_h5p_link_create())
        H5Pset_create_intermediate_group(linkCreation, 1)  // creates the "stats" group on the way
        let dataset = H5Dcreate2(file, "stats/hessian", qg_h5t_native_float(), space,
                                 linkCreation, qg_h5p_default(), qg_h5p_default())
        H5Pclose(linkCreation)
        try #require(dataset >= 0)
        #expect(H5Dwrite(dataset, qg_h5t_native_float(), qg_h5s_all(), qg_h5s_all(), qg_h5p_default(), values) >= 0)
        let scalar = H5Screate(H5S_SCALAR)
        var samples: Int64 = 65_536
        let attribute = H5Acreate2(dataset, "samples", qg_h5t_native_int64(), scalar, qg_h5p_default(), qg_h5p_default())
        #expect(H5Awrite(attribute, qg_h5t_native_int64(), &samples) >= 0)
        let text = "bard-5m/prose"
        let stringType = H5Tcopy(qg_h5t_c_s1())
        H5Tset_size(stringType, text.utf8.count)
        let label = H5Acreate2(dataset, "data", stringType, scalar, qg_h5p_default(), qg_h5p_default())
        #expect(H5Awrite(label, stringType, text) >= 0)
        for id in [label, attribute] { H5Aclose(id) }
        H5Tclose(stringType)
        H5Sclose(scalar)
        H5Dclose(dataset)
        H5Sclose(space)
        H5Fclose(file)

        let reopened = H5Fopen(path, qg_h5f_acc_rdonly(), qg_h5p_default())
        try #require(reopened >= 0)
        defer { H5Fclose(reopened) }
        let readSet = H5Dopen2(reopened, "stats/hessian", qg_h5p_default())
        try #require(readSet >= 0)
        defer { H5Dclose(readSet) }
        var readDims: [hsize_t] = [0, 0]
        let readSpace = H5Dget_space(readSet)
        #expect(H5Sget_simple_extent_dims(readSpace, &readDims, nil) == 2)
        H5Sclose(readSpace)
        #expect(readDims == [3, 4])
        var read = [Float](repeating: 0, count: 12)
        #expect(H5Dread(readSet, qg_h5t_native_float(), qg_h5s_all(), qg_h5s_all(), qg_h5p_default(), &read) >= 0)
        #expect(read == values)

        var readSamples: Int64 = 0
        let samplesAttribute = H5Aopen(readSet, "samples", qg_h5p_default())
        #expect(H5Aread(samplesAttribute, qg_h5t_native_int64(), &readSamples) >= 0)
        H5Aclose(samplesAttribute)
        #expect(readSamples == 65_536)

        let dataAttribute = H5Aopen(readSet, "data", qg_h5p_default())
        let storedType = H5Aget_type(dataAttribute)
        let size = H5Tget_size(storedType)
        var buffer = [UInt8](repeating: 0, count: size)
        #expect(H5Aread(dataAttribute, storedType, &buffer) >= 0)
        H5Tclose(storedType)
        H5Aclose(dataAttribute)
        #expect(String(decoding: buffer, as: UTF8.self) == text)
    }
}
