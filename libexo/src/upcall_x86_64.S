/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * exo_upcall_entry: where the module sends a thread that faulted in an exo
 * VMA in EXO_FAULT_MODE_UPCALL. On entry %rsp and %rdi point at a struct
 * exo_upcall_frame that ends 128 bytes (the red zone) below the interrupted
 * stack pointer with rflags and rip last; every other register still holds
 * the interrupted value except %rdi, which the frame keeps.
 *
 * Save the extended state (the handler's C code and libc may use SSE/AVX),
 * call exo_upcall_dispatch(frame), restore everything from the frame and
 * return to the interrupted code: popfq takes the flags, and "ret $128"
 * takes rip and then drops the red zone, leaving %rsp exactly as it was.
 * No signal frame and no sigreturn.
 */
#ifdef __x86_64__
#define FRAME_R15	24
#define FRAME_R14	32
#define FRAME_R13	40
#define FRAME_R12	48
#define FRAME_R11	56
#define FRAME_R10	64
#define FRAME_R9	72
#define FRAME_R8	80
#define FRAME_RDI	88
#define FRAME_RSI	96
#define FRAME_RBP	104
#define FRAME_RBX	112
#define FRAME_RDX	120
#define FRAME_RCX	128
#define FRAME_RAX	136
#define FRAME_RFLAGS	152

	.text
	.globl	exo_upcall_entry
	.hidden	exo_upcall_entry
	.type	exo_upcall_entry, @function
	.p2align 4
exo_upcall_entry:
	.cfi_startproc
	.cfi_undefined rip
	mov	%rsp, %rbx			/* the frame; rbx is in it */
	mov	exo_upcall_xsave_size(%rip), %rcx
	sub	%rcx, %rsp
	and	$-64, %rsp
	/* XRSTOR wants header bytes 8..63 zero; XSAVE leaves them. */
	xor	%eax, %eax
	mov	%rax, 512(%rsp)
	mov	%rax, 520(%rsp)
	mov	%rax, 528(%rsp)
	mov	%rax, 536(%rsp)
	mov	%rax, 544(%rsp)
	mov	%rax, 552(%rsp)
	mov	%rax, 560(%rsp)
	mov	%rax, 568(%rsp)
	mov	$-1, %eax
	mov	$-1, %edx
	xsave64	(%rsp)
	cld					/* the C ABI's direction flag */
	mov	%rbx, %rdi
	call	exo_upcall_dispatch
	mov	$-1, %eax
	mov	$-1, %edx
	xrstor64 (%rsp)
	mov	%rbx, %rsp
	mov	FRAME_R15(%rsp), %r15
	mov	FRAME_R14(%rsp), %r14
	mov	FRAME_R13(%rsp), %r13
	mov	FRAME_R12(%rsp), %r12
	mov	FRAME_R11(%rsp), %r11
	mov	FRAME_R10(%rsp), %r10
	mov	FRAME_R9(%rsp), %r9
	mov	FRAME_R8(%rsp), %r8
	mov	FRAME_RDI(%rsp), %rdi
	mov	FRAME_RSI(%rsp), %rsi
	mov	FRAME_RBP(%rsp), %rbp
	mov	FRAME_RBX(%rsp), %rbx
	mov	FRAME_RDX(%rsp), %rdx
	mov	FRAME_RCX(%rsp), %rcx
	mov	FRAME_RAX(%rsp), %rax
	add	$FRAME_RFLAGS, %rsp		/* flags are restored next */
	popfq
	ret	$128
	.cfi_endproc
	.size	exo_upcall_entry, . - exo_upcall_entry
#endif

	.section .note.GNU-stack, "", @progbits
