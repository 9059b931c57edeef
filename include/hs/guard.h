/* The RST guard: an nft table of hs's own that drops the peer's segments for exactly
 * one 4-tuple (or one listening port) at the input hook, so the local kernel, which
 * owns no socket for them, never answers with RST. libpcap sees them first.
 *
 * Tables are named "hs_<pid>_<n>" so stale ones can be found: a table whose pid is
 * gone and that no kept connection names is stale. A kept connection's guard is
 * renamed "hs_kept_<pid>_<n>" when it is kept: such a table is never stale, whatever
 * store names it (or none); only the connection's fin or rst removes it. */
#ifndef HS_GUARD_H
#define HS_GUARD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hs/addr.h"

#define HS_GUARD_NAMELEN 48
/* The socket mark (SO_MARK) of hs's own raw socket: a kept port's reservation rule
 * refuses a local connect()'s SYN, not one that hs crafts (hs send --flags S). */
#define HS_GUARD_OWN_MARK 0x68730001u
#define HS_GUARD_KEPT_INFIX "kept_"

typedef struct hs_guard {
	char table[HS_GUARD_NAMELEN]; /* empty when not installed */
} hs_guard;

/* Drop remote -> local TCP of this 4-tuple. Returns 0, or -1 with err (eperm when
 * the cause is privilege). */
int hs_guard_install_conn(hs_guard *g, const hs_endpoint *local, const hs_endpoint *remote,
                          bool *eperm, char *err, size_t errlen);
/* Drop TCP to local port (local address family 0 = any address of either family). */
int hs_guard_install_listen(hs_guard *g, const hs_endpoint *local, bool *eperm, char *err, size_t errlen);
/* hs connect --count: one guard for a whole run, dropping remote -> local TCP to any
 * local port in [port_lo, port_hi] (`tcp dport A-B`), in one rule of one table named
 * as every guard (hs_<pid>_<n>). Returns 0, or -1 with err (eperm: privilege). */
int hs_guard_install_range(hs_guard *g, const hs_addr *local, uint16_t port_lo, uint16_t port_hi,
                           const hs_endpoint *remote, bool *eperm, char *err, size_t errlen);
/* Make the guard a kept one: in one nft batch, a "hs_kept_<pid>_<n>" table dropping
 * only this 4-tuple replaces g's table (g->table is renamed). Stale-guard cleanup
 * never removes a kept table. A no-op on a guard that is kept already. */
int hs_guard_keep(hs_guard *g, const hs_endpoint *local, const hs_endpoint *remote, char *err, size_t errlen);
/* Is this the name of a kept guard ("hs_kept_...")? */
bool hs_guard_is_kept_name(const char *table);
/* A kept connection's port, reserved for as long as its guard lasts: add to the
 * guard an output chain that rejects (ICMP port unreachable) a local connect()'s
 * SYN of this 4-tuple (the kernel picked the kept port as its ephemeral one), so
 * that it fails at once (ECONNREFUSED) instead of hanging. Returns 0 or -1 with err. */
int hs_guard_reserve(hs_guard *g, const hs_endpoint *local, const hs_endpoint *remote, char *err, size_t errlen);
/* Delete the table; no-op if not installed. Returns 0 or -1. */
int hs_guard_remove(hs_guard *g, char *err, size_t errlen);
/* Does this table still exist? */
bool hs_guard_exists(const char *table);
/* Is table a guard for exactly this 4-tuple: an hs name, one drop rule for remote ->
 * local (with or without the local address), nothing else? 1 yes, 0 no, -1 when the
 * table cannot be listed (gone, or no privilege). Changes nothing. */
int hs_guard_matches(const char *table, const hs_endpoint *local, const hs_endpoint *remote);
/* The comparison itself, on the text of `nft list table inet NAME`. */
bool hs_guard_listing_matches(const char *listing, const hs_endpoint *local, const hs_endpoint *remote);
/* Delete hs_* tables (never kept ones, hs_kept_*) whose owner pid is dead and whose name is not in keep[].
 * Returns the number removed, or -1. */
int hs_guard_cleanup_stale(const char *const *keep, int nkeep, char *err, size_t errlen);
/* The same, asking kept(table, arg) about each table whose owner is dead, after the
 * owners were found dead (so that a kept list read in kept() cannot predate a
 * process that kept its connection and exited meanwhile). At most 64 per call. */
int hs_guard_cleanup_dead(bool (*kept)(const char *table, void *arg), void *arg, char *err, size_t errlen);

#endif
