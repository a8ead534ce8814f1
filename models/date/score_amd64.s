#include "textflag.h"

// The three DATE scoring kernels of score_amd64.go (scores, softmax,
// attended vectors), AVX-512, for sixteen rows at a time, one tree after
// another, each row's arithmetic in the order of forwardScoreRows's Go loops
// and with no fused multiply-add (a product is rounded, then added), so the
// results are the same bits. idx[t*16+r] is
// row r's leaf in tree t times 32: the offset, in floats, of its 32 values
// in proj (the projection, then the embedding).

DATA zero<>+0(SB)/4, $0
GLOBL zero<>(SB), RODATA|NOPTR, $4

// TERMS leaves in zr the terms relu(qb[r][o] + proj[l][o]) * attH[o] of row
// r's score, o in the lanes. VMAXPS against 0 is Go's relu: x when x > 0,
// else +0 (NaN included).
#define TERMS(r, zr) \
	MOVL (r*4)(BX), R10; \
	VMOVUPS (SI)(R10*4), zr; \
	VADDPS (r*64)(AX), zr, zr; \
	VMAXPS.BCST zero<>(SB), zr, zr; \
	VMULPS (DX), zr, zr

// func scoreKernel(proj *float32, idx *int32, qb, attH, lv, sc, margin, top *float32, trees int)
TEXT ·scoreKernel(SB), NOSPLIT, $0-72
	MOVQ proj+0(FP), SI
	MOVQ idx+8(FP), BX
	MOVQ qb+16(FP), AX
	MOVQ attH+24(FP), DX
	MOVQ lv+32(FP), R8
	MOVQ sc+40(FP), DI
	MOVQ margin+48(FP), R9
	MOVQ top+56(FP), R11
	MOVQ trees+64(FP), CX
	VPXORD Z16, Z16, Z16
	VMOVUPS Z16, (R9)
	MOVL $0xff800000, R10
	VPBROADCASTD R10, Z17
	VMOVUPS Z17, (R11)
	TESTQ CX, CX
	JLE sdone
