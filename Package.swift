// swift-tools-version: 6.1
// QuantGate: quantize Hugging Face checkpoints for real hardware targets and gate them on measured quality.
import PackageDescription

let package = Package(
    name: "QuantGate",
    products: [
        .executable(name: "quantgate", targets: ["quantgate"]),
        .library(name: "QuantGateSafetensors", targets: ["QuantGateSafetensors"]),
        .library(name: "QuantGateModel", targets: ["QuantGateModel"]),
        .library(name: "QuantGateTokenizer", targets: ["QuantGateTokenizer"]),
        .library(name: "QuantGateCalibration", targets: ["QuantGateCalibration"]),
        .library(name: "QuantGateReport", targets: ["QuantGateReport"]),
        .library(name: "QuantGateOutput", targets: ["QuantGateOutput"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // MARK: - System libraries (Debian: libopenblas-dev liblapacke-dev libhdf5-dev, found with pkg-config)
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(
            name: "CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]),

        // MARK: - C kernels (SIMD with a scalar reference beside each)
        .target(name: "CKernels"),

        // MARK: - Library modules, lowest first
        // How every output is written: refuse what exists unless --force, a unique temporary sibling, flush, rename.
        .target(name: "QuantGateOutput"),
        .target(name: "QuantGateTensors", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "QuantGateSafetensors", dependencies: ["QuantGateTensors", "QuantGateOutput"]),
        .target(name: "QuantGateTokenizer", dependencies: ["QuantGateOutput"]),
        .target(name: "QuantGateModel", dependencies: ["QuantGateOutput", "QuantGateTensors", "QuantGateSafetensors", "CBLAS", "CKernels"]),
        .target(name: "QuantGateHDF5", dependencies: ["CHDF5", "QuantGateOutput"]),
        .target(name: "QuantGateEval", dependencies: ["QuantGateModel", "QuantGateOutput", "QuantGateTokenizer", "QuantGateTensors", "CKernels"]),
        .target(
            name: "QuantGateFormats", dependencies: ["CKernels", "QuantGateOutput", "QuantGateSafetensors", "QuantGateTensors"],
            path: "Formats", exclude: ["README.md"]),
        .target(
            name: "QuantGateQuantize",
            dependencies: ["QuantGateFormats", "QuantGateCalibration", "QuantGateModel", "QuantGateOutput", "QuantGateTokenizer", "QuantGateTensors",
                           "CKernels"]),
        .target(
            name: "QuantGateCalibration",
            dependencies: [
                "QuantGateEval", "QuantGateHDF5", "QuantGateModel", "QuantGateOutput", "QuantGateTokenizer", "QuantGateTensors", "CBLAS", "CHDF5",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // Reports, gate policy and decisions, promotion manifests: data in, data out (no model code).
        .target(
            name: "QuantGateReport",
            dependencies: [
                "QuantGateFormats", "QuantGateOutput", "QuantGateTensors",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Yams", package: "Yams"),
            ]),

        // Scores artefacts against their baseline: structural checks, distribution metrics, tasks, smoke test.
        .target(
            name: "QuantGateAssessment",
            dependencies: [
                "QuantGateEval", "QuantGateReport", "QuantGateQuantize", "QuantGateCalibration", "QuantGateFormats",
                "QuantGateHDF5", "QuantGateModel", "QuantGateOutput", "QuantGateTokenizer", "QuantGateTensors",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // MARK: - Command-line tool
        .executableTarget(
            name: "quantgate",
            dependencies: [
                "QuantGateAssessment", "QuantGateCalibration", "QuantGateEval", "QuantGateFormats", "QuantGateHDF5",
                "QuantGateModel", "QuantGateOutput", "QuantGateQuantize", "QuantGateReport",
                "QuantGateSafetensors", "QuantGateTensors", "QuantGateTokenizer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: - Tests (fixtures live in Tests/Fixtures and are found from #filePath)
        .target(name: "QuantGateTestSupport", dependencies: ["QuantGateTensors", "QuantGateFormats"], path: "Tests/TestSupport"),
        .testTarget(
            name: "CKernelsTests", dependencies: ["CKernels", "QuantGateTensors", "QuantGateSafetensors", "QuantGateTestSupport"]),
        .testTarget(name: "SystemLibrariesTests", dependencies: ["CBLAS", "CHDF5"]),
        .testTarget(name: "QuantGateOutputTests", dependencies: ["QuantGateOutput", "QuantGateTestSupport"]),
        .testTarget(name: "QuantGateTensorsTests", dependencies: ["QuantGateTensors", "QuantGateTestSupport"]),
        .testTarget(
            name: "QuantGateSafetensorsTests",
            dependencies: ["QuantGateSafetensors", "QuantGateTensors", "QuantGateTestSupport"]),
        .testTarget(name: "QuantGateTokenizerTests", dependencies: ["QuantGateTokenizer", "QuantGateTensors", "QuantGateTestSupport"]),
        .testTarget(name: "QuantGateModelTests", dependencies: ["QuantGateModel", "QuantGateTensors", "QuantGateTestSupport"]),
        .testTarget(name: "QuantGateEvalTests", dependencies: ["QuantGateEval", "QuantGateTestSupport"]),
        .testTarget(
            name: "QuantGateQuantizeTests",
            dependencies: ["QuantGateQuantize", "QuantGateCalibration", "QuantGateFormats", "QuantGateModel", "QuantGateOutput", "QuantGateTokenizer", "QuantGateTestSupport",
                           "QuantGateSafetensors", "QuantGateTensors", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "QuantGateFormatsTests", dependencies: ["QuantGateFormats", "QuantGateTestSupport", "CKernels"]),
        .testTarget(
            name: "QuantGateCalibrationTests",
            dependencies: ["QuantGateCalibration", "QuantGateHDF5", "QuantGateModel", "QuantGateOutput", "QuantGateTokenizer", "QuantGateTestSupport", "CHDF5"]),
        .testTarget(name: "QuantGateReportTests", dependencies: ["QuantGateReport", "QuantGateFormats", "QuantGateTestSupport"]),
        .testTarget(
            name: "QuantGateAssessmentTests",
            dependencies: ["QuantGateAssessment", "QuantGateEval", "QuantGateReport", "QuantGateQuantize", "QuantGateModel", "QuantGateOutput",
                           "QuantGateFormats", "QuantGateTensors", "QuantGateTestSupport"]),
        .testTarget(name: "QuantGateCLITests", dependencies: ["quantgate", "QuantGateTestSupport"]),
    ]
)
