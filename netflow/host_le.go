//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package netflow

// hostLE is set where the processor stores numbers little-endian, as V3
// records hold them: put64 is then one store.
const hostLE = true
