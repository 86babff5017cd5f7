//go:build !linux

package localstack

// memoryMeasured: without /proc the engine neither reports Max Memory Used
// nor enforces the function's memory.
const memoryMeasured = false

func treeMemoryMB(pid int, peak bool) int { return 0 }