sloop:
	TERMS(0, Z0)
	TERMS(1, Z1)
	TERMS(2, Z2)
	TERMS(3, Z3)
	TERMS(4, Z4)
	TERMS(5, Z5)
	TERMS(6, Z6)
	TERMS(7, Z7)
	TERMS(8, Z8)
	TERMS(9, Z9)
	TERMS(10, Z10)
	TERMS(11, Z11)
	TERMS(12, Z12)
	TERMS(13, Z13)
	TERMS(14, Z14)
	TERMS(15, Z15)
	// transpose (32-bit, then 64-bit unpacks, then two 128-bit shuffles):
	// register o then holds term o of the sixteen rows
	VUNPCKLPS Z1, Z0, Z16
	VUNPCKHPS Z1, Z0, Z17
	VUNPCKLPS Z3, Z2, Z18
	VUNPCKHPS Z3, Z2, Z19
	VUNPCKLPS Z5, Z4, Z20
	VUNPCKHPS Z5, Z4, Z21
	VUNPCKLPS Z7, Z6, Z22
	VUNPCKHPS Z7, Z6, Z23
	VUNPCKLPS Z9, Z8, Z24
	VUNPCKHPS Z9, Z8, Z25
	VUNPCKLPS Z11, Z10, Z26
	VUNPCKHPS Z11, Z10, Z27
	VUNPCKLPS Z13, Z12, Z28
	VUNPCKHPS Z13, Z12, Z29
	VUNPCKLPS Z15, Z14, Z30
	VUNPCKHPS Z15, Z14, Z31
	VUNPCKLPD Z18, Z16, Z0
	VUNPCKHPD Z18, Z16, Z1
	VUNPCKLPD Z19, Z17, Z2
	VUNPCKHPD Z19, Z17, Z3
	VUNPCKLPD Z22, Z20, Z4
	VUNPCKHPD Z22, Z20, Z5
	VUNPCKLPD Z23, Z21, Z6
	VUNPCKHPD Z23, Z21, Z7
	VUNPCKLPD Z26, Z24, Z8
	VUNPCKHPD Z26, Z24, Z9
	VUNPCKLPD Z27, Z25, Z10
	VUNPCKHPD Z27, Z25, Z11
	VUNPCKLPD Z30, Z28, Z12
	VUNPCKHPD Z30, Z28, Z13
	VUNPCKLPD Z31, Z29, Z14
	VUNPCKHPD Z31, Z29, Z15
	VSHUFF32X4 $0x88, Z4, Z0, Z16
	VSHUFF32X4 $0x88, Z5, Z1, Z17
	VSHUFF32X4 $0x88, Z6, Z2, Z18
	VSHUFF32X4 $0x88, Z7, Z3, Z19
	VSHUFF32X4 $0xdd, Z4, Z0, Z20
	VSHUFF32X4 $0xdd, Z5, Z1, Z21
	VSHUFF32X4 $0xdd, Z6, Z2, Z22
	VSHUFF32X4 $0xdd, Z7, Z3, Z23
	VSHUFF32X4 $0x88, Z12, Z8, Z24
	VSHUFF32X4 $0x88, Z13, Z9, Z25
	VSHUFF32X4 $0x88, Z14, Z10, Z26
	VSHUFF32X4 $0x88, Z15, Z11, Z27
	VSHUFF32X4 $0xdd, Z12, Z8, Z28
	VSHUFF32X4 $0xdd, Z13, Z9, Z29
	VSHUFF32X4 $0xdd, Z14, Z10, Z30
	VSHUFF32X4 $0xdd, Z15, Z11, Z31
	VSHUFF32X4 $0x88, Z24, Z16, Z0
	VSHUFF32X4 $0x88, Z25, Z17, Z1
	VSHUFF32X4 $0x88, Z26, Z18, Z2
	VSHUFF32X4 $0x88, Z27, Z19, Z3
	VSHUFF32X4 $0x88, Z28, Z20, Z4
	VSHUFF32X4 $0x88, Z29, Z21, Z5
	VSHUFF32X4 $0x88, Z30, Z22, Z6
	VSHUFF32X4 $0x88, Z31, Z23, Z7
	VSHUFF32X4 $0xdd, Z24, Z16, Z8
	VSHUFF32X4 $0xdd, Z25, Z17, Z9
	VSHUFF32X4 $0xdd, Z26, Z18, Z10
	VSHUFF32X4 $0xdd, Z27, Z19, Z11
	VSHUFF32X4 $0xdd, Z28, Z20, Z12
	VSHUFF32X4 $0xdd, Z29, Z21, Z13
	VSHUFF32X4 $0xdd, Z30, Z22, Z14
	VSHUFF32X4 $0xdd, Z31, Z23, Z15
	// each row's terms summed in order, from 0
	VPXORD Z16, Z16, Z16
	VADDPS Z0, Z16, Z16
	VADDPS Z1, Z16, Z16
	VADDPS Z2, Z16, Z16
	VADDPS Z3, Z16, Z16
	VADDPS Z4, Z16, Z16
	VADDPS Z5, Z16, Z16
	VADDPS Z6, Z16, Z16
	VADDPS Z7, Z16, Z16
	VADDPS Z8, Z16, Z16
	VADDPS Z9, Z16, Z16
	VADDPS Z10, Z16, Z16
	VADDPS Z11, Z16, Z16
	VADDPS Z12, Z16, Z16
	VADDPS Z13, Z16, Z16
	VADDPS Z14, Z16, Z16
	VADDPS Z15, Z16, Z16
	VMOVUPS Z16, (DI)
	VMAXPS (R11), Z16, Z17
	VMOVUPS Z17, (R11)
	TESTQ R8, R8
	JEQ snext
	VMOVDQU32 (BX), Z17
	VPSRLD $5, Z17, Z17
	KXNORW K1, K1, K1
	VPXORD Z18, Z18, Z18
	VGATHERDPS (R8)(Z17*4), K1, Z18
	VMOVUPS (R9), Z19
	VADDPS Z18, Z19, Z19
	VMOVUPS Z19, (R9)
