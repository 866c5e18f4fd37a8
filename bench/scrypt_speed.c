/* SPDX-License-Identifier: MIT */
/* The sign-in ceiling of SPEC §8: scrypt hashes per second with SPEC §7's
 * parameters (OpenSSL EVP_PBE_scrypt, N=2^15, r=8, p=1, 16-byte salt,
 * 32-byte output) on THREADS threads for about SECONDS seconds. Prints
 * {"threads":T,"hashes":H,"seconds":S,"hashes_per_s":R,"ms_per_hash":M}
 * where ms_per_hash is the time of one hash on one thread, and
 * "per_cpu_s", hashes per second of CPU time (what a machine of its own
 * would do per core, however busy this one is).
 *
 *   scrypt_speed [THREADS] [SECONDS] */
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>

#define SCRYPT_N (1u << 15)
#define SCRYPT_R 8u
#define SCRYPT_P 1u
#define SCRYPT_MAXMEM (64u * 1024 * 1024)

static double seconds = 3;
static double t0;

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
worker(void *arg)
{
    long *count = arg;
    unsigned char salt[16] = "0123456789abcdef", out[32];

    /* At least one hash, so a slow machine still gives a number. */
    do {
        if (EVP_PBE_scrypt("correct horse battery staple", 28, salt,
                           sizeof(salt), SCRYPT_N, SCRYPT_R, SCRYPT_P,
                           SCRYPT_MAXMEM, out, sizeof(out)) != 1) {
            fprintf(stderr, "scrypt_speed: EVP_PBE_scrypt failed\n");
            exit(1);
        }
        (*count)++;
    } while (now() - t0 < seconds);
    return NULL;
}

int
main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1, i;
    pthread_t *tid;
    long *counts, total = 0;
    double el;

    if (argc > 2)
        seconds = atof(argv[2]);
    if (threads < 1 || threads > 256)
        return 2;
    tid = calloc((size_t)threads, sizeof(*tid));
    counts = calloc((size_t)threads, sizeof(*counts));
    if (tid == NULL || counts == NULL)
        return 1;
    t0 = now();
    for (i = 0; i < threads; i++)
        pthread_create(&tid[i], NULL, worker, &counts[i]);
    for (i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        total += counts[i];
    }
    el = now() - t0;
    {
        struct rusage ru;
        double cpu = 0;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
            cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                  ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        printf("{\"threads\":%d,\"hashes\":%ld,\"seconds\":%.3f,"
               "\"hashes_per_s\":%.2f,\"ms_per_hash\":%.2f,"
               "\"cpu_s\":%.3f,\"per_cpu_s\":%.3f}\n",
               threads, total, el, total / el, el * 1e3 * threads / total,
               cpu, cpu > 0 ? total / cpu : 0);
    }
    return 0;
}
