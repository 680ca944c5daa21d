//go:build gc && !noasm

#include "textflag.h"

// Registers:
//   SI  next input byte         DI  next output byte
//   R9  end of src              R8  end of dst
//   R13 fast path's input limit R12 fast path's output limit
//   R11 start of dst
//   AX  match offset            CX  literal or match length
//   DX  token (in fast, the next one), match length code
//   BX  match source            R10 match length - 4 in fast, scratch
//
// The fast path (fast) takes a sequence whose token starts more than 32
// bytes before the end of src (so its literals, up to 14, and its offset
// can be read 16 bytes at a time without leaving src) and whose output
// starts more than 64 bytes before the end of dst (so 16 bytes of literals
// and 32 of match, from up to 14 bytes further on, can be stored without
// leaving dst). It copies 16 bytes of literals and 32 of match whatever
// their lengths, which writes past the sequence's output but never past
// dst: bytes after the output's end are left undefined. Matches of 19 to
// 32 bytes (fast_match_ext) and offsets of 8 to 15 (fast_short_offset)
// are still the fast path's. Everything else (literal lengths of 15 and
// more, matches of more than 32 bytes, offsets under 8, the end of
// either buffer, and every error) goes through the exact path (general,
// match_long, match_copy), which checks each read and write against the
// ends of src and dst.

// func decodeBlock(dst, src []byte) int
TEXT ·decodeBlock(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ DI, R11
	MOVQ dst_len+8(FP), R8
	ADDQ DI, R8
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), R9
	ADDQ SI, R9

	// R12 = R8-64, or R11 (never taken) if dst is shorter than 65 bytes.
	MOVQ R11, R12
	MOVQ dst_len+8(FP), AX
	CMPQ AX, $64
	JBE  out_limit_set
	LEAQ -64(R8), R12
out_limit_set:
	// R13 = R9-32, or src's start (never taken) if src is shorter than 33.
	MOVQ SI, R13
	MOVQ src_len+32(FP), AX
	CMPQ AX, $32
	JBE  loopcheck
	LEAQ -32(R9), R13
	JMP  loopcheck

	PCALIGN $32
fast:
	// SI < R13, DI < R12, DX the token at SI. The chain from one token to
	// the next is a shift and a load: the next token is loaded from an
	// address of the literal length's register before SI moves there.
	MOVL    DX, CX
	SHRL    $4, CX
	CMPL    CX, $15
	JEQ     general
	MOVOU   1(SI), X0
	MOVOU   X0, (DI)
	MOVWLZX 1(SI)(CX*1), AX
	MOVL    DX, R10
	ANDL    $15, R10
	CMPL    R10, $15
	JEQ     fast_match_ext
	MOVBLZX 3(SI)(CX*1), DX
	LEAQ    3(SI)(CX*1), SI

fast_match:
	// AX offset, R10 match length - 4, at most 28; DX the next token, at
	// SI (read ahead: SI is at most 18 bytes on from where the fast path
	// was entered, so still in src).
	ADDQ    CX, DI
	CMPL    AX, $16
	JB      fast_short_offset
	MOVQ    DI, BX
	SUBQ    AX, BX
	CMPQ    BX, R11
	JB      err
	MOVOU   (BX), X0
	MOVOU   X0, (DI)
	MOVOU   16(BX), X1
	MOVOU   X1, 16(DI)
	LEAQ    4(DI)(R10*1), DI
	CMPQ    DI, R12
	JAE     loopcheck_exact
	CMPQ    SI, R13
	JB      fast
	JMP     loopcheck_exact

fast_match_ext:
	// A match length's first further byte of up to 13 makes a match of
	// up to 32 bytes, which the fast path's copy covers.
	MOVBLZX 3(SI)(CX*1), BX
	CMPL    BX, $13
	JA      fast_match_long
	ADDL    BX, R10
	MOVBLZX 4(SI)(CX*1), DX
	LEAQ    4(SI)(CX*1), SI
	JMP     fast_match

