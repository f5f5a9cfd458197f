#pragma once

// FUZZ_CHECK(cond): a property every input must keep (not a parser error: those are expected).
// Aborts with the condition, so libFuzzer records the input and the corpus driver fails.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
