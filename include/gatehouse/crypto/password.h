/* SPDX-License-Identifier: MIT */
/* Password hashing: scrypt (OpenSSL EVP_PBE_scrypt) in a PHC-style string,
 * and the bounded pool of threads it runs on, away from HTTP threads. */
#ifndef GATEHOUSE_PASSWORD_H
#define GATEHOUSE_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

/* Longest password accepted (bytes); longer is refused, not truncated. */
#define PASSWORD_MAX 1024

/*
 * Hashes pw with scrypt N=2^15, r=8, p=1 and a 16-byte random salt into
 * "$scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>" (standard base64 without
 * padding, as the PHC string format has it). The parameters are in the
 * string so they can be raised later. *ret is malloc'd; the caller frees it.
 * ~74 ms and 32 MiB: never call it on an HTTP thread.
 */
int password_hash(const char *pw, char **ret);

/*
 * 0 if pw matches phc (constant-time compare), GH_EDENIED if not,
 * GH_EINVAL if phc is not a string password_hash could have made.
 */
int password_verify(const char *pw, const char *phc);

/*
 * Spends the same time as a real verification and always fails with
 * GH_EDENIED: called for unknown users so that timing does not reveal
 * whether a username exists.
 */
int password_verify_dummy(const char *pw);

/*
 * Raw scrypt (RFC 7914) of pw and salt into out (outlen bytes), with at
 * most 64 MiB of memory: what the functions above run, exposed for the RFC
 * test vectors. GH_EINVAL for parameters scrypt refuses or that need more
 * memory than that.
 */
int password_scrypt_raw(const void *pw, size_t pwlen, const void *salt,
                        size_t saltlen, uint64_t n, uint64_t r, uint64_t p,
                        unsigned char *out, size_t outlen);

struct hashpool;

/*
 * Starts threads workers with room for queue_max waiting jobs. *ret is
 * owned by the caller (hashpool_stop).
 */
int hashpool_start(int threads, int queue_max, struct hashpool **ret);
/*
 * The same, but hashing at the normal scheduling policy instead of
 * SCHED_IDLE: for the few sign-ins that must get through while a flood
 * keeps every core busy (browsers returning with a device cookie, SPEC §7
 * Lockout). Keep it small: its hashes compete with the HTTP threads.
 */
int hashpool_start_urgent(int threads, int queue_max, struct hashpool **ret);
/*
 * Queues fn(arg) to run on a pool thread. GH_EBUSY when queue_max jobs are
 * already waiting (the caller answers 503 with Retry-After rather than
 * queueing without bound).
 */
int hashpool_submit(struct hashpool *p, void (*fn)(void *arg), void *arg);
/* The same, with cancel(arg) to run instead of fn if the job is shed
 * (hashpool_shed) before a worker takes it. */
int hashpool_submit_cancellable(struct hashpool *p, void (*fn)(void *arg),
                                void (*cancel)(void *arg), void *arg);
/*
 * For shutdown: refuses new jobs (GH_EBUSY) and cancels, on the calling
 * thread, every queued job that has a cancel; jobs already running, and
 * queued ones without a cancel, still run. A queue filled by a flood then
 * costs no hashing at SIGTERM.
 */
void hashpool_shed(struct hashpool *p);
/* Whether a submit now would get GH_EBUSY: lets a caller turn work away
 * before spending anything on it (a submit may still fail). */
int hashpool_full(struct hashpool *p);
/* Jobs waiting now (for metrics). */
int hashpool_queued(struct hashpool *p);
/* Runs every job already queued, then joins the threads and frees p. */
void hashpool_stop(struct hashpool *p);

#endif
