import Foundation

/// Writes `error: …` and `warning: …` lines to standard error.
enum ErrorReporter {
    static func report(_ error: any Error) {
        report("\(error)")
    }

    static func report(_ message: String) {
        let text = message.hasPrefix("error:") || message.hasPrefix("Error:") ? message : "error: \(message)"
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}
