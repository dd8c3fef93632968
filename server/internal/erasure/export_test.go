package erasure

// SetSequentialIO switches shard reads and writes between concurrent
// (default) and sequential, for the benchmarks.
func SetSequentialIO(e *Erasure, seq bool) { e.sequentialIO = seq }
