// cricket-runtime: the runc-compatible command line over oci/. Not implemented yet (#8).

#include <cstdio>

int main() {
  std::fputs("cricket-runtime: not implemented yet\n", stderr);
  return 1;
}