snext:
	ADDQ $64, BX
	ADDQ $64, DI
	DECQ CX
	JNZ sloop
sdone:
	VZEROUPPER
	RET

// ATTEND adds w[t][r] * proj[l][16:32] to row r's attended vector, in zr:
// lanes are the vector's elements, each summed over the trees in order.
#define ATTEND(r, zr, g) \
	MOVL (r*4)(BX), R10; \
	VMOVUPS 64(SI)(R10*4), g; \
	VMULPS.BCST (r*4)(DX), g, g; \
	VADDPS g, zr, zr

// func attendKernel(proj *float32, idx *int32, w *float32, s *float32, trees int)
TEXT ·attendKernel(SB), NOSPLIT, $0-40
	MOVQ proj+0(FP), SI
	MOVQ idx+8(FP), BX
	MOVQ w+16(FP), DX
	MOVQ s+24(FP), DI
	MOVQ trees+32(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	TESTQ CX, CX
	JLE adone
aloop:
	ATTEND(0, Z0, Z16)
	ATTEND(1, Z1, Z17)
	ATTEND(2, Z2, Z18)
	ATTEND(3, Z3, Z19)
	ATTEND(4, Z4, Z20)
	ATTEND(5, Z5, Z21)
	ATTEND(6, Z6, Z22)
	ATTEND(7, Z7, Z23)
	ATTEND(8, Z8, Z24)
	ATTEND(9, Z9, Z25)
	ATTEND(10, Z10, Z26)
	ATTEND(11, Z11, Z27)
	ATTEND(12, Z12, Z28)
	ATTEND(13, Z13, Z29)
	ATTEND(14, Z14, Z30)
	ATTEND(15, Z15, Z31)
	ADDQ $64, BX
	ADDQ $64, DX
	DECQ CX
	JNZ aloop
adone:
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	VZEROUPPER
	RET

// The constants of math.Exp's assembly (math/exp_amd64.s, the FMA path),
// whose every step EXP repeats on eight lanes.
DATA expc<>+0(SB)/8, $1.4426950408889634073599246810018920
DATA expc<>+8(SB)/8, $0.69314718055966295651160180568695068359375
DATA expc<>+16(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
DATA expc<>+24(SB)/8, $0.0625
DATA expc<>+32(SB)/8, $0.5
DATA expc<>+40(SB)/8, $1.0
DATA expc<>+48(SB)/8, $2.0
DATA expc<>+56(SB)/8, $1.6666666666666666667e-1
DATA expc<>+64(SB)/8, $4.1666666666666666667e-2
DATA expc<>+72(SB)/8, $8.3333333333333333333e-3
DATA expc<>+80(SB)/8, $1.3888888888888888889e-3
DATA expc<>+88(SB)/8, $1.9841269841269841270e-4
DATA expc<>+96(SB)/8, $2.4801587301587301587e-5
DATA expc<>+104(SB)/8, $-700.0
DATA expc<>+112(SB)/8, $700.0
GLOBL expc<>(SB), RODATA|NOPTR, $120
DATA bias<>+0(SB)/8, $1023
GLOBL bias<>(SB), RODATA|NOPTR, $8
DATA one32<>+0(SB)/4, $1.0
GLOBL one32<>(SB), RODATA|NOPTR, $4

// EXP replaces the eight float64 lanes of x by math.Exp of each, bit for bit
// as math.Exp's FMA path computes it, for lanes in [-700, 700] (no overflow,
// no denormal result; softmaxKernel checks). k and s are scratch.
#define EXP(x, p, k, s, yk) \
	VMULPD.BCST expc<>+0(SB), x, k \
	VCVTPD2DQ k, yk \
	VCVTDQ2PD yk, k \
	VFNMADD231PD.BCST expc<>+8(SB), k, x \
	VFNMADD231PD.BCST expc<>+16(SB), k, x \
	VMULPD.BCST expc<>+24(SB), x, x \
	VBROADCASTSD expc<>+96(SB), p \
	VFMADD213PD.BCST expc<>+88(SB), x, p \
	VFMADD213PD.BCST expc<>+80(SB), x, p \
	VFMADD213PD.BCST expc<>+72(SB), x, p \
	VFMADD213PD.BCST expc<>+64(SB), x, p \
	VFMADD213PD.BCST expc<>+56(SB), x, p \
	VFMADD213PD.BCST expc<>+32(SB), x, p \
	VFMADD213PD.BCST expc<>+40(SB), x, p \
	VMULPD p, x, x \
	VADDPD.BCST expc<>+48(SB), x, p \
	VMULPD p, x, x \
	VADDPD.BCST expc<>+48(SB), x, p \
	VMULPD p, x, x \
	VADDPD.BCST expc<>+48(SB), x, p \
	VMULPD p, x, x \
	VADDPD.BCST expc<>+48(SB), x, p \
	VFMADD213PD.BCST expc<>+40(SB), p, x \
	VPMOVSXDQ yk, s \
	VPADDQ.BCST bias<>(SB), s, s \
	VPSLLQ $52, s, s \
	VMULPD s, x, x

// func softmaxKernel(sc, top *float32, trees int) bool
TEXT ·softmaxKernel(SB), NOSPLIT, $0-25
	MOVQ sc+0(FP), SI
	MOVQ top+8(FP), DX
	MOVQ trees+16(FP), CX
	VMOVUPS (DX), Z31
	VBROADCASTSD expc<>+104(SB), Z29
	VBROADCASTSD expc<>+112(SB), Z28
	// every x = score - top within [-700, 700], or nothing is written
	MOVQ SI, DI
	MOVQ CX, BX
	TESTQ BX, BX
	JLE fail
check:
	VMOVUPS (DI), Z0
	VSUBPS Z31, Z0, Z0
	VCVTPS2PD Y0, Z1
	VEXTRACTF64X4 $1, Z0, Y2
	VCVTPS2PD Y2, Z2
	VCMPPD $0x1d, Z29, Z1, K1
	VCMPPD $0x12, Z28, Z1, K1, K1
	VCMPPD $0x1d, Z29, Z2, K2
	VCMPPD $0x12, Z28, Z2, K2, K2
	KMOVW K1, AX
	KMOVW K2, R8
	ANDL R8, AX
	CMPL AX, $0xff
	JNE fail
	ADDQ $64, DI
	DECQ BX
	JNZ check
	// the exponentials and their sum, tree by tree, from 0
	VPXORD Z30, Z30, Z30
	MOVQ SI, DI
	MOVQ CX, BX
expl:
	VMOVUPS (DI), Z0
	VSUBPS Z31, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y2
	VCVTPS2PD Y0, Z1
	VCVTPS2PD Y2, Z2
	EXP(Z1, Z3, Z4, Z5, Y6)
	EXP(Z2, Z7, Z8, Z9, Y10)
	VCVTPD2PS Z1, Y1
	VCVTPD2PS Z2, Y2
	VINSERTF64X4 $1, Y2, Z1, Z1
	VMOVUPS Z1, (DI)
	VADDPS Z1, Z30, Z30
	ADDQ $64, DI
	DECQ BX
	JNZ expl
	// times 1/sum
	VBROADCASTSS one32<>(SB), Z0
	VDIVPS Z30, Z0, Z30
	MOVQ SI, DI
	MOVQ CX, BX
norm:
	VMULPS (DI), Z30, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, DI
	DECQ BX
	JNZ norm
	MOVB $1, ret+24(FP)
	VZEROUPPER
	RET
fail:
	MOVB $0, ret+24(FP)
	VZEROUPPER
	RET
