#include "textflag.h"

// func prefetchStores(p uintptr, n int)
//
// PREFETCHW (0F 0D /1; Go's assembler has no name for it) of every cache
// line from p to p+n: each line comes in owned, ready for stores.
TEXT ·prefetchStores(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX
loop:
	CMPQ AX, CX
	JAE done
	BYTE $0x0F; BYTE $0x0D; BYTE $0x08 // PREFETCHW (AX)
	ADDQ $64, AX
	JMP loop
done:
	RET