fast_match_long:
	LEAQ 3(SI)(CX*1), SI
	ADDQ CX, DI
	MOVL R10, DX
	JMP  match_long

fast_short_offset:
	// Offsets 8 to 15 copy 8 bytes at a time, each from bytes already
	// written; shorter ones, and 0, take the exact path.
	CMPL  AX, $8
	JB    fast_tiny_offset
	MOVQ  DI, BX
	SUBQ  AX, BX
	CMPQ  BX, R11
	JB    err
	MOVQ  (BX), X0
	MOVQ  X0, (DI)
	MOVQ  8(BX), X0
	MOVQ  X0, 8(DI)
	MOVQ  16(BX), X0
	MOVQ  X0, 16(DI)
	MOVQ  24(BX), X0
	MOVQ  X0, 24(DI)
	LEAQ  4(DI)(R10*1), DI
	JMP   loopcheck

fast_tiny_offset:
	LEAQ 4(R10), CX
	JMP  match_copy

loopcheck:
	CMPQ    DI, R12
	JAE     loopcheck_exact
	CMPQ    SI, R13
	JAE     loopcheck_exact
	MOVBLZX (SI), DX
	JMP     fast

loopcheck_exact:
	CMPQ SI, R9
	JB   general

	// The input ended after a match.
done:
	SUBQ R11, DI
	MOVQ DI, ret+48(FP)
	RET

err:
	MOVQ $-1, ret+48(FP)
	RET

general:
	// One sequence, every access checked. SI < R9.
	MOVBLZX (SI), DX
	INCQ    SI
	MOVL    DX, CX
	SHRL    $4, CX
	CMPL    CX, $15
	JNE     general_literals

general_literal_length:
	CMPQ    SI, R9
	JAE     err
	MOVBLZX (SI), BX
	INCQ    SI
	ADDQ    BX, CX
	CMPL    BX, $255
	JEQ     general_literal_length

general_literals:
	// CX literals from SI to DI, if both have them.
	MOVQ R9, AX
	SUBQ SI, AX
	CMPQ CX, AX
	JA   err
	MOVQ R8, AX
	SUBQ DI, AX
	CMPQ CX, AX
	JA   err
	CMPQ CX, $16
	JB   literal_bytes
	MOVQ CX, R10
	MOVQ SI, BX
	MOVQ DI, AX

literal_chunks:
	MOVOU (BX), X0
	MOVOU X0, (AX)
	ADDQ  $16, BX
	ADDQ  $16, AX
	SUBQ  $16, R10
	CMPQ  R10, $16
	JAE   literal_chunks

	// The last 16 bytes, ending where the literals end.
	MOVOU -16(SI)(CX*1), X0
	MOVOU X0, -16(DI)(CX*1)
	ADDQ  CX, SI
	ADDQ  CX, DI
	JMP   general_offset

literal_bytes:
	TESTQ CX, CX
	JZ    general_offset

literal_bytes_loop:
	MOVB (SI), BX
	MOVB BX, (DI)
	INCQ SI
	INCQ DI
	DECQ CX
	JNZ  literal_bytes_loop

general_offset:
	ANDL $15, DX
	CMPQ SI, R9
	JAE  general_end
	MOVQ R9, AX
	SUBQ SI, AX
	CMPQ AX, $2
	JB   err
	MOVWLZX (SI), AX
	ADDQ    $2, SI
	CMPL    DX, $15
	JEQ     match_long
	LEAQ    4(DX), CX
	JMP     match_copy

general_end:
	// The input ends after the literals: a token that announced a match
	// is damage.
	TESTL DX, DX
	JNZ   err
	JMP   done

match_long:
	// AX offset, DX = 15, SI at the match length's further bytes.
	MOVQ DX, CX

match_length:
	CMPQ    SI, R9
	JAE     err
	MOVBLZX (SI), BX
	INCQ    SI
	ADDQ    BX, CX
	CMPL    BX, $255
	JEQ     match_length
	ADDQ    $4, CX

