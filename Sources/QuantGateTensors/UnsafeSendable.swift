/// A pointer handed to `DispatchQueue.concurrentPerform` workers, which read it or write disjoint
/// elements of it. The caller keeps the memory alive for the duration of the parallel loop.
public struct UnsafeSendable<Pointee>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Pointee>
    public init(_ pointer: UnsafeMutablePointer<Pointee>) { self.pointer = pointer }
    /// For read-only sharing.
    public init(_ pointer: UnsafePointer<Pointee>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}
