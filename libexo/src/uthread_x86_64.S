/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * The uthread context switch (uthread.c).
 *
 * void lx_uthread_switch(void **save_sp, void *load_sp)
 *	Push what the C ABI says a callee keeps (rbx, rbp, r12-r15, the x87
 *	control word and MXCSR's control bits), store %rsp in *save_sp, load
 *	load_sp and pop the same from there. Every other register is the
 *	caller's to lose across a call, so nothing else needs saving.
 *
 * lx_uthread_trampoline
 *	Where a new uthread's first switch "returns" to: uthread.c builds a
 *	stack that pops into it with the uthread in %rbx. It calls
 *	lx_uthread_start(t) on an aligned stack; that never returns.
 */
#ifdef __x86_64__
	.text
	.globl	lx_uthread_switch
	.hidden	lx_uthread_switch
	.type	lx_uthread_switch, @function
	.p2align 4
lx_uthread_switch:
	.cfi_startproc
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	sub	$16, %rsp
	fnstcw	(%rsp)
	stmxcsr	8(%rsp)
	mov	%rsp, (%rdi)
	mov	%rsi, %rsp
	fldcw	(%rsp)
	ldmxcsr	8(%rsp)
	add	$16, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret
	.cfi_endproc
	.size	lx_uthread_switch, . - lx_uthread_switch

	.globl	lx_uthread_trampoline
	.hidden	lx_uthread_trampoline
	.type	lx_uthread_trampoline, @function
	.p2align 4
lx_uthread_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	xor	%ebp, %ebp
	mov	%rbx, %rdi
	and	$-16, %rsp
	call	lx_uthread_start
	ud2
	.cfi_endproc
	.size	lx_uthread_trampoline, . - lx_uthread_trampoline
#endif

	.section .note.GNU-stack, "", @progbits
