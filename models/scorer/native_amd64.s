#include "textflag.h"

// STEP moves the row whose node offset is in register a (its value at
// byte g of the group) one step down: a = second, less 16 when
// v < value (UCOMISS sets "above" only for ordered operands, so NaN takes
// the second child), as step in native.go.
#define STEP(a, g) \
	MOVL 4(SI)(a*1), R13; \
	MOVSS g(DI)(R13*1), X0; \
	MOVSS 0(SI)(a*1), X1; \
	MOVL 8(SI)(a*1), a; \
	LEAL -16(a), R13; \
	UCOMISS X0, X1; \
	CMOVLHI R13, a

// func walkGroup(np, rows unsafe.Pointer, depth int, at *[8]uint32)
TEXT ·walkGroup(SB), NOSPLIT, $0-32
	MOVQ np+0(FP), SI
	MOVQ rows+8(FP), DI
	MOVQ depth+16(FP), CX
	XORL AX, AX
	XORL BX, BX
	XORL DX, DX
	XORL R8, R8
	XORL R9, R9
	XORL R10, R10
	XORL R11, R11
	XORL R12, R12
	TESTQ CX, CX
	JLE done

loop:
	STEP(AX, 0)
	STEP(BX, 4)
	STEP(DX, 8)
	STEP(R8, 12)
	STEP(R9, 16)
	STEP(R10, 20)
	STEP(R11, 24)
	STEP(R12, 28)
	DECQ CX
	JNZ loop

done:
	MOVQ at+24(FP), R13
	MOVL AX, 0(R13)
	MOVL BX, 4(R13)
	MOVL DX, 8(R13)
	MOVL R8, 12(R13)
	MOVL R9, 16(R13)
	MOVL R10, 20(R13)
	MOVL R11, 24(R13)
	MOVL R12, 28(R13)
	RET

// ADDLEAF adds the value of the node at offset a (a leaf, once the walk is
// done) to the float32 at byte g of the group's sums (in R13), as
// s[g] += value in walkSumGo.
#define ADDLEAF(a, g) \
	MOVSS g(R13), X0; \
	ADDSS 0(SI)(a*1), X0; \
	MOVSS X0, g(R13)

// func walkSum(np, rows unsafe.Pointer, depth int, sums unsafe.Pointer, groups int)
//
// walkSum walks groups groups of eight rows one after the other down one
// tree (rows and sums advance by a group each time) and adds the value of
// the leaf each row reaches to its sum: walkGroup and the addition of
// forest.walk in one call, the positions never leaving registers.
TEXT ·walkSum(SB), NOSPLIT, $0-40
	MOVQ np+0(FP), SI
	MOVQ rows+8(FP), DI
	MOVQ groups+32(FP), R13
	TESTQ R13, R13
	JLE end

group:
	MOVQ depth+16(FP), CX
	XORL AX, AX
	XORL BX, BX
	XORL DX, DX
	XORL R8, R8
	XORL R9, R9
	XORL R10, R10
	XORL R11, R11
	XORL R12, R12
	TESTQ CX, CX
	JLE add

walk:
	STEP(AX, 0)
	STEP(BX, 4)
	STEP(DX, 8)
	STEP(R8, 12)
	STEP(R9, 16)
	STEP(R10, 20)
	STEP(R11, 24)
	STEP(R12, 28)
	DECQ CX
	JNZ walk

add:
	MOVQ sums+24(FP), R13
	ADDLEAF(AX, 0)
	ADDLEAF(BX, 4)
	ADDLEAF(DX, 8)
	ADDLEAF(R8, 12)
	ADDLEAF(R9, 16)
	ADDLEAF(R10, 20)
	ADDLEAF(R11, 24)
	ADDLEAF(R12, 28)
	ADDQ $32, R13
	MOVQ R13, sums+24(FP)
	ADDQ $32, DI
	DECQ groups+32(FP)
	JNZ group

end:
	RET
