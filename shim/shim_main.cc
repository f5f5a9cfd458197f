// cricket-shim: the per-container monitor process. Not implemented yet (#5).

#include <cstdio>

int main() {
  std::fputs("cricket-shim: not implemented yet\n", stderr);
  return 1;
}