match_copy:
	// CX bytes from offset AX back, every bound checked.
	TESTQ AX, AX
	JZ    err
	MOVQ  DI, BX
	SUBQ  R11, BX
	CMPQ  AX, BX
	JA    err
	MOVQ  R8, BX
	SUBQ  DI, BX
	CMPQ  CX, BX
	JA    err
	MOVQ  DI, BX
	SUBQ  AX, BX
	CMPQ  AX, $16
	JAE   match_chunks
	CMPQ  CX, $16
	JBE   match_bytes

	// Offset under 16, more than 16 bytes: copy 16 one by one, then copy
	// from a multiple of the offset of at least 16 back: the output is
	// periodic with the offset's period, so its bytes are the same.
	MOVQ $16, R10

match_prefix:
	MOVB (BX), DX
	MOVB DX, (DI)
	INCQ BX
	INCQ DI
	DECQ R10
	JNZ  match_prefix
	SUBQ $16, CX
	MOVQ AX, R10

match_widen:
	CMPQ R10, $16
	JAE  match_widened
	ADDQ AX, R10
	JMP  match_widen

match_widened:
	MOVQ DI, BX
	SUBQ R10, BX

match_chunks:
	// BX is at least 16 bytes behind DI; CX > 0.
	CMPQ CX, $16
	JB   match_bytes
	CMPQ CX, $64
	JB   match_chunks_loop

	// A long match: while it overlaps what it copies and its source is
	// under 256 bytes behind, copy the R10 bytes behind DI, which doubles
	// the distance the rest can be copied from. Loads then come from bytes
	// stored long before, instead of each waiting for the store before it
	// (a block of zeros decoded at 6 GB/s, pierrec at 22).
	MOVQ DI, R10
	SUBQ BX, R10

match_grow:
	CMPQ R10, $256
	JAE  match_far
	CMPQ CX, R10
	JBE  match_far
	XORL AX, AX

match_grow_loop:
	MOVOU (BX)(AX*1), X0
	MOVOU X0, (DI)(AX*1)
	ADDQ  $16, AX
	LEAQ  16(AX), DX
	CMPQ  DX, R10
	JBE   match_grow_loop
	MOVOU -16(BX)(R10*1), X0
	MOVOU X0, -16(DI)(R10*1)
	ADDQ  R10, DI
	SUBQ  R10, CX
	SHLQ  $1, R10
	JMP   match_grow

match_far:
	// BX = DI-R10; R10 is at least 256 or at least CX, which is > 0, so
	// at least 64 for the loop below.
	CMPQ CX, $64
	JB   match_chunks

match_far_loop:
	MOVOU (BX), X0
	MOVOU 16(BX), X1
	MOVOU 32(BX), X2
	MOVOU 48(BX), X3
	MOVOU X0, (DI)
	MOVOU X1, 16(DI)
	MOVOU X2, 32(DI)
	MOVOU X3, 48(DI)
	ADDQ  $64, BX
	ADDQ  $64, DI
	SUBQ  $64, CX
	CMPQ  CX, $64
	JAE   match_far_loop
	TESTQ CX, CX
	JZ    loopcheck
	JMP   match_chunks

match_chunks_loop:
	MOVOU (BX), X0
	MOVOU X0, (DI)
	ADDQ  $16, BX
	ADDQ  $16, DI
	SUBQ  $16, CX
	CMPQ  CX, $16
	JAE   match_chunks_loop
	TESTQ CX, CX
	JZ    loopcheck

	// The last 16 bytes, ending where the match ends: their source is
	// all behind what the loop wrote.
	MOVOU -16(BX)(CX*1), X0
	MOVOU X0, -16(DI)(CX*1)
	ADDQ  CX, DI
	JMP   loopcheck

match_bytes:
	// CX > 0 bytes one by one.
	MOVB (BX), DX
	MOVB DX, (DI)
	INCQ BX
	INCQ DI
	DECQ CX
	JNZ  match_bytes
	JMP  loopcheck
