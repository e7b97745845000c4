/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * Protected control transfer in registers (Documentation/cpu.rst).
 *
 * long exo_call_raw(int fd, uint64_t cap, uint64_t w[6], unsigned int cmd,
 *		     uint64_t frame):
 * EXO_IOC_CALL, EXO_IOC_CALL_FRAME (the frame capability in rbx) or
 * EXO_IOC_SEND with the message in r10 r8 r9 r12 r13 r14; a call's reply
 * comes back in them and is stored in w[] (a send leaves them as they
 * were). Returns 0 or -errno.
 *
 * long exo_serve_loop(struct exo_server *s): make this thread a server of
 * s->entry. Its REPLY (with EXO_REPLY_WAIT, rbx 0: keep this stack)
 * resumes at exo_serve_entry with rax the caller's context id, rdx the
 * call's flags (EXO_CALL_SEND), rbx a frame granted with it (or 0) and the
 * message in the six registers, at the stack pointer it was issued with.
 * exo_serve_entry spills them into a struct exo_msg on the stack, calls
 * exo_serve_one(s, msg), loads the reply and replies with the next wait.
 * r15 holds s throughout: the kernel and C code both preserve it. A REPLY
 * that returns (an error) goes to exo_serve_error(s, err): 0 waits again,
 * anything else is the loop's result.
 */
#ifdef __x86_64__
#define SYS_IOCTL	16
#define EXO_IOC_REPLY	0x7841
#define S_FD		0	/* struct exo_server: int fd */
#define S_ARG		8	/* uint64_t reply_arg: entry | WAIT << 32 */

	.text
	.globl	exo_call_raw
	.type	exo_call_raw, @function
exo_call_raw:
	.cfi_startproc
	push	%rbx
	.cfi_adjust_cfa_offset 8
	push	%r12
	.cfi_adjust_cfa_offset 8
	push	%r13
	.cfi_adjust_cfa_offset 8
	push	%r14
	.cfi_adjust_cfa_offset 8
	push	%rdx			/* w */
	.cfi_adjust_cfa_offset 8
	mov	%rsi, %rax
	mov	%r8, %rbx		/* the frame, for EXO_IOC_CALL_FRAME */
	mov	0(%rdx), %r10
	mov	8(%rdx), %r8
	mov	16(%rdx), %r9
	mov	24(%rdx), %r12
	mov	32(%rdx), %r13
	mov	40(%rdx), %r14
	mov	%rax, %rdx		/* the capability */
	mov	%ecx, %esi		/* the command; rdi: fd already */
	mov	$SYS_IOCTL, %eax
	syscall
	pop	%rdx
	.cfi_adjust_cfa_offset -8
	test	%rax, %rax
	jnz	1f
	mov	%r10, 0(%rdx)
	mov	%r8, 8(%rdx)
	mov	%r9, 16(%rdx)
	mov	%r12, 24(%rdx)
	mov	%r13, 32(%rdx)
	mov	%r14, 40(%rdx)
1:	pop	%r14
	.cfi_adjust_cfa_offset -8
	pop	%r13
	.cfi_adjust_cfa_offset -8
	pop	%r12
	.cfi_adjust_cfa_offset -8
	pop	%rbx
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	exo_call_raw, .-exo_call_raw

	.globl	exo_serve_loop
	.type	exo_serve_loop, @function
exo_serve_loop:
	.cfi_startproc
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	sub	$8, %rsp		/* 16-byte aligned from here on */
	.cfi_adjust_cfa_offset 56
	mov	%rdi, %r15
	jmp	.Lwait

	.globl	exo_serve_entry
	.type	exo_serve_entry, @function
exo_serve_entry:
	sub	$64, %rsp		/* struct exo_msg */
	mov	%r10, 0(%rsp)
	mov	%r8, 8(%rsp)
	mov	%r9, 16(%rsp)
	mov	%r12, 24(%rsp)
	mov	%r13, 32(%rsp)
	mov	%r14, 40(%rsp)
	mov	%eax, 48(%rsp)		/* caller */
	mov	%edx, 52(%rsp)		/* flags: EXO_CALL_SEND */
	mov	%rbx, 56(%rsp)		/* frame */
	mov	%r15, %rdi
	mov	%rsp, %rsi
	call	exo_serve_one
	mov	0(%rsp), %r10
	mov	8(%rsp), %r8
	mov	16(%rsp), %r9
	mov	24(%rsp), %r12
	mov	32(%rsp), %r13
	mov	40(%rsp), %r14
	add	$64, %rsp
.Lwait:
	mov	S_FD(%r15), %edi
	mov	$EXO_IOC_REPLY, %esi
	mov	S_ARG(%r15), %rdx
	xor	%ebx, %ebx
	mov	$SYS_IOCTL, %eax
	syscall
	/* Only errors come back here. */
	mov	%r15, %rdi
	mov	%rax, %rsi
	call	exo_serve_error
	test	%rax, %rax
	jz	.Lwait
	add	$8, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	.cfi_adjust_cfa_offset -56
	ret
	.cfi_endproc
	.size	exo_serve_loop, .-exo_serve_loop
#endif
	.section .note.GNU-stack, "", @progbits
