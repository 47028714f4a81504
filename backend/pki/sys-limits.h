/*
 * sys-limits.h: the few <limits.h> constants backend/pki needs. The build
 * puts backend/ on the include path, where limits.h is certward's own file
 * of input caps, so every <limits.h> include resolves to that file -
 * OpenSSL's <openssl/err.h> then fails on INT_MAX. Including the C
 * library's header through #include_next does not help: GCC's limits.h
 * re-enters the search chain from the start and lands on ours again. So
 * the constants come from the compiler's predefined macros (GCC and clang)
 * and each file of backend/pki includes this right after config.h, before
 * any system or OpenSSL header. The C library's limits.h guards its own
 * definitions with #undef, so a later real inclusion does not conflict.
 */
#ifndef CW_PKI_SYS_LIMITS_H
#define CW_PKI_SYS_LIMITS_H

#ifndef INT_MAX
#define INT_MAX __INT_MAX__
#endif
#ifndef INT_MIN
#define INT_MIN (-__INT_MAX__ - 1)
#endif
#ifndef UINT_MAX
#define UINT_MAX (__INT_MAX__ * 2U + 1U)
#endif
#ifndef LONG_MAX
#define LONG_MAX __LONG_MAX__
#endif
#ifndef LONG_MIN
#define LONG_MIN (-__LONG_MAX__ - 1L)
#endif

#endif
