//go:build !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package netflow

// hostLE is set where the processor stores numbers little-endian (see
// host_le.go).
const hostLE = false
