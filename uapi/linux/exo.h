/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * exo: exokernel-style resource management for Linux, user-space API.
 *
 * Every ioctl of /dev/exo takes one of the structs below. Each struct starts
 * with @size (the caller's sizeof) and @flags; the kernel accepts a smaller
 * struct down to the documented minimum and a larger one whose extra bytes
 * are zero, so old binaries and new kernels interoperate. The errno table is
 * in Documentation/uapi.rst.
 */
#ifndef _UAPI_LINUX_EXO_H
#define _UAPI_LINUX_EXO_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define EXO_API_VERSION		1
#define EXO_IOC_TYPE		'x'

/**
 * enum exo_cmd - ioctl command numbers, in the order they were added.
 * @EXO_CMD_BASE: first command number; bit (cmd - EXO_CMD_BASE) of
 *	&exo_api.ioctls says the command is supported.
 * @EXO_CMD_API: handshake, &struct exo_api.
 * @EXO_CMD_CTX_INFO: context counters, &struct exo_ctx_info.
 * @EXO_CMD_FRAME_ALLOC: allocate frames, &struct exo_frame_alloc.
 * @EXO_CMD_FRAME_FREE: free frames, &struct exo_frame_free.
 * @EXO_CMD_LAST: one past the last command.
 */
enum exo_cmd {
	EXO_CMD_BASE = 0x80,
	EXO_CMD_API = EXO_CMD_BASE,
	EXO_CMD_CTX_INFO,
	EXO_CMD_FRAME_ALLOC,
	EXO_CMD_FRAME_FREE,
	EXO_CMD_LAST,
};

/* Sizes travel in the struct, not the ioctl number (as iommufd does). */
#define EXO_IOC_API		_IO(EXO_IOC_TYPE, EXO_CMD_API)
#define EXO_IOC_CTX_INFO	_IO(EXO_IOC_TYPE, EXO_CMD_CTX_INFO)
#define EXO_IOC_FRAME_ALLOC	_IO(EXO_IOC_TYPE, EXO_CMD_FRAME_ALLOC)
#define EXO_IOC_FRAME_FREE	_IO(EXO_IOC_TYPE, EXO_CMD_FRAME_FREE)

/**
 * enum exo_feature - bits of &exo_api.features.
 * @EXO_FEAT_FRAMES: frame allocation (ANY) and free.
 * @EXO_FEAT_FRAME_PFN: allocation of a named frame by PFN.
 * @EXO_FEAT_FRAME_COLOUR: allocation by cache colour.
 * @EXO_FEAT_FRAME_CONTIG: allocation of contiguous runs of 2^order frames.
 * @EXO_FEAT_FTABLE: read-only frame table at mmap offset %EXO_MMAP_FTABLE.
 * @EXO_FEAT_MEMCG: ANY, COLOUR and CONTIG frames are charged to the
 *	caller's memory cgroup.
 */
enum exo_feature {
	EXO_FEAT_FRAMES = 1 << 0,
	EXO_FEAT_FRAME_PFN = 1 << 1,
	EXO_FEAT_FRAME_COLOUR = 1 << 2,
	EXO_FEAT_FRAME_CONTIG = 1 << 3,
	EXO_FEAT_FTABLE = 1 << 4,
	EXO_FEAT_MEMCG = 1 << 5,
};

/**
 * struct exo_api - handshake: what this module speaks (%EXO_IOC_API).
 * @size: sizeof(struct exo_api) as the caller knows it.
 * @flags: must be 0.
 * @api: in: the API version the caller speaks (%EXO_API_VERSION);
 *	out: the version the module speaks.
 * @__reserved: must be 0.
 * @features: out: &enum exo_feature bits the module supports.
 * @ioctls: out: bit (cmd - %EXO_CMD_BASE) set for each supported command.
 * @page_size: out: bytes in one frame.
 * @nr_colours: out: number of cache colours; a frame's colour is
 *	pfn % nr_colours.
 * @max_order: out: largest order accepted by %EXO_ALLOC_CONTIG.
 * @frame_quota: out: frames this context may hold at once.
 * @ctx_id: out: this context's id, unique while the module is loaded.
 * @ftable_entries: out: entries in the frame table, including the unused
 *	entry 0; also the most capabilities this context may hold at once,
 *	plus one.
 * @ftable_size: out: bytes to mmap at %EXO_MMAP_FTABLE.
 * @pool_pfn: out: first frame of exo's own region, the frames exo keeps
 *	for allocation by name (%EXO_ALLOC_PFN always finds these when no
 *	context holds them).
 * @pool_frames: out: frames in that region; 0 if there is none.
 * @__reserved2: must be 0.
 */
struct exo_api {
	__u32 size;
	__u32 flags;
	__u32 api;
	__u32 __reserved;
	__aligned_u64 features;
	__aligned_u64 ioctls;
	__u32 page_size;
	__u32 nr_colours;
	__u32 max_order;
	__u32 frame_quota;
	__u32 ctx_id;
	__u32 ftable_entries;
	__aligned_u64 ftable_size;
	__aligned_u64 pool_pfn;
	__u32 pool_frames;
	__u32 __reserved2;
};

/**
 * struct exo_ctx_info - counters of the calling context (%EXO_IOC_CTX_INFO).
 * @size: sizeof(struct exo_ctx_info) as the caller knows it.
 * @flags: must be 0.
 * @ctx_id: out: this context's id.
 * @frame_quota: out: frames this context may hold at once.
 * @frames: out: frames held now.
 * @caps: out: live capabilities held now.
 * @allocs: out: successful allocations since open.
 * @frees: out: successful frees since open.
 */
struct exo_ctx_info {
	__u32 size;
	__u32 flags;
	__u32 ctx_id;
	__u32 frame_quota;
	__aligned_u64 frames;
	__aligned_u64 caps;
	__aligned_u64 allocs;
	__aligned_u64 frees;
};

/**
 * enum exo_alloc_how - what &exo_frame_alloc.how asks for.
 * @EXO_ALLOC_ANY: any one frame.
 * @EXO_ALLOC_PFN: exactly the frame &exo_frame_alloc.pfn names.
 * @EXO_ALLOC_COLOUR: one frame whose colour is &exo_frame_alloc.colour.
 * @EXO_ALLOC_CONTIG: 2^&exo_frame_alloc.order physically contiguous
 *	frames, the first aligned to its size.
 */
enum exo_alloc_how {
	EXO_ALLOC_ANY = 0,
	EXO_ALLOC_PFN = 1,
	EXO_ALLOC_COLOUR = 2,
	EXO_ALLOC_CONTIG = 3,
};

/**
 * struct exo_frame_alloc - allocate frames (%EXO_IOC_FRAME_ALLOC).
 * @size: sizeof(struct exo_frame_alloc) as the caller knows it.
 * @flags: must be 0.
 * @how: in: an &enum exo_alloc_how.
 * @order: in: log2 of the frames wanted for %EXO_ALLOC_CONTIG, at most
 *	&exo_api.max_order; must be 0 otherwise. out: the order allocated.
 * @pfn: in: the frame wanted for %EXO_ALLOC_PFN; must be 0 otherwise.
 *	out: the first frame allocated.
 * @colour: in: the colour wanted for %EXO_ALLOC_COLOUR, below
 *	&exo_api.nr_colours; must be 0 otherwise. out: the first frame's colour.
 * @__reserved: must be 0.
 * @cap: out: the capability naming these frames in this context. Its low
 *	32 bits are the frame-table index (EXO_CAP_INDEX()), its high 32 bits a
 *	generation that changes every time the index is reused.
 *
 * Frames come zeroed. A named frame is given only if exo can own that exact
 * frame: EBUSY if another context or the kernel holds it. Frames of exo's
 * region (&exo_api.pool_pfn) are always given when no context holds them;
 * other frames only when Linux can give them up (alloc_contig_range()).
 */
struct exo_frame_alloc {
	__u32 size;
	__u32 flags;
	__u32 how;
	__u32 order;
	__aligned_u64 pfn;
	__u32 colour;
	__u32 __reserved;
	__aligned_u64 cap;
};

/**
 * struct exo_frame_free - give frames back (%EXO_IOC_FRAME_FREE).
 * @size: sizeof(struct exo_frame_free) as the caller knows it.
 * @flags: must be 0.
 * @cap: in: the capability &struct exo_frame_alloc returned; all frames it
 *	names are freed and the capability becomes stale.
 */
struct exo_frame_free {
	__u32 size;
	__u32 flags;
	__aligned_u64 cap;
};

#define EXO_CAP_INDEX(cap)	((__u32)((cap) & 0xffffffffu))
#define EXO_CAP_GEN(cap)	((__u32)((cap) >> 32))

/* mmap offsets of /dev/exo. */
#define EXO_MMAP_FTABLE		0ULL

#define EXO_FTABLE_MAGIC	0x464f5845u	/* "EXOF" in little-endian bytes */
#define EXO_FTABLE_VERSION	1

/**
 * struct exo_ftable_header - first bytes of the read-only frame table.
 * @magic: %EXO_FTABLE_MAGIC.
 * @version: %EXO_FTABLE_VERSION.
 * @ctx_id: the context that owns every entry in %EXO_FRAME_OWNED state.
 * @nr_entries: entries that follow, including the unused entry 0.
 * @entry_size: sizeof(struct exo_ftable_entry) as the module knows it.
 * @entries_offset: byte offset of entry 0 from the start of the mapping.
 * @frames: frames the context holds now.
 * @__reserved: zero.
 */
struct exo_ftable_header {
	__u32 magic;
	__u32 version;
	__u32 ctx_id;
	__u32 nr_entries;
	__u32 entry_size;
	__u32 entries_offset;
	__aligned_u64 frames;
	__aligned_u64 __reserved[4];
};

/**
 * enum exo_frame_state - &exo_ftable_entry.state.
 * @EXO_FRAME_FREE: the entry names nothing.
 * @EXO_FRAME_OWNED: the context owns the frames the entry describes.
 */
enum exo_frame_state {
	EXO_FRAME_FREE = 0,
	EXO_FRAME_OWNED = 1,
};

/**
 * struct exo_ftable_entry - one capability's frames, at index EXO_CAP_INDEX().
 * @seq: odd while the module updates the entry; readers retry when it is
 *	odd or changed across their read (a seqcount).
 * @gen: generation of the capability that uses this index.
 * @pfn: first frame.
 * @owner: context id of the owner (the table's context when owned).
 * @state: an &enum exo_frame_state.
 * @order: the entry covers 2^order frames from @pfn.
 * @how: the &enum exo_alloc_how that allocated it.
 * @__pad: zero.
 * @colour: colour of @pfn.
 * @__reserved: zero.
 */
struct exo_ftable_entry {
	__u32 seq;
	__u32 gen;
	__aligned_u64 pfn;
	__u32 owner;
	__u8 state;
	__u8 order;
	__u8 how;
	__u8 __pad;
	__u32 colour;
	__u32 __reserved;
};

#endif /* _UAPI_LINUX_EXO_H */
