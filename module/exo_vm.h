/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exo VMAs and the commands that bind, unbind, protect, query and clean
 * their pages (exo_vm.c). The bindings' state is in exo_bind.h.
 */
#ifndef _EXO_VM_H
#define _EXO_VM_H

struct exo_ctx;
struct exo_ucmd;
struct vm_area_struct;

int exo_vm_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma);

int exo_vm_cmd_map(struct exo_ucmd *ucmd);
int exo_vm_cmd_unmap(struct exo_ucmd *ucmd);
int exo_vm_cmd_protect(struct exo_ucmd *ucmd);
int exo_vm_cmd_query(struct exo_ucmd *ucmd);
int exo_vm_cmd_dirty(struct exo_ucmd *ucmd);
void exo_vm_cmd_dirty_undo(struct exo_ucmd *ucmd);

#endif /* _EXO_VM_H */
